"""Sign and ArUco marker textures, drawn with OpenCV (nothing is downloaded).

Every texture is a square BGRA image; alpha is 0 outside the sign's shape, so
a round or triangular sign shows what is behind it. The same set is used by
the camera and to train the traffic-sign classifier::

    from hardware.sim import SIGN_KINDS, sign_texture
    images = {kind: sign_texture(kind, 64) for kind in SIGN_KINDS}
"""

from __future__ import annotations

import functools
import math

import cv2
import numpy as np
from numpy.typing import NDArray

__all__ = [
    "ARUCO_DICTIONARIES",
    "SIGN_KINDS",
    "aruco_dictionary_size",
    "marker_texture",
    "sign_colour",
    "sign_texture",
]

Image = NDArray[np.uint8]

SIGN_KINDS = (
    "stop",
    "yield",
    "no_entry",
    "left",
    "right",
    "straight",
    "speed_20",
    "speed_40",
    "parking",
    *(f"number_{d}" for d in range(10)),
)

ARUCO_DICTIONARIES = (
    "DICT_4X4_50",
    "DICT_4X4_100",
    "DICT_4X4_250",
    "DICT_5X5_50",
    "DICT_5X5_100",
    "DICT_6X6_50",
    "DICT_6X6_250",
    "DICT_ARUCO_ORIGINAL",
)

_RED = (40, 30, 200, 255)
_WHITE = (250, 250, 250, 255)
_BLUE = (170, 80, 10, 255)
_BLACK = (20, 20, 20, 255)
_FONT = cv2.FONT_HERSHEY_SIMPLEX


def _octagon(size: int, inset: float) -> NDArray[np.int32]:
    c = size / 2
    r = (size / 2 - inset) / math.cos(math.pi / 8)
    angles = [math.pi / 8 + k * math.pi / 4 for k in range(8)]
    return np.array([[c + r * math.cos(a), c + r * math.sin(a)] for a in angles], np.int32)


