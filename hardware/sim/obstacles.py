"""Solid things in 2-D: polygons (walls, boxes) and circles (cylinders, sign poles).

Ultrasonic rays and robot collisions use these outlines; heights do not
matter here (a low box stops a robot and echoes like a wall).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from hardware.sim.model import BorderModel, WallModel, WorldModel

__all__ = ["POLE_RADIUS", "Obstacles", "border_walls", "box_corners", "wall_corners"]

Points = NDArray[np.float64]
POLE_RADIUS = 0.012  # metres
_EMPTY_CIRCLES = np.zeros((0, 3))


def wall_corners(start: tuple[float, float], end: tuple[float, float], thickness: float) -> Points:
    """The four floor corners of a wall (counter-clockwise)."""
    a = np.array(start, np.float64)
    b = np.array(end, np.float64)
    d = b - a
    length = float(np.hypot(*d))
    if length == 0:
        d, length = np.array([1.0, 0.0]), 1.0
    n = np.array([-d[1], d[0]]) / length * thickness / 2
    return np.array([a - n, b - n, b + n, a + n])


def box_corners(at: tuple[float, float], size: tuple[float, float], heading_deg: float) -> Points:
    """The four floor corners of a box (counter-clockwise)."""
    a = math.radians(heading_deg)
    c, s = math.cos(a), math.sin(a)
    hl, hw = size[0] / 2, size[1] / 2
    local = np.array([[-hl, -hw], [hl, -hw], [hl, hw], [-hl, hw]])
    return np.asarray(local @ np.array([[c, s], [-s, c]]) + np.array(at), np.float64)


def border_walls(size: tuple[float, float], border: BorderModel) -> list[WallModel]:
    """Walls just inside the floor's edge."""
    w, h = size
    t = border.thickness / 2
    ends = [((0, t), (w, t)), ((w - t, 0), (w - t, h)), ((w, h - t), (0, h - t)), ((t, h), (t, 0))]
    return [
        WallModel(
            name="border",
            start=s,
            end=e,
            thickness=border.thickness,
            height=border.height,
            colour=border.colour,
        )
        for s, e in ends
    ]


