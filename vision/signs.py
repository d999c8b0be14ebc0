"""Read every traffic sign in a camera frame: the detector finds where, the classifier says which.

::

    from vision import SignReader

    with SignReader() as signs:
        for sign in signs(robot.camera.read()):
            print(sign.label, sign.name, round(sign.score, 2), sign.box.centre)
            if sign.label == "stop" and sign.box.h > 30:   # big: it is close
                robot.drive.stop()
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from models import Registry
from rcbase import Lang
from rcbase.closeable import Closeable
from vision.preprocess import Frame, check_frame
from vision.results import Box
from vision.runners import Classifier, Detector

__all__ = ["SignReader", "SignSeen"]


@dataclass(frozen=True)
class SignSeen:
    """One sign in the frame: which (``label``, ``name``), how sure (``score``), and where."""

    label: str
    name: str
    score: float  # the classifier's, 0..1
    box: Box
    found_score: float  # the detector's, 0..1


class SignReader(Closeable):
    """A :class:`Detector` that finds signs and a :class:`Classifier` that reads each one.

    Closing it frees both models.
    """

    def __init__(
        self,
        detector: str | Path = "sim-objects",
        classifier: str | Path = "traffic-signs",
        *,
        score: float | None = None,
        margin: float = 1.25,
        threads: int | None = None,
        lang: Lang | None = None,
        registry: Registry | None = None,
    ) -> None:
        self.detector = Detector(
            detector, score=score, threads=threads, lang=lang, registry=registry
        )
        try:
            self.classifier = Classifier(classifier, threads=threads, lang=lang, registry=registry)
        except BaseException:
            self.detector.close()
            raise
        self.margin = margin

    def __call__(self, frame: Frame) -> list[SignSeen]:
        """Every sign found in ``frame``, best found first."""
        img = check_frame(frame)
        h, w = img.shape[:2]
        seen = []
        for d in self.detector(img):
            if d.label != "sign":
                continue
            cx, cy = d.box.centre
            side = max(d.box.w, d.box.h) * self.margin
            x0, y0 = max(0, round(cx - side / 2)), max(0, round(cy - side / 2))
            x1, y1 = min(w, round(cx + side / 2)), min(h, round(cy + side / 2))
            if x1 - x0 < 8 or y1 - y0 < 8:
                continue
            p = self.classifier(img[y0:y1, x0:x1])
            seen.append(SignSeen(p.label, p.name, p.score, d.box, d.score))
        return seen

    def _close(self) -> None:
        self.detector.close()
        self.classifier.close()
