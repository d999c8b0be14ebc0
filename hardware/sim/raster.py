"""Small drawing helpers shared by the floor, the camera and the top-down view."""

from __future__ import annotations

import math

import cv2
import numpy as np
from numpy.typing import NDArray

__all__ = ["fill_polygon", "paste_quad"]

Image = NDArray[np.uint8]
SHIFT = 4  # sub-pixel bits for OpenCV drawing


def fill_polygon(img: Image, pts: NDArray[np.float64], colour: tuple[int, int, int]) -> None:
    """Fill a convex polygon given in (sub-)pixel coordinates, anti-aliased."""
    fixed = np.round(pts * (1 << SHIFT)).astype(np.int32)
    cv2.fillConvexPoly(img, fixed, colour, cv2.LINE_AA, SHIFT)


def paste_quad(dst: Image, texture: Image, corners: NDArray[np.float64]) -> None:
    """Draw the BGRA ``texture`` into BGR ``dst`` so its corners land on ``corners``.

    ``corners`` are pixel coordinates of the texture's top-left, top-right,
    bottom-right and bottom-left corners. Only the bounding box is warped,
    and the texture's alpha blends it over what is already there.
    """
    h, w = dst.shape[:2]
    x0 = max(0, math.floor(float(corners[:, 0].min())))
    y0 = max(0, math.floor(float(corners[:, 1].min())))
    x1 = min(w, math.ceil(float(corners[:, 0].max())) + 1)
    y1 = min(h, math.ceil(float(corners[:, 1].max())) + 1)
    if x1 <= x0 or y1 <= y0:
        return
    th, tw = texture.shape[:2]
    src = np.array([[0, 0], [tw, 0], [tw, th], [0, th]], np.float32) - 0.5
    quad = (corners - np.array([x0, y0])).astype(np.float32)
    m = cv2.getPerspectiveTransform(src, quad)
    size = (x1 - x0, y1 - y0)
    warped = cv2.warpPerspective(
        texture,
        m,
        size,
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=(0, 0, 0, 0),
    )
    alpha = warped[:, :, 3:4].astype(np.float32) * (1.0 / 255.0)
    roi = dst[y0:y1, x0:x1]
    blended = roi.astype(np.float32) * (1.0 - alpha) + warped[:, :, :3].astype(np.float32) * alpha
    dst[y0:y1, x0:x1] = np.clip(blended + 0.5, 0, 255).astype(np.uint8)
