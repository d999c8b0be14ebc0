"""Find faces: :class:`FaceDetector` (RetinaFace output layout).

::

    from vision import FaceDetector

    faces = FaceDetector()                  # the shipped "faces" model
    for face in faces(frame):
        print(face.score, face.box, face.eyes)

The shipped model is RetinaFace with a MobileNet-0.25 backbone (1.7 MB, MIT;
see ``models/shipped/faces.LICENSE.txt``). Like every model here it runs on
the robot: the camera frames never leave it.

RetinaFace's outputs, for N anchors on a grid at strides 8, 16 and 32 (two
anchor sizes per cell): ``loc`` (N, 4) box offsets, ``conf`` (N, 2)
background/face probabilities, ``landmarks`` (N, 10) five points. An offset
is relative to its anchor (centre, size), scaled by the variances 0.1 and
0.2, as in the original code.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, cast

import cv2
import numpy as np
from numpy.typing import NDArray

from models import Registry
from models.manifest import Task
from rcbase import Lang
from vision.preprocess import Frame, Letterbox, SourceColour
from vision.results import Box
from vision.runners import Runner

__all__ = ["Face", "FaceDetector", "decode_retinaface", "retinaface_anchors"]

STRIDES = (8, 16, 32)
ANCHOR_SIZES = ((16, 32), (64, 128), (256, 512))
VARIANCE_CENTRE, VARIANCE_SIZE = 0.1, 0.2


@dataclass(frozen=True, slots=True)
class Face:
    """A face: where (``box``), how sure (``score``), and five points on it.

    ``points`` are (x, y) in frame pixels: the eye on the left of the picture,
    the eye on the right, the tip of the nose, the mouth corner on the left and
    the one on the right. ``label`` and ``name`` make it drawable like a
    detection (:func:`vision.draw_detections`).
    """

    score: float
    box: Box
    points: tuple[tuple[float, float], ...]
    label: str = "face"
    name: str = "face"

    @property
    def eyes(self) -> tuple[tuple[float, float], tuple[float, float]]:
        return self.points[0], self.points[1]

    @property
    def nose(self) -> tuple[float, float]:
        return self.points[2]

    @property
    def centre(self) -> tuple[float, float]:
        return self.box.centre


@lru_cache(maxsize=8)
def retinaface_anchors(width: int, height: int) -> NDArray[np.float32]:
    """The anchors (N, 4: centre x, centre y, width, height in input pixels) for an input size.

    Grid cells row by row, two sizes per cell, stride 8 first: the order of the
    model's outputs.
    """
    parts = []
    for stride, sizes in zip(STRIDES, ANCHOR_SIZES, strict=True):
        nx, ny = math.ceil(width / stride), math.ceil(height / stride)
        xs, ys = np.meshgrid(np.arange(nx), np.arange(ny))
        centres = (np.column_stack((xs.ravel(), ys.ravel())) + 0.5) * stride
        for_cell = np.repeat(centres, len(sizes), axis=0)
        wh = np.tile(np.array([[s, s] for s in sizes], np.float64), (nx * ny, 1))
        parts.append(np.hstack((for_cell, wh)))
    anchors = np.vstack(parts).astype(np.float32)
    anchors.setflags(write=False)
    return anchors


def decode_retinaface(
    outputs: list[NDArray[Any]],
    width: int,
    height: int,
    score_threshold: float,
    iou_threshold: float,
    *,
    max_faces: int = 50,
) -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.float32]]:
    """Boxes (K, 4: x, y, w, h), scores (K,) and points (K, 5, 2), in input pixels, best first.

    ``outputs`` are the model's ``loc``, ``conf`` and ``landmarks`` for one
    image of ``width`` x ``height``.
    """
    loc, conf, marks = (np.asarray(o).reshape(-1, o.shape[-1]) for o in outputs[:3])
    anchors = retinaface_anchors(width, height)
    if loc.shape != (len(anchors), 4) or conf.shape != (len(anchors), 2):
        raise ValueError(
            f"a RetinaFace output for {width}x{height} has {len(anchors)} anchors; "
            f"got loc {list(loc.shape)} and conf {list(conf.shape)}"
        )
    scores = conf[:, 1]
    keep = np.flatnonzero(scores > score_threshold)
    empty = (
        np.zeros((0, 4), np.float32),
        np.zeros(0, np.float32),
        np.zeros((0, 5, 2), np.float32),
    )
    if keep.size == 0:
        return empty
    a = anchors[keep]
    centre, size = a[:, :2], a[:, 2:]
    offsets = loc[keep].astype(np.float32)
    xy = centre + offsets[:, :2] * VARIANCE_CENTRE * size
    wh = size * np.exp(offsets[:, 2:] * VARIANCE_SIZE)
    boxes = np.hstack((xy - wh / 2, wh)).astype(np.float32)
    points = (
        centre[:, None, :]
        + marks[keep].astype(np.float32).reshape(-1, 5, 2) * VARIANCE_CENTRE * size[:, None, :]
    )
    kept_scores = scores[keep].astype(np.float32)
    picked = cv2.dnn.NMSBoxes(
        cast(Any, boxes), cast(Any, kept_scores), score_threshold, iou_threshold, top_k=max_faces
    )
    idx = np.asarray(picked, np.int64).reshape(-1)
    if idx.size == 0:
        return empty
    idx = idx[np.argsort(-kept_scores[idx], kind="stable")][:max_faces]
    return boxes[idx], kept_scores[idx], points[idx].astype(np.float32)


class FaceDetector(Runner[list[Face]]):
    """Finds faces in a picture, with five points on each (eyes, nose, mouth corners).

    >>> faces = FaceDetector()                        # doctest: +SKIP
    >>> for face in faces(robot.camera.read()):       # doctest: +SKIP
    ...     print(round(face.score, 2), face.box.centre)
    """

    task = Task.FACE
    default_model = "faces"

    def __init__(
        self,
        model: str | Path | None = None,
        *,
        score: float | None = None,
        iou: float | None = None,
        max_faces: int = 50,
        threads: int | None = None,
        colour: SourceColour = "BGR",
        lang: Lang | None = None,
        registry: Registry | None = None,
    ) -> None:
        super().__init__(model, threads=threads, colour=colour, lang=lang, registry=registry)
        self.score = score if score is not None else self.manifest.output.score
        self.iou = iou if iou is not None else self.manifest.output.iou
        self.max_faces = max_faces

    def __call__(self, frame: Frame) -> list[Face]:
        """Every face in ``frame`` above the score threshold, best first."""
        return super().__call__(frame)

    def _read(
        self, outputs: list[NDArray[Any]], letterbox: Letterbox, frame_size: tuple[int, int]
    ) -> list[Face]:
        spec = self.manifest.input
        boxes, scores, points = decode_retinaface(
            outputs, spec.width, spec.height, self.score, self.iou, max_faces=self.max_faces
        )
        letterbox.to_frame(boxes)
        letterbox.points_to_frame(points)
        label, name = self._ids[0], self._names[0]
        return [
            Face(
                float(s),
                Box.inside(x, y, w, h, frame_size),
                tuple((float(px), float(py)) for px, py in pts),
                label,
                name,
            )
            for (x, y, w, h), s, pts in zip(
                boxes.tolist(), scores.tolist(), points.tolist(), strict=True
            )
        ]
