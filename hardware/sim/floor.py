"""The floor as an image: colour or texture, grain, zones, tape lines, floor markers.

Pixel ``(u, v)`` of the floor image looks at world point
``x = (u + 0.5) / ppm``, ``y = height - (v + 0.5) / ppm``: image rows run from
north (top) to south, as on a map.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import cv2
import numpy as np
from numpy.typing import NDArray

from hardware.sim.colour import bgr
from hardware.sim.errors import SimValueError
from hardware.sim.model import LineModel, MarkerModel, WorldModel, ZoneModel
from hardware.sim.raster import SHIFT, paste_quad
from hardware.sim.textures import marker_margin_fraction, marker_texture
from rcbase import ConfigError, Text
from rcbase.yamlfile import Problem

__all__ = ["FloorMap", "build_floor", "line_points"]

Image = NDArray[np.uint8]
Points = NDArray[np.float64]
T = TypeVar("T")

_FEW = 16  # points: below this, sample() loops in Python


def _to_full(n: int) -> NDArray[np.float64]:
    """Pixel coordinates on mip-map level ``n`` -> on the full floor image."""
    k = 2.0**n
    return np.array([[k, 0, 0.5 * k - 0.5], [0, k, 0.5 * k - 0.5], [0, 0, 1]])


_TO_FULL = [_to_full(n) for n in range(5)]


def fill_rows(img: Image, first: int, end: int, colour: tuple[int, int, int]) -> None:
    """Paint rows ``first:end`` of the BGR ``img`` in ``colour`` (quicker than ``img[a:b] = colour``)."""
    if end > first:
        h, w = img.shape[:2]
        img.reshape(h, w * 3)[first:end] = np.tile(np.asarray(colour, np.uint8), w)


@dataclass
class FloorMap:
    """The rendered floor and what samples it."""

    image: Image  # H x W x 3 BGR
    ppm: float  # pixels per metre
    width: float  # metres
    height: float
    _reflectance: dict[int, NDArray[np.float32]] = field(default_factory=dict, repr=False)
    _levels: list[Image] = field(default_factory=list, repr=False)

    def level(self, n: int) -> Image:
        """The floor image halved ``n`` times (a mip-map level, cached)."""
        if not self._levels:
            self._levels.append(self.image)
        while len(self._levels) <= n:
            prev = self._levels[-1]
            if min(prev.shape[:2]) < 4:
                return prev
            self._levels.append(np.asarray(cv2.pyrDown(prev), np.uint8))
        return self._levels[n]

    def warp(
        self,
        h: NDArray[np.float64],
        size: tuple[int, int],
        first_row: int,
        outside: tuple[int, int, int],
    ) -> Image:
        """Warp the floor into an image of ``size`` by the homography ``h`` (floor px -> image px).

        Rows from ``first_row`` down are drawn; far rows, where many floor pixels
        fall in one image pixel, sample a smaller copy of the floor so that thin
        lines far away do not break up into dots (mip-mapping by bands of rows).
        """
        w, height = size
        out = np.empty((height, w, 3), np.uint8)
        fill_rows(out, 0, min(first_row, height), outside)
        if first_row >= height:
            return out
        rows = np.arange(first_row, height, dtype=np.float64)
        inv = np.linalg.inv(h)
        # floor pixels under image pixels (w/2, v), (w/2 + 1, v) and (w/2, v + 1), in one product
        n = len(rows)
        px = np.empty((3, 3 * n))
        px[0, :n] = px[0, 2 * n :] = w / 2
        px[0, n : 2 * n] = w / 2 + 1
        px[1, : 2 * n] = np.tile(rows, 2)
        px[1, 2 * n :] = rows + 1
        px[2] = 1.0
        p = inv @ px
        p = p[:2] / p[2]
        centre = p[:, :n]
        du = p[:, n : 2 * n] - centre
        dv = p[:, 2 * n :] - centre
        area = np.abs(du[0] * dv[1] - du[1] * dv[0])
        levels = np.clip(
            np.floor(np.log2(np.sqrt(np.maximum(area, 1.0)) + 1e-9) + 0.3), 0, 4
        ).astype(int)
        cuts = (np.flatnonzero(levels[1:] != levels[:-1]) + 1).tolist()
        for start, end in zip([0, *cuts], [*cuts, n], strict=True):
            level = int(levels[start])
            # the band's own row offset, then level-n pixel -> level-0 pixel
            m = h.copy()
            m[1] -= (first_row + start) * h[2]
            cv2.warpPerspective(
                self.level(level),
                m @ _TO_FULL[level],
                (w, end - start),
                dst=out[first_row + start : first_row + end],
                flags=cv2.INTER_LINEAR,
                borderMode=cv2.BORDER_CONSTANT,
                borderValue=outside,
            )
        return out

    def to_px(self, xy: Points) -> Points:
        """World points (N, 2) in metres -> floor pixel coordinates (N, 2)."""
        out = np.empty_like(xy, dtype=np.float64)
        out[..., 0] = xy[..., 0] * self.ppm - 0.5
        out[..., 1] = (self.height - xy[..., 1]) * self.ppm - 0.5
        return out

    def reflectance(self, spot_m: float) -> NDArray[np.float32]:
        """Brightness 0..1 of the floor, averaged over a spot ``spot_m`` across (cached)."""
        k = max(1, round(spot_m * self.ppm)) | 1
        if k not in self._reflectance:
            grey = np.asarray(cv2.cvtColor(self.image, cv2.COLOR_BGR2GRAY), np.float32) / 255.0
            if k > 1:
                grey = np.asarray(
                    cv2.blur(grey, (k, k), borderType=cv2.BORDER_REPLICATE), np.float32
                )
            self._reflectance[k] = grey
        return self._reflectance[k]

    def sample(self, xy: Points, spot_m: float) -> NDArray[np.float64]:
        """Reflectance at world points (N, 2), bilinear; 0 off the floor (nothing reflects)."""
        if len(xy) <= _FEW:
            return np.array(self.sample_few(np.asarray(xy, np.float64).tolist(), spot_m))
        refl = self.reflectance(spot_m)
        px = self.to_px(xy)
        h, w = refl.shape
        u = px[:, 0]
        v = px[:, 1]
        inside = (u >= -0.5) & (u <= w - 0.5) & (v >= -0.5) & (v <= h - 0.5)
        u = np.clip(u, 0, w - 1)
        v = np.clip(v, 0, h - 1)
        u0 = np.minimum(np.floor(u).astype(np.int64), w - 2 if w > 1 else 0)
        v0 = np.minimum(np.floor(v).astype(np.int64), h - 2 if h > 1 else 0)
        fu = u - u0
        fv = v - v0
        u1 = np.minimum(u0 + 1, w - 1)
        v1 = np.minimum(v0 + 1, h - 1)
        top = refl[v0, u0] * (1 - fu) + refl[v0, u1] * fu
        bottom = refl[v1, u0] * (1 - fu) + refl[v1, u1] * fu
        value = top * (1 - fv) + bottom * fv
        return np.where(inside, value, 0.0).astype(np.float64)

    def sample_few(self, points: list[list[float]], spot_m: float) -> list[float]:
        """:meth:`sample` for a handful of points, in plain Python (the same numbers, bit for bit).

        A robot's line sensors ask for a few points a hundred times a sim
        second; for so few, numpy's per-call cost is most of the time.
        """
        refl = self.reflectance(spot_m)
        h, w = refl.shape
        ppm, height = self.ppm, self.height
        umax, vmax = w - 2 if w > 1 else 0, h - 2 if h > 1 else 0
        w1, h1 = w - 1, h - 1
        at = refl.item
        out = []
        # conditional expressions rather than min()/max(): the same numbers, fewer calls
        for x, y in points:
            u = x * ppm - 0.5
            v = (height - y) * ppm - 0.5
            if not (-0.5 <= u <= w - 0.5 and -0.5 <= v <= h - 0.5):
                out.append(0.0)
                continue
            u = 0.0 if u < 0.0 else (w1 if u > w1 else u)
            v = 0.0 if v < 0.0 else (h1 if v > h1 else v)
            u0 = math.floor(u)
            u0 = umax if u0 > umax else u0
            v0 = math.floor(v)
            v0 = vmax if v0 > vmax else v0
            fu = u - u0
            fv = v - v0
            u1 = w1 if u0 + 1 > w1 else u0 + 1
            v1 = h1 if v0 + 1 > h1 else v0 + 1
            top = at(v0, u0) * (1 - fu) + at(v0, u1) * fu
            bottom = at(v1, u0) * (1 - fu) + at(v1, u1) * fu
            out.append(top * (1 - fv) + bottom * fv)
        return out


def _given(value: T | None) -> T:
    if value is None:  # the world model's validators make sure this cannot happen
        raise SimValueError("a field this shape needs is missing")
    return value


def _rotate(points: Points, heading_deg: float, centre: tuple[float, float]) -> Points:
    a = math.radians(heading_deg)
    rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    return np.asarray(points @ rot.T + np.array(centre), np.float64)


def line_points(line: LineModel, step: float = 0.01) -> tuple[Points, bool]:
    """The centre line of a tape line as points (N, 2) and whether it is closed."""
    if line.shape == "polyline":
        return np.array(_given(line.points), np.float64), line.closed
    centre = _given(line.centre)
    r = _given(line.radius)
    if line.shape == "circle":
        n = max(24, math.ceil(2 * math.pi * r / step))
        t = np.linspace(0, 2 * math.pi, n, endpoint=False)
        return np.column_stack([np.cos(t), np.sin(t)]) * r + np.array(centre), True
    if line.shape == "oval":
        length = _given(line.length)
        half = length / 2
        n_arc = max(12, math.ceil(math.pi * r / step))
        n_straight = max(2, math.ceil(length / step))
        parts = [
            np.column_stack(
                [np.linspace(-half, half, n_straight, endpoint=False), np.full(n_straight, -r)]
            ),
        ]
        t = np.linspace(-math.pi / 2, math.pi / 2, n_arc, endpoint=False)
        parts.append(np.column_stack([half + r * np.cos(t), r * np.sin(t)]))
        parts.append(
            np.column_stack(
                [np.linspace(half, -half, n_straight, endpoint=False), np.full(n_straight, r)]
            )
        )
        t = np.linspace(math.pi / 2, 3 * math.pi / 2, n_arc, endpoint=False)
        parts.append(np.column_stack([-half + r * np.cos(t), r * np.sin(t)]))
        return _rotate(np.vstack(parts), line.heading, centre), True
    # figure eight (lemniscate of Gerono): 4r long, 2r wide, crossing itself at
    # right angles in the centre; from the right end it runs north, round the
    # right loop counter-clockwise and the left loop clockwise
    n = max(48, math.ceil(12 * math.pi * r / step))
    t = np.linspace(0, 2 * math.pi, n, endpoint=False)
    eight = np.column_stack([2 * r * np.cos(t), r * np.sin(2 * t)])
    return _rotate(eight, line.heading, centre), True


def _zone_px(floor: FloorMap, zone: ZoneModel) -> list[Points]:
    if zone.rect is not None:
        x0, y0, x1, y1 = zone.rect
        return [floor.to_px(np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float64))]
    if zone.circle is not None:
        x, y, r = zone.circle
        t = np.linspace(0, 2 * math.pi, 72, endpoint=False)
        return [floor.to_px(np.column_stack([x + r * np.cos(t), y + r * np.sin(t)]))]
    return [floor.to_px(np.array(_given(zone.polygon), np.float64))]


def marker_corners(marker: MarkerModel) -> Points:
    """World corners of a floor marker's texture (top-left first, clockwise seen from above)."""
    half = marker.size * marker_margin_fraction(marker.dictionary) / 2
    square = np.array([[-half, half], [half, half], [half, -half], [-half, -half]])
    return _rotate(square, marker.facing, marker.at)


