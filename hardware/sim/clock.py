"""Sim time, and pacing it to the wall clock for students who watch.

Sim time is kept in whole nanoseconds, so 100 steps of 0.01 s are exactly
1.0 s and a run repeats bit for bit. In fast mode nobody waits; in real-time
mode a :class:`Pacer` holds the stepping loop back to wall-clock speed::

    pacer = Pacer(world.clock)
    while running:
        world.step(0.01)
        pacer.wait()        # returns at once if the sim is behind
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable

from hardware.sim.errors import SimValueError
from rcbase.closeable import Closeable

__all__ = ["Pacer", "SimClock"]

log = logging.getLogger(__name__)


class SimClock:
    """Seconds since the world started, advanced only by the world's ``step``."""

    def __init__(self) -> None:
        self._ns = 0

    @property
    def time(self) -> float:
        """Sim seconds."""
        return self._ns / 1e9

    @property
    def ns(self) -> int:
        """Sim nanoseconds (exact)."""
        return self._ns

    def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds`` (rounded to the nanosecond)."""
        if not (math.isfinite(seconds) and seconds >= 0):
            raise SimValueError(f"time step must be >= 0 seconds, not {seconds!r}")
        self._ns += round(seconds * 1e9)


class Pacer(Closeable):
    """Keeps sim time from running ahead of the wall clock (``speed`` x real time).

    ``wait()`` blocks until the wall clock catches up with the sim clock and
    returns how far the sim lags behind (seconds, 0 when on time). ``close()``
    releases a waiting thread at once. ``monotonic`` can be replaced in tests.
    """

    def __init__(
        self,
        clock: SimClock,
        speed: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if not (math.isfinite(speed) and speed > 0):
            raise SimValueError(f"speed must be > 0, not {speed!r}")
        self._clock = clock
        self._speed = speed
        self._monotonic = monotonic
        self._stop = threading.Event()
        self._wall0 = monotonic()
        self._sim0 = clock.time

    def _close(self) -> None:
        """Stop pacing; a ``wait()`` in progress returns now."""
        self._stop.set()

    def wall_delay(self) -> float:
        """Seconds until the wall clock reaches the sim clock (negative: the sim is behind)."""
        due = self._wall0 + (self._clock.time - self._sim0) / self._speed
        return due - self._monotonic()

    def wait(self) -> float:
        delay = self.wall_delay()
        if delay > 0 and not self._stop.is_set():
            self._stop.wait(delay)
            return 0.0
        if delay < -0.25:
            log.debug("sim is %.2f s behind real time", -delay)
        return max(0.0, -delay)
