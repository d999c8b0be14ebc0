"""Which robots' certificates are in use on two computers at once.

The classroom broker makes a certificate's name the client id, and lets one
connection per client id: a second computer with robot-01's certificate
pushes the robot off, the robot's agent reconnects and pushes the other one
off, and so on. The console sees it two ways:

- the robot's agent says so: its telemetry carries ``pushed_off``, how often
  the broker closed its connection and took it back at once in the last
  minute (:data:`fleet.core.link.PUSHED_OFF_TIMES` or more is no chance);
- births come from two sessions in turn: every agent start has a fresh
  session, so a session born again after another one was is a second agent
  with the same certificate.

::

    watch = IdentityWatch()
    watch.born("robot-01", "a1"); watch.born("robot-01", "b2"); watch.born("robot-01", "a1")
    watch.clashing("robot-01")      # True: the room card says so for SHOWN_S
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from fleet.core.link import PUSHED_OFF_TIMES, PUSHED_OFF_WINDOW_S

__all__ = ["SESSIONS_KEPT", "SHOWN_S", "IdentityWatch"]

logger = logging.getLogger(__name__)

#: A device's recent sessions remembered (a session born again among them is a clash).
SESSIONS_KEPT = 8
#: How long the card says "another computer ..." after the last sign of it (s).
SHOWN_S = 2 * PUSHED_OFF_WINDOW_S


@dataclass
class _Seen:
    current: str | None = None
    #: session -> when it was last born (monotonic)
    sessions: OrderedDict[str, float] = field(default_factory=OrderedDict)
    clash_at: float | None = None


class IdentityWatch:
    """Signs that two computers use one robot's certificate, per device, in memory."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._devices: dict[str, _Seen] = {}

    def born(self, device: str, session: str) -> None:
        """A birth of ``device``'s ``session`` (the console's ``up/state``, online)."""
        now = self._clock()
        with self._lock:
            seen = self._devices.setdefault(device, _Seen())
            last = seen.sessions.get(session)
            back = (
                seen.current not in (None, session) and last is not None and now - last <= SHOWN_S
            )
            seen.current = session
            seen.sessions[session] = now
            seen.sessions.move_to_end(session)
            while len(seen.sessions) > SESSIONS_KEPT:
                seen.sessions.popitem(last=False)
        if back:
            self._clash(device, f"session {session} came back after another one")

    def reported(self, device: str, pushed_off: int) -> None:
        """``device``'s agent was pushed off the broker ``pushed_off`` times lately."""
        if pushed_off >= PUSHED_OFF_TIMES:
            self._clash(device, f"its agent was pushed off {pushed_off} times in a minute")

    def _clash(self, device: str, why: str) -> None:
        now = self._clock()
        with self._lock:
            seen = self._devices.setdefault(device, _Seen())
            new = seen.clash_at is None or now - seen.clash_at > SHOWN_S
            seen.clash_at = now
        if new:
            logger.warning("another computer is using %s's certificate (%s)", device, why)

    def clashing(self, device: str) -> bool:
        """True while the card should say another computer is using ``device``'s certificate."""
        with self._lock:
            seen = self._devices.get(device)
            at = None if seen is None else seen.clash_at
        return at is not None and self._clock() - at <= SHOWN_S

    def sessions(self, device: str) -> list[str]:
        """``device``'s recent sessions, oldest born first."""
        with self._lock:
            seen = self._devices.get(device)
            return [] if seen is None else list(seen.sessions)

    def forget(self, device: str) -> None:
        with self._lock:
            self._devices.pop(device, None)