def _base(model: WorldModel, base_dir: Path | None, w: int, h: int) -> Image:
    img = np.empty((h, w, 3), np.uint8)
    img[:] = bgr(model.floor.colour)
    if model.floor.texture is not None:
        path = Path(model.floor.texture)
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        texture = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if texture is None:
            raise ConfigError(
                str(path),
                [
                    Problem(
                        None,
                        None,
                        "floor.texture",
                        Text("cannot read this image file", "无法读取这个图片文件"),
                    )
                ],
            )
        img = np.asarray(cv2.resize(texture, (w, h), interpolation=cv2.INTER_AREA), np.uint8)
    if model.floor.grain > 0:
        rng = np.random.default_rng(model.floor.seed)
        coarse = rng.standard_normal((max(2, h // 8), max(2, w // 8))).astype(np.float32)
        fine = rng.standard_normal((h, w)).astype(np.float32)
        noise = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC) * 0.6 + fine * 0.4
        shaded = img.astype(np.float32) * (1.0 + model.floor.grain * noise[:, :, None])
        img = np.clip(shaded, 0, 255).astype(np.uint8)
    if model.floor.tile is not None:
        _grout(img, model, 1000.0 / model.resolution_mm, model.floor.tile)
    return img


def _grout(img: Image, model: WorldModel, ppm: float, tile: float) -> None:
    """Grout lines every ``tile`` metres from the floor's lower-left corner."""
    h, w = img.shape[:2]
    colour = bgr(model.floor.grout_colour)
    thickness = max(1, round(model.floor.grout_width * ppm))
    scale = 1 << SHIFT
    for i in range(1, math.ceil(model.size[0] / tile)):
        u = round((i * tile * ppm - 0.5) * scale)
        cv2.line(img, (u, 0), (u, (h - 1) * scale), colour, thickness, cv2.LINE_AA, SHIFT)
    for i in range(1, math.ceil(model.size[1] / tile)):
        v = round(((model.size[1] - i * tile) * ppm - 0.5) * scale)
        cv2.line(img, (0, v), ((w - 1) * scale, v), colour, thickness, cv2.LINE_AA, SHIFT)


def build_floor(model: WorldModel, base_dir: Path | None = None) -> FloorMap:
    """Draw the floor of ``model`` (texture paths are relative to ``base_dir``)."""
    ppm = 1000.0 / model.resolution_mm
    w = max(1, round(model.size[0] * ppm))
    h = max(1, round(model.size[1] * ppm))
    floor = FloorMap(_base(model, base_dir, w, h), ppm, model.size[0], model.size[1])
    img = floor.image
    scale = 1 << SHIFT
    for zone in model.zones:
        for poly in _zone_px(floor, zone):
            cv2.fillPoly(
                img, [np.round(poly * scale).astype(np.int32)], bgr(zone.colour), cv2.LINE_AA, SHIFT
            )
    for line in model.lines:
        pts, closed = line_points(line)
        px = np.round(floor.to_px(pts) * scale).astype(np.int32)
        thickness = max(1, round(line.width * ppm))
        cv2.polylines(img, [px], closed, bgr(line.colour), thickness, cv2.LINE_AA, SHIFT)
    for marker in model.markers:
        if marker.on_floor:
            texture = marker_texture(marker.dictionary, marker.id)
            paste_quad(img, texture, floor.to_px(marker_corners(marker)))
    return floor
