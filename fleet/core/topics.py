"""The fleet's MQTT topic tree: one room's topics, built and taken apart.

Every topic of a room starts ``roboclass/v1/{site}/{room}/``; a device's
own start ``.../dev/{device}/`` (see docs/fleet-protocol.md). Ids may not
hold MQTT wildcards or slashes (:func:`valid_id`)::

    topics = Topics("school", "room1")
    topics.state("robot-07")   # 'roboclass/v1/school/room1/dev/robot-07/up/state'
    topics.parse(topics.state("robot-07"))   # Parsed(kind='state', device='robot-07', job=None, name=None)

The messages that travel on them are in :mod:`fleet.core.protocol`.
"""

from __future__ import annotations

import re
from typing import NamedTuple

__all__ = ["ID_PATTERN", "PREFIX", "Parsed", "Topics", "valid_id"]

ID_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"
_ID_RE = re.compile(ID_PATTERN)
PREFIX = "roboclass/v1"
_DOTS = frozenset({".", ".."})


def valid_id(value: str) -> bool:
    """True when ``value`` can be a site, room, device or job id (no MQTT wildcards)."""
    return _ID_RE.match(value) is not None and value not in _DOTS


class Parsed(NamedTuple):  # a tuple: made for every message, 5x quicker than a dataclass
    """A topic taken apart: ``kind`` is state/telemetry/log/preview/teach/status/result/job/cmd/estop/console."""

    kind: str
    device: str | None = None
    job: str | None = None
    name: str | None = None


class Topics:
    """The topic tree of one room: ``roboclass/v1/{site}/{room}/...``."""

    def __init__(self, site: str, room: str) -> None:
        for what, value in (("site", site), ("room", room)):
            if not valid_id(value):
                raise ValueError(f"{what} {value!r} must match {ID_PATTERN}")
        self.site = site
        self.room = room
        self.base = f"{PREFIX}/{site}/{room}"
        self._estop = f"{self.base}/estop"
        self._console_state = f"{self.base}/console/state"
        self._dev_head = f"{self.base}/dev/"  # every message of a device starts so

    def dev(self, device: str) -> str:
        if not valid_id(device):
            raise ValueError(f"device id {device!r} must match {ID_PATTERN}")
        return f"{self.base}/dev/{device}"

    def state(self, device: str) -> str:
        return f"{self.dev(device)}/up/state"

    def telemetry(self, device: str) -> str:
        return f"{self.dev(device)}/up/telemetry"

    def log(self, device: str) -> str:
        return f"{self.dev(device)}/up/log"

    def preview(self, device: str) -> str:
        return f"{self.dev(device)}/up/preview"

    def teach(self, device: str) -> str:
        return f"{self.dev(device)}/up/teach"

    def status(self, device: str, job: str) -> str:
        return f"{self.dev(device)}/up/jobs/{job}/status"

    def result(self, device: str, job: str) -> str:
        return f"{self.dev(device)}/up/jobs/{job}/result"

    def job(self, device: str, job: str) -> str:
        return f"{self.dev(device)}/down/jobs/{job}"

    def cmd(self, device: str, name: str) -> str:
        return f"{self.dev(device)}/down/cmd/{name}"

    def reassign(self, device: str) -> str:
        return f"{self.dev(device)}/down/reassign"

    @property
    def estop(self) -> str:
        return self._estop

    @property
    def console_state(self) -> str:
        return self._console_state

    @property
    def all_up(self) -> str:
        """What the console subscribes to."""
        return f"{self.base}/dev/+/up/#"

    def device_subscriptions(self, device: str) -> list[str]:
        """What a device subscribes to: its own ``down/``, the e-stop and the console's state."""
        return [f"{self.dev(device)}/down/#", self.estop, self.console_state]

    def parse(self, topic: str) -> Parsed | None:  # noqa: PLR0911 - one line per topic shape
        """Take a topic of this room apart, or ``None`` for anything else."""
        if topic == self._estop:
            return Parsed("estop")
        if topic == self._console_state:
            return Parsed("console")
        head = self._dev_head
        if not topic.startswith(head):
            return None
        parts = topic[len(head) :].split("/")
        if not parts or not valid_id(parts[0]):
            return None
        device, rest = parts[0], parts[1:]
        match rest:
            case ["up", ("state" | "telemetry" | "log" | "preview" | "teach") as kind]:
                return Parsed(kind, device)
            case ["up", "jobs", job, ("status" | "result") as kind] if valid_id(job):
                return Parsed(kind, device, job)
            case ["down", "jobs", job] if valid_id(job):
                return Parsed("job", device, job)
            case ["down", "cmd", name] if valid_id(name):
                return Parsed("cmd", device, name=name)
            case ["down", "reassign"]:
                return Parsed("reassign", device)
        return None
