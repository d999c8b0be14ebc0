"""ArUco markers and QR codes.

::

    from vision import ArucoReader, read_qr

    aruco = ArucoReader("DICT_4X4_50")
    for marker in aruco(frame):
        print(marker.id, marker.centre)

    for code in read_qr(frame):
        print(code.text)
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from vision.preprocess import Frame, check_frame

__all__ = ["ArucoReader", "Marker", "QRCode", "read_qr"]

Corners = tuple[tuple[float, float], ...]


def _corners(points: object) -> Corners:
    pts = np.asarray(points, np.float64).reshape(-1, 2)
    return tuple((float(x), float(y)) for x, y in pts)


def _centre(corners: Corners) -> tuple[float, float]:
    return (sum(c[0] for c in corners) / len(corners), sum(c[1] for c in corners) / len(corners))


@dataclass(frozen=True)
class Marker:
    """An ArUco marker: its ``id``, four corners (clockwise from top-left) and centre."""

    id: int
    corners: Corners
    centre: tuple[float, float]


class ArucoReader:
    """Finds ArUco markers of one dictionary (OpenCV >= 4.7 ``cv2.aruco.ArucoDetector``)."""

    def __init__(self, dictionary: str = "DICT_4X4_50") -> None:
        code = getattr(cv2.aruco, dictionary, None)
        if not isinstance(code, int) or not dictionary.startswith("DICT_"):
            raise ValueError(f"unknown ArUco dictionary {dictionary!r} (e.g. DICT_4X4_50)")
        self.dictionary = dictionary
        params = cv2.aruco.DetectorParameters()
        params.cornerRefinementMethod = cv2.aruco.CORNER_REFINE_SUBPIX
        self._detector = cv2.aruco.ArucoDetector(cv2.aruco.getPredefinedDictionary(code), params)

    def __call__(self, frame: Frame) -> list[Marker]:
        """The markers in ``frame``, sorted by id."""
        img = check_frame(frame)
        corners, ids, _ = self._detector.detectMarkers(img)
        if len(corners) == 0:
            return []
        found = []
        for c, i in zip(corners, np.asarray(ids).reshape(-1).tolist(), strict=True):
            cs = _corners(c)
            found.append(Marker(int(i), cs, _centre(cs)))
        return sorted(found, key=lambda m: m.id)


@dataclass(frozen=True)
class QRCode:
    """A QR code: the ``text`` it holds and where it is."""

    text: str
    corners: Corners
    centre: tuple[float, float]


def read_qr(frame: Frame) -> list[QRCode]:
    """Every QR code in ``frame`` that could be read."""
    img = check_frame(frame)
    ok, texts, points, _ = cv2.QRCodeDetector().detectAndDecodeMulti(img)
    if not ok or points is None:
        return []
    found = []
    for text, pts in zip(texts, points, strict=True):
        if text:
            cs = _corners(pts)
            found.append(QRCode(str(text), cs, _centre(cs)))
    return found
