"""The room's e-stop as one robot holds it: stopped until a clear with a newer epoch.

The console sends the e-stop retained on the room's ``estop`` topic, with an
``epoch`` that grows with every stop and every clear. The latch keeps the
newest epoch it has seen and whether it is stopped, on disk (a restarted
agent is still stopped), and ignores anything older::

    latch = EStopLatch(outbox, on_stop=stop_everything, on_clear=clear_the_stop)
    latch.apply(EStop(active=True, epoch=3, by="ms-li", ts=now))   # Change.STOPPED
    latch.apply(EStop(active=False, epoch=2, by="ms-li", ts=now))  # Change.STALE: still stopped
    latch.apply(EStop(active=False, epoch=4, by="ms-li", ts=now))  # Change.CLEARED
    latch.wait_clear(1.0)

``on_stop`` runs before anything is written (the robot stops first);
:attr:`EStopLatch.active` reads without a lock, so the job worker and the
robot lease may ask while holding their own.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from enum import StrEnum
from typing import Protocol

from fleet.core.protocol import EStop

__all__ = ["Change", "EStopLatch", "Settings"]

logger = logging.getLogger(__name__)

#: Where the latch keeps itself (``epoch:active``) in the agent's settings.
KEY = "estop"


class Settings(Protocol):
    """Small saved settings (the agent's :class:`~fleet.agent.outbox.Outbox` is one)."""

    def get_meta(self, key: str) -> str | None: ...

    def set_meta(self, key: str, value: str) -> None: ...


class Change(StrEnum):
    """What an e-stop message did to the latch."""

    #: An older epoch than the latch's: ignored (and worth counting).
    STALE = "stale"
    #: A clear of the epoch the latch already has: nothing to do.
    SAME = "same"
    #: Stopped now (it was not).
    STOPPED = "stopped"
    #: Stopped again (a newer stop, or the retained one once more on a new connection).
    HELD = "held"
    #: Cleared by a newer epoch: jobs may run again.
    CLEARED = "cleared"


class EStopLatch:
    """The e-stop's epoch and state for one robot; every method is thread-safe."""

    def __init__(
        self,
        settings: Settings,
        *,
        on_stop: Callable[[EStop], None] | None = None,
        on_clear: Callable[[EStop], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._settings = settings
        self._on_stop = on_stop
        self._on_clear = on_clear
        self._clock = clock
        self._lock = threading.Lock()
        self._cleared = threading.Condition(self._lock)
        self._epoch, self._active = self._load()
        #: When (``clock``) it last became stopped; None: not since it was made.
        self.stopped_at: float | None = None

    def _load(self) -> tuple[int, bool]:
        saved = self._settings.get_meta(KEY)
        if saved is None:
            return 0, False
        epoch, active = saved.split(":")
        return int(epoch), active == "1"

    @property
    def active(self) -> bool:
        """True while stopped (read without a lock)."""
        return self._active

    @property
    def epoch(self) -> int:
        return self._epoch

    def apply(self, msg: EStop) -> Change:
        """Take an e-stop message: act on it (``on_stop`` / ``on_clear``), then save it."""
        with self._lock:
            if msg.epoch < self._epoch:
                return Change.STALE
            if msg.epoch == self._epoch and not msg.active:
                return Change.SAME
            self._epoch = msg.epoch
            change = Change.CLEARED
            if msg.active:
                change = Change.HELD if self._active else Change.STOPPED
            self._active = msg.active  # before on_stop: a job that starts now sees it
            try:
                hook = self._on_stop if msg.active else self._on_clear
                if hook is not None:
                    hook(msg)
            finally:  # a hook that failed changes nothing about the latch
                if change is Change.STOPPED:
                    self.stopped_at = self._clock()
                elif change is Change.CLEARED:
                    self._cleared.notify_all()
                self._settings.set_meta(KEY, f"{self._epoch}:{int(self._active)}")
        # said after the lock: a log handler's own lock is no reason to hold up the others
        if change is Change.STOPPED:
            logger.warning("e-stop (epoch %d) by %s", msg.epoch, msg.by)
        elif change is Change.CLEARED:
            logger.info("e-stop cleared (epoch %d) by %s", msg.epoch, msg.by)
        return change

    def wait_clear(self, timeout: float | None = None) -> bool:
        """Wait until the latch is not stopped (at most ``timeout`` s); True if so."""
        with self._cleared:
            return self._cleared.wait_for(lambda: not self._active, timeout)

    def forget(self) -> None:
        """Back to epoch 0, not stopped: the robot moves to a room that counts its own epochs.

        (The caller forgets the saved settings of the room as a whole.)
        """
        with self._lock:
            self._epoch, self._active = 0, False
            self._cleared.notify_all()
