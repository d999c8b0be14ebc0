"""The world seen from above: floor, solid things, signs, markers, checkpoints, robots, trails, rays."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import cv2
import numpy as np
from numpy.typing import NDArray

from hardware.sim.colour import bgr
from hardware.sim.obstacles import POLE_RADIUS, border_walls, box_corners, wall_corners
from hardware.sim.raster import SHIFT
from hardware.sim.textures import sign_colour

if TYPE_CHECKING:
    from hardware.sim.body import Body
    from hardware.sim.world import World

__all__ = ["render_topdown"]

Image = NDArray[np.uint8]
Points = NDArray[np.float64]
_RAY = (0, 200, 255)
_TRAIL = (0, 140, 255)
_OUTLINE = (40, 40, 40)
_WHITE = (255, 255, 255)
_ONE = 1 << SHIFT


class _Canvas:
    """The floor image scaled to fit, with world-to-pixel helpers (fixed point for OpenCV)."""

    def __init__(self, world: World, max_px: int) -> None:
        floor = world.floor
        fh, fw = floor.image.shape[:2]
        scale = min(1.0, max_px / max(fw, fh)) if max_px > 0 else 1.0
        size = (max(1, round(fw * scale)), max(1, round(fh * scale)))
        if scale == 1.0:
            self.img = floor.image.copy()
        else:
            self.img = np.asarray(
                cv2.resize(floor.image, size, interpolation=cv2.INTER_AREA), np.uint8
            )
        self.ppm = floor.ppm * scale
        self.height = floor.height

    def px(self, points: Points) -> NDArray[np.int32]:
        p = np.asarray(points, np.float64).reshape(-1, 2)
        uv = np.column_stack([p[:, 0] * self.ppm - 0.5, (self.height - p[:, 1]) * self.ppm - 0.5])
        return np.round(uv * _ONE).astype(np.int32)

    def point(self, x: float, y: float) -> tuple[int, int]:
        u, v = self.px(np.array([x, y]))[0]
        return (int(u), int(v))

    def radius(self, metres: float) -> int:
        return max(_ONE, round(metres * self.ppm * _ONE))

    def polygon(
        self,
        points: Points,
        colour: tuple[int, int, int],
        outline: tuple[int, int, int] | None = None,
    ) -> None:
        poly = self.px(points)
        cv2.fillConvexPoly(self.img, poly, colour, cv2.LINE_AA, SHIFT)
        if outline is not None:
            cv2.polylines(self.img, [poly], True, outline, 1, cv2.LINE_AA, SHIFT)

    def segment(
        self, a: Points, b: Points, colour: tuple[int, int, int], metres: float = 0.0
    ) -> None:
        ends = self.px(np.array([a, b]))
        thickness = max(1, round(metres * self.ppm))
        cv2.line(self.img, tuple(ends[0]), tuple(ends[1]), colour, thickness, cv2.LINE_AA, SHIFT)


def _things(canvas: _Canvas, world: World) -> None:
    model = world.model
    walls = list(model.walls) + (border_walls(model.size, model.border) if model.border else [])
    for wall in walls:
        canvas.polygon(wall_corners(wall.start, wall.end, wall.thickness), bgr(wall.colour))
    for box in model.boxes:
        canvas.polygon(box_corners(box.at, box.size, box.heading), bgr(box.colour), _OUTLINE)
    for cyl in model.cylinders:
        centre = canvas.point(*cyl.at)
        cv2.circle(
            canvas.img, centre, canvas.radius(cyl.radius), bgr(cyl.colour), -1, cv2.LINE_AA, SHIFT
        )
        cv2.circle(canvas.img, centre, canvas.radius(cyl.radius), _OUTLINE, 1, cv2.LINE_AA, SHIFT)
    for sign in model.signs:
        face = np.array([math.cos(math.radians(sign.facing)), math.sin(math.radians(sign.facing))])
        half = np.array([-face[1], face[0]]) * sign.size / 2
        at = np.array(sign.at) + face * POLE_RADIUS
        canvas.segment(at - half, at + half, sign_colour(sign.kind), 0.012)
        canvas.segment(at, at + face * sign.size * 0.4, sign_colour(sign.kind))
    for marker in model.markers:
        if not marker.on_floor:
            a = math.radians(marker.facing)
            half = np.array([-math.sin(a), math.cos(a)]) * marker.size / 2
            canvas.segment(
                np.array(marker.at) - half, np.array(marker.at) + half, (20, 20, 20), 0.01
            )
    for i, gate in enumerate(model.checkpoints):
        colour = (60, 60, 220) if i == 0 else (150, 150, 150)
        canvas.segment(np.array(gate.start), np.array(gate.end), colour)


def _robot(canvas: _Canvas, body: Body, trail: bool, rays: bool) -> None:
    img = canvas.img
    if trail and len(body.trail) > 1:
        cv2.polylines(img, [canvas.px(body.trail[:, 1:3])], False, _TRAIL, 2, cv2.LINE_AA, SHIFT)
    if rays:
        for origin, ends in body.sensors.rays:
            for end in ends:
                canvas.segment(origin, end, _RAY)
    p = body.pose
    colour = (40, 40, 220) if body.in_contact else bgr(body.spec.colour)
    canvas.polygon(body.outline(), colour, _WHITE)
    a = math.radians(p.heading)
    nose = np.array([p.x, p.y]) + np.array([math.cos(a), math.sin(a)]) * body.spec.radius
    canvas.segment(np.array([p.x, p.y]), nose, _WHITE, 0.01)


def render_topdown(world: World, max_px: int = 800, trail: bool = True, rays: bool = True) -> Image:
    """A BGR image at most ``max_px`` on its longer side (north up)."""
    canvas = _Canvas(world, max_px)
    _things(canvas, world)
    for body in world.robots:
        _robot(canvas, body, trail, rays)
    return canvas.img
