"""The confusion matrix as a picture a student can read.

Rows are what the picture really showed, columns what the robot said; the
diagonal (green) is right, everything else (red) is a mix-up. Label names are
drawn in the student's language (Chinese with OpenCV's built-in CJK font).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from rcbase import Lang, Text
from vision.overlay import draw_text
from vision.preprocess import Frame
from vision.teach.errors import ExportError
from vision.teach.head import Report

__all__ = ["confusion_picture", "save_confusion"]

_CELL = 64
_MARGIN = 150
_TOP = 60
_TITLE = {
    "en": ("really is", "robot said", "accuracy"),
    "zh": ("实际是", "机器人认为", "准确率"),
}


def confusion_picture(report: Report, names: list[str], lang: Lang = "en") -> Frame:
    """A BGR picture of ``report``'s confusion matrix, with ``names`` for the labels."""
    k = len(report.labels)
    width = _MARGIN + k * _CELL + 20
    height = _TOP + 40 + k * _CELL + 20
    img = np.full((height, max(width, 320), 3), 255, np.uint8)
    really, said, acc = _TITLE["zh" if lang == "zh" else "en"]
    draw_text(img, f"{acc} {report.accuracy:.0%} ({report.checked_on})", (10, 24), (0, 0, 0), 18)
    draw_text(img, f"{really} \u2193   {said} \u2192", (10, 50), (90, 90, 90), 14)
    y0 = _TOP + 40
    for j, name in enumerate(names):
        draw_text(img, name[:8], (_MARGIN + j * _CELL + 4, y0 - 8), (0, 0, 0), 14)
    for i, row in enumerate(report.confusion):
        total = max(1, sum(row))
        draw_text(img, names[i][:14], (8, y0 + i * _CELL + _CELL // 2 + 6), (0, 0, 0), 16)
        for j, count in enumerate(row):
            share = count / total
            base = (60, 170, 60) if i == j else (60, 60, 220)
            colour = tuple(int(255 - (255 - c) * share) for c in base)
            x, y = _MARGIN + j * _CELL, y0 + i * _CELL
            cv2.rectangle(img, (x, y), (x + _CELL - 2, y + _CELL - 2), colour, -1)
            cv2.rectangle(img, (x, y), (x + _CELL - 2, y + _CELL - 2), (180, 180, 180), 1)
            ink = (255, 255, 255) if share > 0.6 else (0, 0, 0)
            draw_text(img, str(count), (x + _CELL // 2 - 8, y + _CELL // 2 + 6), ink, 18)
    return img


def save_confusion(report: Report, names: list[str], path: str | Path, lang: Lang = "en") -> Path:
    """Save :func:`confusion_picture` as a PNG (or JPEG, by the file's suffix)."""
    target = Path(path)
    ok, data = cv2.imencode(target.suffix or ".png", confusion_picture(report, names, lang))
    if not ok:
        raise ExportError(Text(f"cannot write {target}", f"无法写入 {target}"))
    target.write_bytes(data.tobytes())
    return target
