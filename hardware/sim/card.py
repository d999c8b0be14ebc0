"""A card held up in front of a simulated robot's camera: how a student teaches a sim robot.

A student cannot hold a real sign in front of a simulated camera, so the
teach panel offers the lesson's signs as cards. While a card is held,
:meth:`CardHolder.read` renders what the robot's camera sees: that sign on a
wall straight ahead, as in the "Drive by your own signs" route (the same sign
size, height, wall and floor), from a slightly different distance, angle and
light each time, so no two pictures are the same::

    holder = CardHolder(CameraSpec(width=320, height=240, tilt_deg=-15), seed=1)
    frame = holder.read("stop")       # 240 x 320 x 3 uint8 BGR

The robot stands where the lesson's program stops to read a sign: its
distance sensor 0.30-0.46 m from the wall (the program stops at 0.4 m, and
coasts a little).
"""

from __future__ import annotations

import threading

import numpy as np
from numpy.typing import NDArray

from hardware.sim.errors import SimValueError
from hardware.sim.specs import BodySpec, CameraSpec, Pose
from hardware.sim.world import World

__all__ = ["CARD_KINDS", "CardHolder"]

#: The signs of "Teach your robot" and "Drive by your own signs".
CARD_KINDS = ("stop", "left", "right")
_SIZE = (3.0, 1.6)
_WALL_X = 3.0  # the east wall; the sign hangs on it, as sign 3 of the route does
_SIGN_Y = 0.8
_SENSOR_X = 0.07  # the sim kit's distance sensor, ahead of the robot's centre
_NEAR, _FAR = 0.30, 0.46  # the distance sensor's reading where the program stops


class CardHolder:
    """Renders the card a student holds up, seen by a camera made like ``camera``."""

    def __init__(
        self, camera: CameraSpec, *, seed: int | None = None, kinds: tuple[str, ...] = CARD_KINDS
    ) -> None:
        self.camera = camera
        self.kinds = kinds
        self._rng = np.random.default_rng(seed)
        self._worlds: dict[str, World] = {}
        self._lock = threading.Lock()

    def _world(self, kind: str) -> World:
        world = self._worlds.get(kind)
        if world is None:
            world = World.empty(
                *_SIZE,
                border={"height": 0.3, "colour": "#b8b0a0"},
                floor={"colour": "#d8d4cc", "grain": 0.03, "seed": 11},
                signs=[
                    {
                        "kind": kind,
                        "at": (_WALL_X - 0.02, _SIGN_Y),
                        "facing": 180.0,
                        "size": 0.12,
                        "elevation": 0.01,
                        "pole": False,
                    }
                ],
            )
            self._worlds[kind] = world
        return world

    def read(self, kind: str) -> NDArray[np.uint8]:
        """One picture of the card ``kind`` (one of :attr:`kinds`)."""
        if kind not in self.kinds:
            raise SimValueError(f"no card {kind!r}: the cards are {', '.join(self.kinds)}")
        with self._lock:  # one world per card, its robot moved for every picture
            rng = self._rng
            world = self._world(kind)
            reading = float(rng.uniform(_NEAR, _FAR))
            x = _WALL_X - _SENSOR_X - reading
            y = _SIGN_Y + float(rng.uniform(-0.05, 0.05))
            heading = float(rng.uniform(-6.0, 6.0))
            if not world.robots:
                world.add_robot(BodySpec(), Pose(x, y, heading))
            body = world.robots[0]
            body.teleport(Pose(x, y, heading))
            c = self.camera
            spec = CameraSpec(
                width=c.width,
                height=c.height,
                fov_deg=c.fov_deg,
                height_m=c.height_m,
                tilt_deg=c.tilt_deg + float(rng.uniform(-2.0, 2.0)),
                x=c.x,
                y=c.y,
                angle=c.angle,
                brightness=c.brightness * float(rng.uniform(0.8, 1.15)),
                light_variation=0.05,
                blur_px=float(rng.uniform(0.0, 0.6)),
                noise=float(rng.uniform(0.0, 3.0)),
                seed=int(rng.integers(1 << 30)),
            )
            frame = body.sensors.camera(spec).read()
        return np.asarray(frame, np.uint8)
