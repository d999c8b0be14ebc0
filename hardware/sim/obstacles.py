"""Solid things in 2-D: polygons (walls, boxes) and circles (cylinders, sign poles).

Ultrasonic rays and robot collisions use these outlines; heights do not
matter here (a low box stops a robot and echoes like a wall).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from hardware.sim.model import BorderModel, WallModel, WorldModel

__all__ = ["POLE_RADIUS", "Obstacles", "border_walls", "box_corners", "wall_corners"]

Points = NDArray[np.float64]
POLE_RADIUS = 0.012  # metres
_EMPTY_CIRCLES = np.zeros((0, 3))
_NONE = np.zeros(0, np.int64)
_CELL = 0.1  # metres: the side of a cell of the lookup grid for collisions
_REACH = 0.25  # metres: a hit test reaching further than this checks every edge
_FEW = 8  # edges: up to this many near a robot are tested in plain Python


def _disc_touches(x: float, y: float, r: float, seg: tuple[float, float, float, float]) -> bool:
    """Whether the disc at (x, y) of radius ``r`` overlaps the segment (numpy's sums, in order)."""
    ax, ay, bx, by = seg
    ex, ey = bx - ax, by - ay
    ee = ex * ex + ey * ey
    u = ((x - ax) * ex + (y - ay) * ey) / (ee if ee > 0 else 1.0)
    u = min(max(u, 0.0), 1.0)
    dx = ax + ex * u - x
    dy = ay + ey * u - y
    return dx * dx + dy * dy < r * r


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

    @functools.cached_property
    def _edges(self) -> tuple[Points, Points, NDArray[np.float64]]:
        """Each segment's start (N, 2), direction (N, 2) and length (N,), computed once."""
        a = self.segments[:, 0:2]
        e = self.segments[:, 2:4] - a
        return a, e, np.hypot(e[:, 0], e[:, 1])

    @functools.cached_property
    def _segment_list(self) -> list[tuple[float, float, float, float]]:
        return [(a, b, c, d) for a, b, c, d in self.segments.tolist()]

    @functools.cached_property
    def _grid(self) -> dict[tuple[int, int], tuple[NDArray[np.int64], NDArray[np.int64]]]:
        """Cell -> (segments, circles) that come within ``_REACH`` of a point in the cell.

        A robot is small, so a collision test only needs the few edges near it:
        most of the floor is open and its cells list nothing.
        """
        cells: dict[tuple[int, int], tuple[list[int], list[int]]] = {}

        def add(box: tuple[float, float, float, float], index: int, kind: int) -> None:
            x0, y0, x1, y1 = (math.floor(v / _CELL) for v in box)
            for i in range(x0, x1 + 1):
                for j in range(y0, y1 + 1):
                    cells.setdefault((i, j), ([], []))[kind].append(index)

        for k, (ax, ay, bx, by) in enumerate(self.segments.tolist()):
            box = (
                min(ax, bx) - _REACH,
                min(ay, by) - _REACH,
                max(ax, bx) + _REACH,
                max(ay, by) + _REACH,
            )
            add(box, k, 0)
        for k, (cx, cy, r) in enumerate(self.circles.tolist()):
            grow = r + _REACH
            add((cx - grow, cy - grow, cx + grow, cy + grow), k, 1)
        return {
            key: (np.array(segs, np.int64), np.array(circs, np.int64))
            for key, (segs, circs) in cells.items()
        }

    def _near(
        self, x: float, y: float, reach: float
    ) -> tuple[NDArray[np.int64] | None, NDArray[np.int64] | None]:
        """Segments and circles that may come within ``reach`` of (x, y), in index order.

        ``(None, None)`` means "all of them" (a reach longer than the grid covers).
        """
        if reach > _REACH:
            return None, None
        return self._grid.get((math.floor(x / _CELL), math.floor(y / _CELL)), (_NONE, _NONE))

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
            starts, edges, lengths = self._edges
            d = directions[:, None, :]
            e = edges[None, :, :]
            denom = d[..., 0] * e[..., 1] - d[..., 1] * e[..., 0]
            ap = starts[None, :, :] - origins[:, None, :]
            with np.errstate(divide="ignore", invalid="ignore"):
                t = (ap[..., 0] * e[..., 1] - ap[..., 1] * e[..., 0]) / denom
                s = (ap[..., 0] * d[..., 1] - ap[..., 1] * d[..., 0]) / denom
            ok = (np.abs(denom) > 1e-12) & (t >= 0) & (s >= 0) & (s <= 1)
            t = np.where(ok, t, np.inf)
            k = t.argmin(axis=1)
            hit = t[rows, k]
            closer = hit < best
            length = lengths[k]
            cos = np.abs(denom[rows, k]) / np.where(length > 0, length, 1.0)
            best = np.where(closer, hit, best)
            cosine = np.where(closer, cos, cosine)
        return self._circle_hits(origins, directions, best, cosine, extra)

    def _circle_hits(
        self,
        origins: Points,
        directions: Points,
        best: NDArray[np.float64],
        cosine: NDArray[np.float64],
        extra: Points,
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """The rays' hits on circles, where nearer than ``best`` (see :meth:`ray_hits`)."""
        rows = np.arange(len(directions))
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

    def beam_hits(
        self,
        origin: tuple[float, float],
        directions: Points,
        max_range: float,
        extra: Points = _EMPTY_CIRCLES,
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """:meth:`ray_hits` for rays that all start at ``origin`` (an ultrasonic beam).

        The same numbers, quicker: edges wholly outside the beam (right of its
        first ray, left of its last, or behind it) are skipped, and the few
        left are tested in plain Python, the same sums in the same order as
        :meth:`ray_hits` (numpy's per-call cost was most of its time).
        """
        n = len(directions)
        px, py = origin
        dirs = directions.tolist()
        (lo0, lo1), (hi0, hi1), (mid0, mid1) = dirs[0], dirs[-1], dirs[n // 2]
        near: list[tuple[float, float, float, float, float]] = []
        lengths = self._edges[2]
        for k, (ax, ay, bx, by) in enumerate(self._segment_list):
            rax, ray_, rbx, rby = ax - px, ay - py, bx - px, by - py
            if (lo0 * ray_ - lo1 * rax < 0 and lo0 * rby - lo1 * rbx < 0) or (
                (hi0 * ray_ - hi1 * rax > 0 and hi0 * rby - hi1 * rbx > 0)
                or (mid0 * rax + mid1 * ray_ < 0 and mid0 * rbx + mid1 * rby < 0)
            ):
                continue
            near.append((rax, ray_, bx - ax, by - ay, float(lengths[k])))
        best = [float(max_range)] * n
        cosine = [0.0] * n
        for i, (d0, d1) in enumerate(dirs):
            hit, cos = math.inf, 0.0
            for ap0, ap1, e0, e1, length in near:
                denom = d0 * e1 - d1 * e0
                if not abs(denom) > 1e-12:
                    continue
                t = (ap0 * e1 - ap1 * e0) / denom
                s = (ap0 * d1 - ap1 * d0) / denom
                if t >= 0 and s >= 0 and s <= 1 and t < hit:
                    hit, cos = t, abs(denom) / (length if length > 0 else 1.0)
            if hit < best[i]:
                best[i], cosine[i] = hit, cos
        out = np.array(best), np.array(cosine)
        if not len(self.circles) and not len(extra):
            return out
        origins = np.broadcast_to(np.array(origin, np.float64), (n, 2))
        return self._circle_hits(origins, directions, out[0], out[1], extra)

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
        near_segs, near_circles = self._near(x, y, math.hypot(half_length, half_width))
        if (
            near_segs is not None
            and near_circles is not None
            and not len(near_segs)
            and not len(near_circles)
            and not len(extra)
        ):
            return None  # nothing solid near: the common case, answered without the maths
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
        segments = self.segments if near_segs is None else self.segments[near_segs]
        if len(segments):
            p = corners[:, None, :]
            r = (np.roll(corners, -1, axis=0) - corners)[:, None, :]
            q = segments[None, :, 0:2]
            e = segments[None, :, 2:4] - q
            denom = r[..., 0] * e[..., 1] - r[..., 1] * e[..., 0]
            qp = q - p
            with np.errstate(divide="ignore", invalid="ignore"):
                t = (qp[..., 0] * e[..., 1] - qp[..., 1] * e[..., 0]) / denom
                u = (qp[..., 0] * r[..., 1] - qp[..., 1] * r[..., 0]) / denom
            crossing = (denom != 0) & (t >= 0) & (t <= 1) & (u >= 0) & (u <= 1)
            # a whole edge inside the box crosses nothing: test its first end too
            rel = segments[:, 0:2] - np.array([x, y])
            along = np.abs(rel @ np.array([c, s])) < half_length
            across = np.abs(rel @ np.array([-s, c])) < half_width
            found = np.nonzero(crossing.any(axis=0) | (along & across))[0]
            if len(found):
                first = int(found[0]) if near_segs is None else int(near_segs[found[0]])
                return int(self.segment_owner[first])
        own = self.circles if near_circles is None else self.circles[near_circles]
        circles = own if not len(extra) else np.vstack([own, extra])
        if len(circles):
            rel = circles[:, 0:2] - np.array([x, y])
            dx = np.maximum(np.abs(rel @ np.array([c, s])) - half_length, 0.0)
            dy = np.maximum(np.abs(rel @ np.array([-s, c])) - half_width, 0.0)
            found = np.nonzero(dx * dx + dy * dy < circles[:, 2] ** 2)[0]
            if len(found):
                i = int(found[0])
                if i >= len(own):
                    return len(self.names) + i - len(own)
                return int(self.circle_owner[i if near_circles is None else near_circles[i]])
        return None

    def hit_by_circle(
        self, x: float, y: float, r: float, extra: Points = _EMPTY_CIRCLES
    ) -> int | None:
        """Index of the first thing a disc at (x, y) of radius ``r`` overlaps (>= len(names): an ``extra``)."""
        near_segs, near_circles = self._near(x, y, r)
        if near_segs is not None and len(near_segs) <= _FEW:
            # a few edges near: plain Python is quicker than numpy's per-call cost
            for k in near_segs.tolist():
                if _disc_touches(x, y, r, self._segment_list[k]):
                    return int(self.segment_owner[k])
            near_segs = _NONE
        segs = self.segments if near_segs is None else self.segments[near_segs]
        if len(segs):
            a = segs[:, 0:2]
            e = segs[:, 2:4] - a
            rel = np.array([x, y]) - a
            ee = (e * e).sum(axis=1)
            u = np.clip((rel * e).sum(axis=1) / np.where(ee > 0, ee, 1.0), 0.0, 1.0)
            closest = a + e * u[:, None]
            dist2 = ((closest - np.array([x, y])) ** 2).sum(axis=1)
            inside = np.nonzero(dist2 < r * r)[0]
            if len(inside):
                first = int(inside[0]) if near_segs is None else int(near_segs[inside[0]])
                return int(self.segment_owner[first])
        own = self.circles if near_circles is None else self.circles[near_circles]
        if len(own):
            d2 = (own[:, 0] - x) ** 2 + (own[:, 1] - y) ** 2
            inside = np.nonzero(d2 < (own[:, 2] + r) ** 2)[0]
            if len(inside):
                first = int(inside[0]) if near_circles is None else int(near_circles[inside[0]])
                return int(self.circle_owner[first])
        if len(extra):
            d2 = (extra[:, 0] - x) ** 2 + (extra[:, 1] - y) ** 2
            inside = np.nonzero(d2 < (extra[:, 2] + r) ** 2)[0]
            if len(inside):
                return len(self.names) + int(inside[0])
        return None
