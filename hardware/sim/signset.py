"""Pictures of signs as the robot's camera sees them, for training a sign classifier.

Each picture is a crop around one sign rendered by the sim camera from a
random distance, angle and height, on a random floor and wall, with random
lighting, blur, noise and JPEG artefacts. The same seed gives the same
pictures::

    from hardware.sim.signset import sign_views
    for label, image in sign_views(per_kind=200, size=64, seed=1):
        ...   # label is one of SIGN_KINDS, image is 64 x 64 x 3 uint8 BGR
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

import numpy as np
from numpy.typing import NDArray

from hardware.sim.camera import SimCamera
from hardware.sim.errors import SimValueError
from hardware.sim.specs import BodySpec, CameraSpec, Pose
from hardware.sim.textures import SIGN_KINDS
from hardware.sim.world import World
from rcbase.resize import resize

__all__ = ["sign_views"]

Image = NDArray[np.uint8]
_SIGN_AT = (1.5, 1.5)
_SIGN_SIZE = 0.1
_ELEVATION = 0.05


def _world(kind: str, rng: np.random.Generator) -> World:
    floor = "#{:02x}{:02x}{:02x}".format(*(int(v) for v in rng.integers(60, 240, 3)))
    wall = "#{:02x}{:02x}{:02x}".format(*(int(v) for v in rng.integers(80, 250, 3)))
    return World.empty(
        3.0,
        3.0,
        border={"height": 0.4, "colour": wall},
        resolution_mm=20,
        floor={
            "colour": floor,
            "grain": float(rng.uniform(0.0, 0.08)),
            "seed": int(rng.integers(1 << 30)),
        },
        signs=[
            {
                "kind": kind,
                "at": _SIGN_AT,
                "facing": 180.0,
                "size": _SIGN_SIZE,
                "elevation": _ELEVATION,
            }
        ],
    )


def _crop(frame: Image, cam: SimCamera, size: int, rng: np.random.Generator) -> Image | None:
    x = _SIGN_AT[0] - 0.014
    y0, y1 = _SIGN_AT[1] - _SIGN_SIZE / 2, _SIGN_AT[1] + _SIGN_SIZE / 2
    z0, z1 = _ELEVATION, _ELEVATION + _SIGN_SIZE
    corners = np.array([[x, y0, z0], [x, y1, z0], [x, y1, z1], [x, y0, z1]])
    uv, depth = cam.project(corners)
    if (depth <= 0.05).any():
        return None
    (u0, v0), (u1, v1) = uv.min(axis=0), uv.max(axis=0)
    side = max(u1 - u0, v1 - v0) * float(rng.uniform(1.1, 1.4))
    cu = (u0 + u1) / 2 + side * float(rng.uniform(-0.06, 0.06))
    cv = (v0 + v1) / 2 + side * float(rng.uniform(-0.06, 0.06))
    h, w = frame.shape[:2]
    a, b = round(cu - side / 2), round(cv - side / 2)
    s = max(8, round(side))
    if a < 0 or b < 0 or a + s > w or b + s > h:
        return None
    return np.asarray(resize(frame[b : b + s, a : a + s], (size, size)), np.uint8)


def sign_views(
    per_kind: int,
    size: int = 64,
    seed: int = 0,
    *,
    kinds: Sequence[str] = SIGN_KINDS,
    distance: tuple[float, float] = (0.25, 1.0),
    camera: CameraSpec | None = None,
) -> Iterator[tuple[str, Image]]:
    """Yield ``per_kind`` labelled crops (``size`` x ``size`` BGR) of each sign kind."""
    if per_kind < 1 or size < 8 or not 0 < distance[0] <= distance[1]:
        raise SimValueError("sign_views needs per_kind >= 1, size >= 8 and 0 < near <= far")
    base = camera or CameraSpec(width=320, height=240)
    for k, kind in enumerate(kinds):
        rng = np.random.default_rng([seed, k])
        made = 0
        while made < per_kind:
            # a new floor and walls for every picture, so the background says nothing of the sign
            world = _world(kind, rng)
            robot = world.add_robot(BodySpec(), Pose(0.5, 1.5, 0.0))
            d = float(rng.uniform(*distance))
            side = math.radians(
                float(rng.uniform(-35, 35))
            )  # where the robot stands around the sign
            bearing = (
                float(rng.uniform(-0.35, 0.35)) * base.fov_deg
            )  # where the sign is in the view
            x, y = _SIGN_AT[0] - d * math.cos(side), _SIGN_AT[1] - d * math.sin(side)
            heading = math.degrees(math.atan2(_SIGN_AT[1] - y, _SIGN_AT[0] - x)) - bearing
            robot.teleport(Pose(x, y, heading))
            spec = CameraSpec(
                width=base.width,
                height=base.height,
                fov_deg=base.fov_deg,
                height_m=float(rng.uniform(0.06, 0.16)),
                tilt_deg=float(rng.uniform(-20, 5)),
                x=0.0,
                brightness=float(rng.uniform(0.6, 1.3)),
                light_variation=0.15,
                blur_px=float(rng.uniform(0.0, 1.2)),
                noise=float(rng.uniform(0.0, 6.0)),
                jpeg_quality=int(rng.integers(55, 96)),
                seed=int(rng.integers(1 << 30)),
            )
            cam = robot.sensors.camera(spec)
            crop = _crop(cam.read(), cam, size, rng)
            if crop is not None:
                made += 1
                yield kind, crop
