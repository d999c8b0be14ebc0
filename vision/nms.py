"""Reading YOLOv8/YOLO11 detector outputs.

The output is ``[1, 4 + classes, N]``: for each of N candidate boxes, the
centre x, centre y, width and height in model-input pixels, then one score per
class (already 0..1). Candidates under the score threshold are dropped in
numpy; the rest go through OpenCV's non-maximum suppression
(``cv2.dnn.NMSBoxesBatched``: per class, like YOLO; ``cv2.dnn.NMSBoxes`` when
``agnostic``).
"""

from __future__ import annotations

from typing import Any, cast

import cv2
import numpy as np
from numpy.typing import NDArray

__all__ = ["decode_yolo"]


def decode_yolo(
    output: NDArray[Any],
    score_threshold: float,
    iou_threshold: float,
    *,
    max_detections: int = 100,
    agnostic: bool = False,
) -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.int64]]:
    """Boxes (N, 4: x, y, w, h in model pixels), scores (N,) and class ids (N,), best first."""
    out = output[0] if output.ndim == 3 else output
    if out.ndim != 2 or out.shape[0] < 5:
        raise ValueError(f"a YOLOv8 output is [1, 4 + classes, N], not {list(output.shape)}")
    scores_all = out[4:]
    best = scores_all.max(axis=0)
    keep = np.flatnonzero(best > score_threshold)
    empty = (np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int64))
    if keep.size == 0:
        return empty
    scores = best[keep].astype(np.float32)
    classes = scores_all[:, keep].argmax(axis=0).astype(np.int64)
    cxcywh = out[:4, keep].T.astype(np.float32)
    boxes = np.empty_like(cxcywh)
    boxes[:, 0] = cxcywh[:, 0] - cxcywh[:, 2] / 2
    boxes[:, 1] = cxcywh[:, 1] - cxcywh[:, 3] / 2
    boxes[:, 2:] = cxcywh[:, 2:]
    if agnostic:
        picked = cv2.dnn.NMSBoxes(
            cast(Any, boxes),
            cast(Any, scores),
            score_threshold,
            iou_threshold,
            top_k=max_detections,
        )
    else:
        picked = cv2.dnn.NMSBoxesBatched(
            cast(Any, boxes),
            cast(Any, scores),
            cast(Any, classes),
            score_threshold,
            iou_threshold,
            top_k=max_detections,
        )
    idx = np.asarray(picked, np.int64).reshape(-1)
    if idx.size == 0:
        return empty
    idx = idx[np.argsort(-scores[idx], kind="stable")][:max_detections]
    return boxes[idx], scores[idx], classes[idx]
