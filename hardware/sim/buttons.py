"""Buttons on a simulated robot that a test or lesson script presses.

::

    robot.sensors.buttons.press("a", hold=0.2)   # released again after 0.2 sim seconds
    robot.sensors.buttons.is_pressed("a")         # True
    robot.sensors.buttons.presses("a")            # 1
"""

from __future__ import annotations

import math

from hardware.sim.clock import SimClock
from hardware.sim.errors import SimValueError

__all__ = ["Buttons"]


class Buttons:
    """Any button name works; a button nobody pressed is released."""

    def __init__(self, clock: SimClock) -> None:
        self._clock = clock
        self._down: dict[str, float] = {}  # name -> sim time to release (inf: held)
        self._count: dict[str, int] = {}

    def press(self, name: str, hold: float | None = None) -> None:
        """Press ``name``; with ``hold`` it is released after that many sim seconds."""
        if hold is not None and not (math.isfinite(hold) and hold > 0):
            raise SimValueError(f"hold must be > 0 seconds, not {hold!r}")
        if name not in self._down:
            self._count[name] = self._count.get(name, 0) + 1
        self._down[name] = math.inf if hold is None else self._clock.time + hold

    def release(self, name: str) -> None:
        self._down.pop(name, None)

    def is_pressed(self, name: str) -> bool:
        return name in self._down

    def presses(self, name: str) -> int:
        """How many times ``name`` went down since the start."""
        return self._count.get(name, 0)

    @property
    def pressed(self) -> frozenset[str]:
        return frozenset(self._down)

    def tick(self) -> None:
        """Release buttons whose hold time is over (the world calls this after each step)."""
        now = self._clock.time
        for name in [n for n, until in self._down.items() if until <= now + 1e-12]:
            del self._down[name]
