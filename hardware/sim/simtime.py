"""Clock functions that run on sim time, for unchanged student code.

In fast mode the sim runner gives the student's process these in place of
``time.sleep``, ``time.monotonic``, ``time.time`` and ``time.perf_counter``:
a ``sleep(0.1)`` steps the world by 0.1 s at once instead of waiting, so a
60-second lesson finishes in a few wall seconds. With a :class:`Pacer` the
same functions run at wall-clock speed (real-time mode)::

    clock = SimTime(world, dt=0.01)
    clock.sleep(1.0)           # 100 world steps
    clock.monotonic()          # 1.0
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from hardware.sim.clock import Pacer
from hardware.sim.errors import SimValueError

if TYPE_CHECKING:
    from hardware.sim.world import World

__all__ = ["SimTime"]


class SimTime:
    """``sleep``/``monotonic``/``time``/``perf_counter`` (and ``_ns`` forms) on the world's clock.

    ``time()`` is ``epoch`` plus sim seconds; ``epoch`` defaults to the wall
    time when this object is made (pass a fixed one for runs that must repeat).
    ``on_step`` runs before every world step (e.g. to log telemetry).
    """

    def __init__(
        self,
        world: World,
        dt: float = 0.01,
        epoch: float | None = None,
        pacer: Pacer | None = None,
        on_step: Callable[[World], object] | None = None,
    ) -> None:
        if not (math.isfinite(dt) and dt > 0):
            raise SimValueError(f"dt must be > 0 seconds, not {dt!r}")
        self.world = world
        self.dt = dt
        self.epoch = time.time() if epoch is None else epoch
        self.pacer = pacer
        self.on_step = on_step

    def sleep(self, seconds: float) -> None:
        """Advance the world by ``seconds`` in steps of at most ``dt``."""
        if not math.isfinite(seconds) or seconds < 0:
            raise SimValueError(f"sleep length must be a non-negative number, not {seconds!r}")
        clock = self.world.clock
        target = clock.ns + round(seconds * 1e9)
        step_ns = round(self.dt * 1e9)
        while clock.ns < target:
            if self.on_step is not None:
                self.on_step(self.world)
            self.world.step(min(step_ns, target - clock.ns) / 1e9)
            if self.pacer is not None:
                if self.pacer.closed:
                    return
                self.pacer.wait()

    def monotonic(self) -> float:
        return self.world.clock.time

    def monotonic_ns(self) -> int:
        return self.world.clock.ns

    perf_counter = monotonic
    perf_counter_ns = monotonic_ns

    def time(self) -> float:
        return self.epoch + self.world.clock.time

    def time_ns(self) -> int:
        return round(self.epoch * 1e9) + self.world.clock.ns
