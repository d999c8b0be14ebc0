"""Upright things as 3-D polygons (faces) for the camera.

Walls, boxes and cylinders become shaded flat faces; signs and upright
markers become textured quads (the back of a sign is grey). Long faces are
cut into pieces of at most :data:`MAX_PIECE` metres so that drawing them far
to near (the painter's algorithm) hides the right things.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from hardware.sim.colour import bgr
from hardware.sim.model import WorldModel
from hardware.sim.obstacles import POLE_RADIUS, border_walls, box_corners, wall_corners
from hardware.sim.textures import marker_margin_fraction, marker_texture, sign_texture

__all__ = ["MAX_PIECE", "Face", "Scene", "build_scene", "prism_faces"]

Image = NDArray[np.uint8]
Points = NDArray[np.float64]
MAX_PIECE = 0.25  # metres
_LIGHT = np.array([math.cos(math.radians(35)), math.sin(math.radians(35))])
_POLE = (70, 70, 70)
_BACK = (150, 150, 150)


@dataclass(frozen=True)
class Face:
    """A convex planar polygon; ``texture`` (BGRA) faces carry 4 corners TL, TR, BR, BL."""

    points: Points  # (k, 3) world coordinates
    colour: tuple[int, int, int]
    normal: Points | None  # outward; None = seen from both sides
    texture: Image | None = None


@dataclass(frozen=True)
class Scene:
    """All faces, with their centres, normals and sizes in arrays for fast culling."""

    faces: tuple[Face, ...]
    centres: Points  # (F, 3)
    normals: Points  # (F, 3), zero for two-sided faces
    radii: NDArray[np.float64]  # (F,)

    @classmethod
    def of(cls, faces: list[Face]) -> Scene:
        centres = np.array([f.points.mean(axis=0) for f in faces]).reshape(-1, 3)
        normals = np.array(
            [f.normal if f.normal is not None else np.zeros(3) for f in faces]
        ).reshape(-1, 3)
        radii = np.array(
            [
                float(np.linalg.norm(f.points - c, axis=1).max())
                for f, c in zip(faces, centres, strict=True)
            ]
        )
        return cls(tuple(faces), centres, normals, radii)


def _shade(colour: tuple[int, int, int], normal2d: Points | None) -> tuple[int, int, int]:
    k = 1.0 if normal2d is None else 0.62 + 0.38 * abs(float(normal2d @ _LIGHT))
    b, g, r = colour
    return (min(255, round(b * k)), min(255, round(g * k)), min(255, round(r * k)))


def prism_faces(
    outline: Points, z0: float, z1: float, colour: tuple[int, int, int], top: bool = True
) -> list[Face]:
    """Faces of an upright prism over a counter-clockwise floor ``outline`` (n, 2)."""
    faces = []
    n = len(outline)
    for k in range(n):
        a, b = outline[k], outline[(k + 1) % n]
        edge = b - a
        length = float(np.hypot(*edge))
        if length == 0:
            continue
        normal2d = np.array([edge[1], -edge[0]]) / length  # outward for counter-clockwise
        normal = np.array([normal2d[0], normal2d[1], 0.0])
        pieces = max(1, math.ceil(length / MAX_PIECE))
        shaded = _shade(colour, normal2d)
        for i in range(pieces):
            p = a + edge * (i / pieces)
            q = a + edge * ((i + 1) / pieces)
            pts = np.array([[p[0], p[1], z0], [q[0], q[1], z0], [q[0], q[1], z1], [p[0], p[1], z1]])
            faces.append(Face(pts, shaded, normal))
    if top:
        pts = np.column_stack([outline, np.full(n, z1)])
        faces.append(Face(pts, _shade(colour, None), np.array([0.0, 0.0, 1.0])))
    return faces


def _circle(at: tuple[float, float], r: float, sides: int) -> Points:
    t = np.linspace(0, 2 * math.pi, sides, endpoint=False)
    return np.column_stack([at[0] + r * np.cos(t), at[1] + r * np.sin(t)])


def _plate(
    at: Points, facing_deg: float, width: float, bottom: float, texture: Image
) -> list[Face]:
    """A textured upright square (front) and its grey back."""
    f = np.array([math.cos(math.radians(facing_deg)), math.sin(math.radians(facing_deg)), 0.0])
    right = np.array([-f[1], f[0], 0.0])  # the viewer's right, looking at the face
    centre = np.array([at[0], at[1], bottom + width / 2]) + f * (POLE_RADIUS + 0.002)
    up = np.array([0.0, 0.0, width / 2])
    half = right * width / 2
    front = np.array(
        [centre - half + up, centre + half + up, centre + half - up, centre - half - up]
    )
    back_tex = texture.copy()
    back_tex[:, :, :3] = _BACK
    back = front[[1, 0, 3, 2]] - f * 0.001
    return [Face(front, (0, 0, 0), f, texture), Face(back, _BACK, -f, back_tex)]


def _pole(at: tuple[float, float], height: float) -> list[Face]:
    return prism_faces(_circle(at, POLE_RADIUS, 6), 0.0, height, _POLE, top=False)


def build_scene(model: WorldModel) -> Scene:
    """Every upright face of ``model``."""
    faces: list[Face] = []
    walls = list(model.walls) + (border_walls(model.size, model.border) if model.border else [])
    for wall in walls:
        faces += prism_faces(
            wall_corners(wall.start, wall.end, wall.thickness), 0.0, wall.height, bgr(wall.colour)
        )
    for box in model.boxes:
        faces += prism_faces(
            box_corners(box.at, box.size, box.heading), 0.0, box.height, bgr(box.colour)
        )
    for cyl in model.cylinders:
        sides = max(12, min(32, math.ceil(2 * math.pi * cyl.radius / 0.03)))
        faces += prism_faces(_circle(cyl.at, cyl.radius, sides), 0.0, cyl.height, bgr(cyl.colour))
    for sign in model.signs:
        if sign.pole:
            faces += _pole(sign.at, sign.elevation + sign.size / 2)
        faces += _plate(
            np.array(sign.at), sign.facing, sign.size, sign.elevation, sign_texture(sign.kind)
        )
    for marker in model.markers:
        if marker.on_floor:
            continue
        width = marker.size * marker_margin_fraction(marker.dictionary)
        if marker.elevation > 0.02:
            faces += _pole(marker.at, marker.elevation + width / 2)
        faces += _plate(
            np.array(marker.at),
            marker.facing,
            width,
            marker.elevation,
            marker_texture(marker.dictionary, marker.id),
        )
    return Scene.of(faces)
