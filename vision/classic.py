"""Classic vision for lessons, no model needed: a line to follow and coloured blobs.

::

    from vision import find_line, find_blobs

    line = find_line(frame)                 # a dark line on a light floor (light=True for white)
    if line.found:
        robot.drive.arc(0.3, -0.5 * line.position)   # position -1 (left) .. +1 (right)

    for blob in find_blobs(frame, "red"):
        print(blob.centre, blob.area)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from vision.preprocess import Frame, check_frame
from vision.results import Box

__all__ = ["COLOURS", "Blob", "LineReading", "find_blobs", "find_line"]

# HSV ranges in OpenCV units (hue 0..179); red wraps round, so it has two.
COLOURS: dict[str, list[tuple[tuple[int, int, int], tuple[int, int, int]]]] = {
    "red": [((0, 100, 70), (8, 255, 255)), ((170, 100, 70), (179, 255, 255))],
    "orange": [((9, 110, 90), (20, 255, 255))],
    "yellow": [((21, 90, 90), (35, 255, 255))],
    "green": [((36, 70, 50), (85, 255, 255))],
    "blue": [((95, 100, 50), (130, 255, 255))],
    "purple": [((131, 60, 50), (165, 255, 255))],
}


@dataclass(frozen=True)
class LineReading:
    """Where the line is in the lower part of the picture.

    ``position``: -1 at the left edge, 0 in the middle, +1 at the right edge.
    ``angle``: degrees the line leans from straight ahead (+ to the right).
    """

    found: bool
    position: float = 0.0
    angle: float = 0.0
    points: tuple[tuple[float, float], ...] = ()  # line centre per strip, pixels, near first


def find_line(
    frame: Frame,
    *,
    light: bool = False,
    band: tuple[float, float] = (0.5, 1.0),
    strips: int = 5,
    min_fraction: float = 0.01,
) -> LineReading:
    """Find a line on the floor in the rows ``band`` (fractions of the height, top..bottom).

    ``light=True`` looks for a light line on a dark floor (the sign-road world).
    """
    img = check_frame(frame)
    gray = img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    h, w = gray.shape
    top, bottom = round(h * band[0]), round(h * band[1])
    roi = cv2.GaussianBlur(gray[top:bottom], (5, 5), 0)
    mode = cv2.THRESH_BINARY if light else cv2.THRESH_BINARY_INV
    level, mask = cv2.threshold(roi, 0, 255, mode | cv2.THRESH_OTSU)
    spread = float(roi.max()) - float(roi.min())
    if spread < 40:  # a plain floor: Otsu would split noise
        return LineReading(False)
    del level
    points: list[tuple[float, float]] = []
    rows = mask.shape[0]
    for i in range(strips):
        y1 = rows - round(i * rows / strips)
        y0 = rows - round((i + 1) * rows / strips)
        part = mask[y0:y1]
        m = cv2.moments(part, binaryImage=True)
        if m["m00"] < min_fraction * part.size:
            continue
        if m["m00"] > 0.6 * part.size:  # most of the strip: floor, not a line
            continue
        points.append((m["m10"] / m["m00"], top + y0 + m["m01"] / m["m00"]))
    if not points:
        return LineReading(False)
    position = (points[0][0] - (w - 1) / 2) / ((w - 1) / 2)
    angle = 0.0
    if len(points) >= 2:
        xs = np.array([p[0] for p in points])
        ys = np.array([p[1] for p in points])
        slope = float(np.polyfit(ys, xs, 1)[0])  # dx per dy (y grows downwards)
        angle = math.degrees(math.atan(-slope))
    return LineReading(True, float(np.clip(position, -1, 1)), angle, tuple(points))


@dataclass(frozen=True)
class Blob:
    """A patch of one colour: its ``box``, ``centre`` and ``area`` in pixels."""

    colour: str
    box: Box
    area: int
    centre: tuple[float, float]


def find_blobs(
    frame: Frame,
    colour: str | tuple[tuple[int, int, int], tuple[int, int, int]],
    *,
    min_area: int = 30,
) -> list[Blob]:
    """Patches of ``colour`` (a name in :data:`COLOURS` or an HSV (low, high) pair), biggest first."""
    img = check_frame(frame)
    if img.ndim == 2:
        raise ValueError("colour blobs need a colour frame")
    if isinstance(colour, str):
        if colour not in COLOURS:
            raise ValueError(f"unknown colour {colour!r}: one of {', '.join(COLOURS)}")
        ranges, name = COLOURS[colour], colour
    else:
        ranges, name = [colour], "custom"
    hsv = cv2.cvtColor(img, cv2.COLOR_BGR2HSV)
    mask: NDArray[Any] = np.zeros(img.shape[:2], np.uint8)
    for low, high in ranges:
        mask |= cv2.inRange(hsv, np.array(low, np.uint8), np.array(high, np.uint8))
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    n, _, stats, centroids = cv2.connectedComponentsWithStats(mask, connectivity=8)
    blobs = [
        Blob(
            name,
            Box(float(stats[i, 0]), float(stats[i, 1]), float(stats[i, 2]), float(stats[i, 3])),
            int(stats[i, 4]),
            (float(centroids[i, 0]), float(centroids[i, 1])),
        )
        for i in range(1, n)
        if stats[i, 4] >= min_area
    ]
    return sorted(blobs, key=lambda b: -b.area)
