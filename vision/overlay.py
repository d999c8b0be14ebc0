"""Drawing results on frames, and JPEG/MJPEG for previews.

Labels in Chinese need a font that has the characters: OpenCV 5 (the
``opencv-python-headless`` wheel RoboClass installs) carries one built in,
``cv2.FontFace("uni")``, so nothing is downloaded and no font file is needed.
With an older OpenCV, labels fall back to the Hershey font (English only;
characters it lacks are drawn as "?").

::

    from vision import draw_detections, encode_jpeg
    picture = draw_detections(frame, finder(frame))
    jpeg = encode_jpeg(picture, quality=70)
"""

from __future__ import annotations

from collections.abc import Iterable

import cv2
import numpy as np

from vision.preprocess import Frame, check_frame
from vision.results import Detection, Prediction

__all__ = [
    "MJPEG_BOUNDARY",
    "cjk_font_available",
    "draw_detections",
    "draw_prediction",
    "draw_text",
    "encode_jpeg",
    "mjpeg_part",
]

MJPEG_BOUNDARY = "roboclassframe"
_PALETTE = [(56, 56, 255), (151, 157, 255), (31, 112, 255), (29, 178, 255), (49, 210, 207),
            (10, 249, 72), (23, 204, 146), (134, 219, 61), (211, 188, 0), (209, 99, 0)]  # fmt: skip


def _font() -> object | None:
    face = getattr(cv2, "FontFace", None)
    if face is None:
        return None
    try:
        font: object = face("uni")
    except cv2.error:
        return None
    return font


_FONT = _font()


def cjk_font_available() -> bool:
    """True when labels can be drawn in Chinese (OpenCV 5's built-in "uni" font)."""
    return _FONT is not None


def draw_text(
    img: Frame, text: str, org: tuple[int, int], colour: tuple[int, int, int], size: int = 16
) -> Frame:
    """Write ``text`` (Chinese or English) with its baseline-left corner at ``org``, in place."""
    x, y = org
    if _FONT is not None:
        cv2.putText(img, text, (x, y), colour, _FONT, size)  # type: ignore[call-overload]
    else:
        ascii_text = text.encode("ascii", "replace").decode("ascii")
        cv2.putText(img, ascii_text, (x, y), cv2.FONT_HERSHEY_SIMPLEX, size / 30, colour, 1)
    return img


def _colour(index: int) -> tuple[int, int, int]:
    return _PALETTE[index % len(_PALETTE)]


def draw_detections(frame: Frame, detections: Iterable[Detection], copy: bool = True) -> Frame:
    """Boxes and labels ("停车 0.93") for each detection; a copy unless ``copy=False``."""
    img = check_frame(frame)
    out = img.copy() if copy else img
    labels: dict[str, int] = {}
    for d in detections:
        colour = _colour(labels.setdefault(d.label, len(labels)))
        x, y, w, h = d.box.as_ints()
        cv2.rectangle(out, (x, y), (x + w, y + h), colour, 2)
        draw_text(out, f"{d.name} {d.score:.2f}", (x + 2, max(14, y - 4)), colour, 14)
    return out


def draw_prediction(frame: Frame, prediction: Prediction, copy: bool = True) -> Frame:
    """The classifier's answer written in the top-left corner."""
    img = check_frame(frame)
    out = img.copy() if copy else img
    cv2.rectangle(out, (0, 0), (out.shape[1], 24), (0, 0, 0), -1)
    draw_text(out, f"{prediction.name} {prediction.score:.2f}", (4, 18), (255, 255, 255), 16)
    return out


def encode_jpeg(frame: Frame, quality: int = 75) -> bytes:
    """The frame as JPEG bytes (for a live preview the teacher turned on)."""
    ok, data = cv2.imencode(".jpg", check_frame(frame), [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise ValueError("OpenCV could not encode the frame as JPEG")
    return bytes(np.asarray(data).tobytes())


def mjpeg_part(jpeg: bytes) -> bytes:
    """One part of a ``multipart/x-mixed-replace; boundary=roboclassframe`` stream."""
    head = f"--{MJPEG_BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n\r\n"
    return head.encode("ascii") + jpeg + b"\r\n"