@dataclass(frozen=True)
class Obstacles:
    """Edges of solid polygons and solid circles, each with the name of what it belongs to."""

    segments: Points  # (N, 4): x0, y0, x1, y1
    segment_owner: NDArray[np.int64]
    circles: Points  # (M, 3): x, y, radius
    circle_owner: NDArray[np.int64]
    names: tuple[str, ...]
    polygons: tuple[Points, ...]

    @classmethod
    def from_model(cls, model: WorldModel) -> Obstacles:
        names: list[str] = []
        polygons: list[Points] = []
        circles: list[tuple[float, float, float, int]] = []
        walls = list(model.walls) + (border_walls(model.size, model.border) if model.border else [])
        for i, wall in enumerate(walls):
            polygons.append(wall_corners(wall.start, wall.end, wall.thickness))
            names.append(wall.name or f"wall {i + 1}")
        for i, box in enumerate(model.boxes):
            polygons.append(box_corners(box.at, box.size, box.heading))
            names.append(box.name or f"box {i + 1}")
        for i, cyl in enumerate(model.cylinders):
            circles.append((cyl.at[0], cyl.at[1], cyl.radius, len(names)))
            names.append(cyl.name or f"cylinder {i + 1}")
        for sign in model.signs:
            if sign.pole:
                circles.append((sign.at[0], sign.at[1], POLE_RADIUS, len(names)))
                names.append(sign.name or f"{sign.kind} sign")
        segs: list[list[float]] = []
        owners: list[int] = []
        for owner, poly in enumerate(polygons):
            for k in range(len(poly)):
                a, b = poly[k], poly[(k + 1) % len(poly)]
                segs.append([a[0], a[1], b[0], b[1]])
                owners.append(owner)
        return cls(
            segments=np.array(segs, np.float64).reshape(-1, 4),
            segment_owner=np.array(owners, np.int64),
            circles=np.array([c[:3] for c in circles], np.float64).reshape(-1, 3),
            circle_owner=np.array([c[3] for c in circles], np.int64),
            names=tuple(names),
            polygons=tuple(polygons),
        )

    def ray_cast(
        self, origins: Points, directions: Points, max_range: float, extra: Points = _EMPTY_CIRCLES
    ) -> NDArray[np.float64]:
        """Distance along each ray (unit ``directions``) to the first solid thing, else ``max_range``.

        ``extra`` are more circles (x, y, r), e.g. other robots.
        """
        return self.ray_hits(origins, directions, max_range, extra)[0]

    def ray_hits(
        self, origins: Points, directions: Points, max_range: float, extra: Points = _EMPTY_CIRCLES
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Like :meth:`ray_cast`, also returning the cosine of the angle between ray and surface normal.

        The cosine is 1 for a ray hitting a surface head-on and 0 for a grazing
        ray or a ray that hits nothing.
        """
        n = len(origins)
        best = np.full(n, float(max_range))
        cosine = np.zeros(n)
        rows = np.arange(n)
        if len(self.segments):
            p = origins[:, None, :]
            d = directions[:, None, :]
            a = self.segments[None, :, 0:2]
            e = self.segments[None, :, 2:4] - a
            denom = d[..., 0] * e[..., 1] - d[..., 1] * e[..., 0]
            ap = a - p
            with np.errstate(divide="ignore", invalid="ignore"):
                t = (ap[..., 0] * e[..., 1] - ap[..., 1] * e[..., 0]) / denom
                s = (ap[..., 0] * d[..., 1] - ap[..., 1] * d[..., 0]) / denom
            ok = (np.abs(denom) > 1e-12) & (t >= 0) & (s >= 0) & (s <= 1)
            t = np.where(ok, t, np.inf)
            k = t.argmin(axis=1)
            hit = t[rows, k]
            closer = hit < best
            length = np.hypot(e[0, k, 0], e[0, k, 1])
            cos = np.abs(denom[rows, k]) / np.where(length > 0, length, 1.0)
            best = np.where(closer, hit, best)
            cosine = np.where(closer, cos, cosine)
        circles = self.circles if not len(extra) else np.vstack([self.circles, extra])
        if len(circles):
            pc = origins[:, None, :] - circles[None, :, 0:2]
            b = (pc * directions[:, None, :]).sum(axis=2)
            c = (pc * pc).sum(axis=2) - circles[None, :, 2] ** 2
            disc = b * b - c
            with np.errstate(invalid="ignore"):
                root = np.sqrt(disc)
            near = -b - root
            far = -b + root
            t = np.where(near >= 0, near, np.where(far >= 0, 0.0, np.inf))
            t = np.where(disc >= 0, t, np.inf)
            k = t.argmin(axis=1)
            hit = t[rows, k]
            closer = hit < best
            # normal at the hit point is radial: cos = sqrt(disc) / r
            cos = np.sqrt(np.maximum(disc[rows, k], 0.0)) / circles[k, 2]
            best = np.where(closer, hit, best)
            cosine = np.where(closer, np.minimum(cos, 1.0), cosine)
        return best, cosine

    def hit_by_box(
        self,
        x: float,
        y: float,
        heading_rad: float,
        *,
        half_length: float,
        half_width: float,
        extra: Points = _EMPTY_CIRCLES,
    ) -> int | None:
        """Like :meth:`hit_by_circle` for a box centred at (x, y) turned by ``heading_rad``."""
        c, s = math.cos(heading_rad), math.sin(heading_rad)
        local = np.array(
            [
                [-half_length, -half_width],
                [half_length, -half_width],
                [half_length, half_width],
                [-half_length, half_width],
            ]
        )
        corners = local @ np.array([[c, s], [-s, c]]) + np.array([x, y])
        if len(self.segments):
            p = corners[:, None, :]
            r = (np.roll(corners, -1, axis=0) - corners)[:, None, :]
            q = self.segments[None, :, 0:2]
            e = self.segments[None, :, 2:4] - q
            denom = r[..., 0] * e[..., 1] - r[..., 1] * e[..., 0]
            qp = q - p
            with np.errstate(divide="ignore", invalid="ignore"):
                t = (qp[..., 0] * e[..., 1] - qp[..., 1] * e[..., 0]) / denom
                u = (qp[..., 0] * r[..., 1] - qp[..., 1] * r[..., 0]) / denom
            crossing = (denom != 0) & (t >= 0) & (t <= 1) & (u >= 0) & (u <= 1)
            # a whole edge inside the box crosses nothing: test its first end too
            rel = self.segments[:, 0:2] - np.array([x, y])
            along = np.abs(rel @ np.array([c, s])) < half_length
            across = np.abs(rel @ np.array([-s, c])) < half_width
            found = np.nonzero(crossing.any(axis=0) | (along & across))[0]
            if len(found):
                return int(self.segment_owner[found[0]])
        circles = self.circles if not len(extra) else np.vstack([self.circles, extra])
        if len(circles):
            rel = circles[:, 0:2] - np.array([x, y])
            dx = np.maximum(np.abs(rel @ np.array([c, s])) - half_length, 0.0)
            dy = np.maximum(np.abs(rel @ np.array([-s, c])) - half_width, 0.0)
            found = np.nonzero(dx * dx + dy * dy < circles[:, 2] ** 2)[0]
            if len(found):
                i = int(found[0])
                return (
                    int(self.circle_owner[i])
                    if i < len(self.circles)
                    else len(self.names) + i - len(self.circles)
                )
        return None

    def hit_by_circle(
        self, x: float, y: float, r: float, extra: Points = _EMPTY_CIRCLES
    ) -> int | None:
        """Index of the first thing a disc at (x, y) of radius ``r`` overlaps (>= len(names): an ``extra``)."""
        if len(self.segments):
            a = self.segments[:, 0:2]
            e = self.segments[:, 2:4] - a
            rel = np.array([x, y]) - a
            ee = (e * e).sum(axis=1)
            u = np.clip((rel * e).sum(axis=1) / np.where(ee > 0, ee, 1.0), 0.0, 1.0)
            closest = a + e * u[:, None]
            dist2 = ((closest - np.array([x, y])) ** 2).sum(axis=1)
            inside = np.nonzero(dist2 < r * r)[0]
            if len(inside):
                return int(self.segment_owner[inside[0]])
        if len(self.circles):
            d2 = (self.circles[:, 0] - x) ** 2 + (self.circles[:, 1] - y) ** 2
            inside = np.nonzero(d2 < (self.circles[:, 2] + r) ** 2)[0]
            if len(inside):
                return int(self.circle_owner[inside[0]])
        if len(extra):
            d2 = (extra[:, 0] - x) ** 2 + (extra[:, 1] - y) ** 2
            inside = np.nonzero(d2 < (extra[:, 2] + r) ** 2)[0]
            if len(inside):
                return len(self.names) + int(inside[0])
        return None
