"""The world seen from above: floor, solid things, signs, markers, robots, trails, rays."""

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
    from hardware.sim.world import World

__all__ = ["render_topdown"]

Image = NDArray[np.uint8]
Points = NDArray[np.float64]
_RAY = (0, 200, 255)
_TRAIL = (0, 140, 255)


def render_topdown(world: World, max_px: int = 800, trail: bool = True, rays: bool = True) -> Image:
    """A BGR image at most ``max_px`` on its longer side (north up)."""
    floor = world.floor
    fh, fw = floor.image.shape[:2]
    scale = min(1.0, max_px / max(fw, fh)) if max_px > 0 else 1.0
    w, h = max(1, round(fw * scale)), max(1, round(fh * scale))
    img = (
        np.asarray(cv2.resize(floor.image, (w, h), interpolation=cv2.INTER_AREA), np.uint8)
        if scale != 1.0
        else floor.image.copy()
    )
    ppm = floor.ppm * scale
    one = 1 << SHIFT

    def px(points: Points) -> NDArray[np.int32]:
        p = np.asarray(points, np.float64).reshape(-1, 2)
        uv = np.column_stack([p[:, 0] * ppm - 0.5, (floor.height - p[:, 1]) * ppm - 0.5])
        return np.round(uv * one).astype(np.int32)

    def radius(metres: float) -> int:
        return max(one, round(metres * ppm * one))

    model = world.model
    walls = list(model.walls) + (border_walls(model.size, model.border) if model.border else [])
    for wall in walls:
        poly = px(wall_corners(wall.start, wall.end, wall.thickness))
        cv2.fillConvexPoly(img, poly, bgr(wall.colour), cv2.LINE_AA, SHIFT)
    for box in model.boxes:
        poly = px(box_corners(box.at, box.size, box.heading))
        cv2.fillConvexPoly(img, poly, bgr(box.colour), cv2.LINE_AA, SHIFT)
        cv2.polylines(img, [poly], True, (40, 40, 40), 1, cv2.LINE_AA, SHIFT)
    for cyl in model.cylinders:
        centre = tuple(px(np.array(cyl.at))[0])
        cv2.circle(img, centre, radius(cyl.radius), bgr(cyl.colour), -1, cv2.LINE_AA, SHIFT)
        cv2.circle(img, centre, radius(cyl.radius), (40, 40, 40), 1, cv2.LINE_AA, SHIFT)
    for sign in model.signs:
        a = math.radians(sign.facing)
        half = np.array([-math.sin(a), math.cos(a)]) * sign.size / 2
        at = np.array(sign.at) + np.array([math.cos(a), math.sin(a)]) * POLE_RADIUS
        plate = px(np.array([at - half, at + half]))
        cv2.line(
            img,
            tuple(plate[0]),
            tuple(plate[1]),
            sign_colour(sign.kind),
            max(2, round(0.012 * ppm)),
            cv2.LINE_AA,
            SHIFT,
        )
        tip = px(at + np.array([math.cos(a), math.sin(a)]) * sign.size * 0.4)
        cv2.line(
            img,
            tuple(plate.mean(axis=0).astype(np.int32)),
            tuple(tip[0]),
            sign_colour(sign.kind),
            1,
            cv2.LINE_AA,
            SHIFT,
        )
    for marker in model.markers:
        if marker.on_floor:
            continue
        a = math.radians(marker.facing)
        half = np.array([-math.sin(a), math.cos(a)]) * marker.size / 2
        pair = px(np.array([np.array(marker.at) - half, np.array(marker.at) + half]))
        cv2.line(
            img,
            tuple(pair[0]),
            tuple(pair[1]),
            (20, 20, 20),
            max(2, round(0.01 * ppm)),
            cv2.LINE_AA,
            SHIFT,
        )
    for i, gate in enumerate(model.checkpoints):
        gate_px = px(np.array([gate.start, gate.end]))
        colour = (60, 60, 220) if i == 0 else (150, 150, 150)
        cv2.line(img, tuple(gate_px[0]), tuple(gate_px[1]), colour, 1, cv2.LINE_AA, SHIFT)
    for body in world.robots:
        if trail and len(body.trail) > 1:
            cv2.polylines(img, [px(body.trail[:, 1:3])], False, _TRAIL, 2, cv2.LINE_AA, SHIFT)
        if rays:
            for origin, ends in body.rays:
                o = tuple(px(origin)[0])
                for end in px(ends):
                    cv2.line(img, o, tuple(end), _RAY, 1, cv2.LINE_AA, SHIFT)
        p = body.pose
        centre = tuple(px(np.array([p.x, p.y]))[0])
        r = body.spec.radius
        colour = (40, 40, 220) if body.in_contact else bgr(body.spec.colour)
        cv2.circle(img, centre, radius(r), colour, -1, cv2.LINE_AA, SHIFT)
        cv2.circle(img, centre, radius(r), (255, 255, 255), 1, cv2.LINE_AA, SHIFT)
        a = math.radians(p.heading)
        nose = tuple(px(np.array([p.x + r * math.cos(a), p.y + r * math.sin(a)]))[0])
        cv2.line(img, centre, nose, (255, 255, 255), max(1, round(0.01 * ppm)), cv2.LINE_AA, SHIFT)
    return img
