"""Simulated time for unchanged student code.

Under the sim runner, ``time.sleep``, ``time.monotonic``, ``time.time`` and
``time.perf_counter`` in the student's process follow the simulator's clock:
``time.sleep(60)`` steps the world by a minute in a few milliseconds. The
runner calls :func:`install` before the student's script starts; the
simulator backend attaches its clock when the student creates a robot.
Before that, sleeping just moves the clock on.

Only the runner's child process is changed, never a normal program.
"""

from __future__ import annotations

import logging
import math
import threading
import time as _time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["SimTime", "SimTimeUp", "active", "install", "uninstall", "wall_clock"]

logger = logging.getLogger(__name__)

_ORIGINAL = {
    name: getattr(_time, name)
    for name in (
        "sleep",
        "monotonic",
        "monotonic_ns",
        "perf_counter",
        "perf_counter_ns",
        "time",
        "time_ns",
    )
}


class SimTimeUp(BaseException):
    """The run's simulated time is over; ends the student's program like Ctrl+C would.

    A ``BaseException``, so a student's ``except Exception`` does not swallow it.
    """


@dataclass
class _Clock:
    read: Callable[[], float]
    sleep: Callable[[float], None]


class SimTime:
    """The clock that replaces the time module's; see :func:`install`."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._epoch = _ORIGINAL["time"]()  # wall time when the run started
        self._before = 0.0  # seconds slept before a robot existed
        self._clock: _Clock | None = None
        self._base = 0.0  # sim clock reading when it was attached

    def attach(self, read: Callable[[], float], sleep: Callable[[float], None]) -> None:
        """Follow a simulator clock from now on (one at a time)."""
        with self._lock:
            if self._clock is not None:
                self._before = self.elapsed()
            self._clock = _Clock(read, sleep)
            self._base = read()

    def detach(self) -> None:
        with self._lock:
            if self._clock is not None:
                self._before = self.elapsed()
                self._clock = None

    def elapsed(self) -> float:
        """Sim seconds since the run started."""
        with self._lock:
            extra = self._clock.read() - self._base if self._clock else 0.0
            return float(self._before + extra)

    def sleep(self, seconds: float) -> None:
        if not isinstance(seconds, int | float) or math.isnan(seconds):
            raise TypeError(f"sleep needs a number of seconds, not {seconds!r}")
        if seconds < 0:
            raise ValueError("sleep length must be non-negative")
        clock = self._clock
        if clock is not None:
            clock.sleep(float(seconds))
        else:
            with self._lock:
                self._before += float(seconds)

    def monotonic(self) -> float:
        return 1000.0 + float(self.elapsed())

    def time(self) -> float:
        return float(self._epoch) + self.elapsed()


_active: SimTime | None = None


def active() -> SimTime | None:
    """The installed sim time, or ``None`` in a normal program."""
    return _active


def install() -> SimTime:
    """Make this process's time module follow the simulator (the sim runner's child only)."""
    global _active  # noqa: PLW0603 - one per process, by design
    if _active is not None:
        return _active
    sim = SimTime()
    _time.sleep = sim.sleep  # type: ignore[assignment]
    _time.monotonic = sim.monotonic
    _time.perf_counter = sim.monotonic
    _time.time = sim.time
    _time.monotonic_ns = lambda: int(sim.monotonic() * 1e9)
    _time.perf_counter_ns = lambda: int(sim.monotonic() * 1e9)
    _time.time_ns = lambda: int(sim.time() * 1e9)
    _active = sim
    logger.info("time now follows the simulator")
    return sim


def uninstall() -> None:
    """Give the time module its own functions back."""
    global _active  # noqa: PLW0603
    for name, function in _ORIGINAL.items():
        setattr(_time, name, function)
    _active = None


def wall_clock() -> float:
    """The real monotonic clock, even under sim time (for run statistics)."""
    return float(_ORIGINAL["monotonic"]())
