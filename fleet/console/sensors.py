"""A robot's telemetry as the console keeps it: the newest message, with the running job's
live sensor values (``sensor.*``, :mod:`fleet.agent.sensors`) kept until new ones come.

A job's last values arrive in one telemetry message just before its result; the robot's
next, idle message has none. Kept here, a student's page that looks a moment later still
sees them; ``sensor_seq`` counts the messages that brought values, so a page sees each new
set once, even when the values are the same as before::

    telemetry[device] = with_sensors(telemetry.get(device), msg.values, msg.ts)
"""

from __future__ import annotations

from typing import Any

__all__ = ["PREFIX", "SEQ", "with_sensors"]

PREFIX = "sensor."
SEQ = "sensor_seq"


def with_sensors(old: dict[str, Any] | None, values: dict[str, Any], ts: float) -> dict[str, Any]:
    """The telemetry to keep: ``values`` (and ``ts``), the old sensor values when ``values``
    has none, and the count of messages that brought sensor values."""
    new: dict[str, Any] = {"ts": ts, **values}
    seq = int((old or {}).get(SEQ, 0))
    if any(key.startswith(PREFIX) for key in values):
        new[SEQ] = seq + 1
    elif old is not None:
        new.update({k: v for k, v in old.items() if k.startswith(PREFIX)})
        new[SEQ] = seq
    return new
