"""What a robot may ask of its world: a narrow, read-only view.

A :class:`~hardware.sim.body.Body` moves by asking its view what it would
hit and which zones and gates it is in; its :class:`~hardware.sim.sensors.Sensors`
and cameras read echoes, the floor and the scene through the same view. None
of them sees the world itself, its lists or its lock::

    view = WorldView(world)
    with view.held():                       # the world does not move meanwhile
        hits, cosine = view.beam((1.0, 1.0), directions, 4.0, exclude=body)

The view owns how it locks: each query is safe on its own, and
:meth:`WorldView.held` keeps the world still for a reading made of several
queries (a pose, then an echo, then noise).

:class:`WorldView` is the one implementation; :class:`MotionView`,
:class:`CameraView` and :class:`SensorView` are what each user may ask (the
body holds its view as a ``MotionView``, so mypy keeps it to moving).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Protocol

import numpy as np
from numpy.typing import NDArray

from hardware.sim.floor import FloorMap
from hardware.sim.model import CheckpointModel, NoiseModel
from hardware.sim.scene import Scene

if TYPE_CHECKING:
    from hardware.sim.body import Body
    from hardware.sim.world import World

__all__ = ["CameraView", "MotionView", "SensorView", "WorldView"]


class MotionView(Protocol):
    """What a body asks of its world while it moves."""

    @property
    def noise(self) -> NoiseModel: ...
    @property
    def seed(self) -> int: ...
    @property
    def slip(self) -> float: ...
    @property
    def checkpoints(self) -> Sequence[CheckpointModel]: ...
    def hit(
        self, body: Body, x: float, y: float, heading_deg: float = 0.0, margin: float = 0.0
    ) -> str | None: ...
    def zones_at(self, x: float, y: float) -> frozenset[str]: ...
    def gates_crossed(self, x0: float, y0: float, x1: float, y1: float) -> list[int]: ...


class CameraView(Protocol):
    """What a camera asks of its world to draw a frame."""

    def held(self) -> AbstractContextManager[object]: ...
    @property
    def floor(self) -> FloorMap: ...
    @property
    def scene(self) -> Scene: ...
    def others(self, body: Body) -> list[Body]: ...
    def state_key(self) -> tuple[object, ...]: ...


class SensorView(CameraView, Protocol):
    """What a robot's sensors (its cameras among them) ask of its world."""

    @property
    def time(self) -> float: ...
    @property
    def noise(self) -> NoiseModel: ...
    @property
    def seed(self) -> int: ...
    def beam(
        self,
        origin: tuple[float, float],
        directions: NDArray[np.float64],
        max_range: float,
        exclude: Body,
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]: ...
    def floor_sample(self, points: list[list[float]], spot: float) -> list[float]: ...


class WorldView:
    """The read-only queries a body, its sensors and its cameras make of ``world``."""

    __slots__ = ("_world",)

    def __init__(self, world: World) -> None:
        self._world = world

    def held(self) -> AbstractContextManager[object]:
        """Keep the world still (no step runs) while the block reads it; re-entrant."""
        return self._world.lock

    # -- time and the world's settings -------------------------------------------
    @property
    def time(self) -> float:
        """Sim seconds since the start."""
        return self._world.clock.time

    @property
    def time_ns(self) -> int:
        """Sim nanoseconds since the start (exact: a cache key)."""
        return self._world.clock.ns

    @property
    def noise(self) -> NoiseModel:
        """The world's noise settings (all zero: a perfect robot)."""
        return self._world.model.noise

    @property
    def seed(self) -> int:
        """The world's noise seed."""
        return self._world.model.noise.seed

    @property
    def slip(self) -> float:
        """The floor's mean wheel slip, 0..1."""
        return self._world.model.floor.slip

    @property
    def checkpoints(self) -> Sequence[CheckpointModel]:
        """The world's checkpoint gates, in lap order."""
        return self._world.model.checkpoints

    # -- movement ------------------------------------------------------------------
    def hit(
        self, body: Body, x: float, y: float, heading_deg: float = 0.0, margin: float = 0.0
    ) -> str | None:
        """What ``body`` (grown by ``margin`` metres) would overlap at this pose, or ``None``."""
        return self._world.hit(body, x, y, heading_deg, margin)

    def zones_at(self, x: float, y: float) -> frozenset[str]:
        """Names of the zones that contain the point (x, y)."""
        return self._world.zones_at(x, y)

    def gates_crossed(self, x0: float, y0: float, x1: float, y1: float) -> list[int]:
        """Indexes of the checkpoints that the move (x0, y0) -> (x1, y1) goes through."""
        return self._world.gates_crossed(x0, y0, x1, y1)

    # -- sensing -------------------------------------------------------------------
    def beam(
        self,
        origin: tuple[float, float],
        directions: NDArray[np.float64],
        max_range: float,
        exclude: Body,
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Each ray's distance to the first solid thing or other robot (``max_range`` if none),
        and the cosine between the ray and the surface it meets."""
        world = self._world
        with world.lock:
            return world.obstacles.beam_hits(
                origin, directions, max_range, world.robot_circles(exclude)
            )

    def floor_sample(self, points: list[list[float]], spot: float) -> list[float]:
        """Floor brightness 0..1 averaged over a ``spot`` (m) round each point."""
        return self._world.floor.sample_few(points, spot)

    @property
    def floor(self) -> FloorMap:
        """The floor as an image (read it, never draw on it)."""
        return self._world.floor

    @property
    def scene(self) -> Scene:
        """The upright faces a camera sees."""
        return self._world.scene

    def others(self, body: Body) -> list[Body]:
        """Every robot but ``body``."""
        return [b for b in self._world.robots if b is not body]

    def state_key(self) -> tuple[object, ...]:
        """Changes whenever anything a camera sees may have: the time and every robot's pose."""
        world = self._world
        return (world.clock.ns, *(tuple(b.pose) for b in world.robots))