def _centred_text(img: Image, text: str, height_frac: float, colour: tuple[int, ...]) -> None:
    size = img.shape[0]
    thickness = max(1, round(size * height_frac / 6))
    (w, h), _ = cv2.getTextSize(text, _FONT, 1.0, thickness)
    scale = min(size * height_frac / h, size * 0.8 / w)
    thickness = max(1, round(scale * h / 6))
    (w, h), _ = cv2.getTextSize(text, _FONT, scale, thickness)
    org = ((size - w) // 2, (size + h) // 2)
    cv2.putText(img, text, org, _FONT, scale, colour, thickness, cv2.LINE_AA)


def _arrow(img: Image, angle_deg: float) -> None:
    """A white arrow pointing up (angle 0), rotated counter-clockwise by ``angle_deg``."""
    s = img.shape[0]
    pts = np.array(
        [[-0.09, 0.3], [0.09, 0.3], [0.09, -0.02], [0.22, -0.02], [0.0, -0.3], [-0.22, -0.02]],
        np.float64,
    )
    pts = np.vstack([pts, [[-0.09, -0.02]]])
    a = math.radians(angle_deg)
    rot = np.array([[math.cos(a), math.sin(a)], [-math.sin(a), math.cos(a)]])
    xy = (pts @ rot.T) * s + s / 2
    cv2.fillPoly(img, [np.round(xy * 16).astype(np.int32)], _WHITE, cv2.LINE_AA, shift=4)


def _round(img: Image, fill: tuple[int, ...], ring: tuple[int, ...] | None) -> None:
    s = img.shape[0]
    c = (s // 2, s // 2)
    cv2.circle(img, c, s // 2 - 1, ring or fill, -1, cv2.LINE_AA)
    if ring is not None:
        cv2.circle(img, c, round(s * 0.39), fill, -1, cv2.LINE_AA)


@functools.lru_cache(maxsize=256)
def _sign(kind: str, size: int) -> Image:
    img = np.zeros((size, size, 4), np.uint8)
    s = size
    if kind == "stop":
        cv2.fillConvexPoly(img, _octagon(s, 1), _WHITE, cv2.LINE_AA)
        cv2.fillConvexPoly(img, _octagon(s, s * 0.05), _RED, cv2.LINE_AA)
        _centred_text(img, "STOP", 0.22, _WHITE)
    elif kind == "yield":
        outer = np.array([[2, s * 0.08], [s - 2, s * 0.08], [s / 2, s * 0.95]], np.int32)
        inner = np.array([[s * 0.22, s * 0.2], [s * 0.78, s * 0.2], [s / 2, s * 0.72]], np.int32)
        cv2.fillConvexPoly(img, outer, _RED, cv2.LINE_AA)
        cv2.fillConvexPoly(img, inner, _WHITE, cv2.LINE_AA)
    elif kind == "no_entry":
        _round(img, _RED, None)
        cv2.rectangle(
            img, (round(s * 0.18), round(s * 0.42)), (round(s * 0.82), round(s * 0.58)), _WHITE, -1
        )
    elif kind in ("left", "right", "straight"):
        _round(img, _BLUE, _WHITE)
        _arrow(img, {"left": 90.0, "right": -90.0, "straight": 0.0}[kind])
    elif kind.startswith("speed_"):
        _round(img, _WHITE, _RED)
        _centred_text(img, kind.removeprefix("speed_"), 0.3, _BLACK)
    elif kind == "parking":
        cv2.rectangle(img, (1, 1), (s - 2, s - 2), _WHITE, -1)
        cv2.rectangle(
            img, (round(s * 0.05), round(s * 0.05)), (round(s * 0.95), round(s * 0.95)), _BLUE, -1
        )
        _centred_text(img, "P", 0.55, _WHITE)
    elif kind.startswith("number_"):
        cv2.rectangle(img, (0, 0), (s - 1, s - 1), _BLACK, -1)
        cv2.rectangle(
            img, (round(s * 0.06), round(s * 0.06)), (round(s * 0.94), round(s * 0.94)), _WHITE, -1
        )
        _centred_text(img, kind.removeprefix("number_"), 0.6, _BLACK)
    else:
        raise ValueError(f"unknown sign kind {kind!r}: one of {', '.join(SIGN_KINDS)}")
    img.setflags(write=False)
    return img


def sign_texture(kind: str, size: int = 128) -> Image:
    """The sign ``kind`` (one of :data:`SIGN_KINDS`) as a ``size`` x ``size`` BGRA image."""
    return _sign(kind, size).copy()


def sign_colour(kind: str) -> tuple[int, int, int]:
    """The sign's main colour (BGR), for maps."""
    if kind in ("stop", "yield", "no_entry", "speed_20", "speed_40"):
        return (40, 30, 200)
    if kind in ("left", "right", "straight", "parking"):
        return (170, 80, 10)
    return (20, 20, 20)


def aruco_dictionary_size(name: str) -> int:
    """How many marker ids the OpenCV dictionary ``name`` has."""
    return int(_dictionary(name).bytesList.shape[0])


@functools.lru_cache(maxsize=16)
def _dictionary(name: str) -> cv2.aruco.Dictionary:
    return cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, name))


@functools.lru_cache(maxsize=256)
def _marker(dictionary: str, marker_id: int, cell_px: int) -> Image:
    d = _dictionary(dictionary)
    cells = d.markerSize + 2  # the black border is one cell on each side
    inner = cv2.aruco.generateImageMarker(d, marker_id, cells * cell_px)
    margin = cell_px  # a white quiet zone one cell wide
    full = cv2.copyMakeBorder(inner, margin, margin, margin, margin, cv2.BORDER_CONSTANT, value=255)
    full = np.where(full > 127, 245, 20).astype(np.uint8)
    img = np.asarray(cv2.cvtColor(full, cv2.COLOR_GRAY2BGRA), np.uint8)
    img.setflags(write=False)
    return img


def marker_texture(dictionary: str, marker_id: int, cell_px: int = 16) -> Image:
    """An ArUco marker as BGRA, with a white margin one cell wide around the black square.

    The black square is ``(marker cells + 2) / (marker cells + 4)`` of the image width.
    """
    return _marker(dictionary, marker_id, cell_px).copy()


def marker_margin_fraction(dictionary: str) -> float:
    """Image width divided by the width of the black square."""
    cells = _dictionary(dictionary).markerSize + 2
    return (cells + 2) / cells
