"""vision.faces: the shipped RetinaFace model on a real face, and its decoding on crafted outputs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from models import SHIPPED_DIR, Registry
from vision import FaceDetector, Pipeline, draw_detections
from vision.bench import sample_frames  # the sim's sign-road world, 320x240
from vision.faces import Face, decode_retinaface, retinaface_anchors
from vision.results import Box

ASTRONAUT = Path(__file__).resolve().parents[1] / "data" / "astronaut.jpg"
# where her face is in the 256x256 picture (by eye: forehead to chin, ear to ear)
FACE = Box(88, 28, 52, 62)


def iou(a: Box, b: Box) -> float:
    x0, y0 = max(a.x, b.x), max(a.y, b.y)
    x1, y1 = min(a.x + a.w, b.x + b.w), min(a.y + a.h, b.y + b.h)
    inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    return inter / (a.area + b.area - inter)


def inside(point: tuple[float, float], box: Box) -> bool:
    return box.x <= point[0] <= box.x + box.w and box.y <= point[1] <= box.y + box.h


@pytest.fixture(scope="module")
def faces() -> Iterator[FaceDetector]:
    with FaceDetector(threads=1, lang="en") as detector:
        yield detector


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    img = cv2.imread(str(ASTRONAUT))
    assert img is not None, ASTRONAUT
    return img


def test_the_shipped_model_is_found_verified_and_described() -> None:
    entry = Registry([(SHIPPED_DIR, "package")]).find("faces", task="face")
    assert entry.manifest.output.format == "retinaface"
    assert entry.manifest.licence == "MIT"
    assert len(entry.read_verified()) == 1736694  # sha256 checked on the way
    notice = (SHIPPED_DIR / "faces.LICENSE.txt").read_text(encoding="utf-8")
    assert "MIT License" in notice and "yakhyo/retinaface-pytorch" in notice


def test_finds_the_one_face_with_its_eyes_nose_and_mouth(
    faces: FaceDetector, astronaut: np.ndarray
) -> None:
    found = faces(astronaut)
    assert len(found) == 1
    face = found[0]
    assert isinstance(face, Face) and face.label == "face" and face.name == "Face"
    assert face.score > 0.9
    assert iou(face.box, FACE) > 0.6, face.box
    assert all(inside(p, face.box) for p in face.points)
    (lx, ly), (rx, ry) = face.eyes
    assert lx < rx and abs(ly - ry) < face.box.h / 4  # the picture's left eye first, level
    assert ly < face.nose[1] < face.points[3][1]  # eyes above the nose above the mouth
    assert face.points[3][0] < face.points[4][0]


def test_a_mirrored_picture_keeps_the_points_in_picture_order(
    faces: FaceDetector, astronaut: np.ndarray
) -> None:
    mirrored = faces(np.ascontiguousarray(astronaut[:, ::-1]))
    assert len(mirrored) == 1
    (lx, _), (rx, _) = mirrored[0].eyes
    assert lx < rx
    expected = Box(256 - FACE.x - FACE.w, FACE.y, FACE.w, FACE.h)
    assert iou(mirrored[0].box, expected) > 0.6


def test_two_faces_of_different_sizes_in_one_frame(
    faces: FaceDetector, astronaut: np.ndarray
) -> None:
    frame = np.full((240, 320, 3), 90, np.uint8)  # the robot camera's size: no letterbox
    big = cv2.resize(astronaut, (160, 160))
    small = cv2.resize(astronaut, (96, 96))
    frame[40:200, 0:160] = big
    frame[100:196, 200:296] = small
    found = faces(frame)
    assert len(found) == 2
    centres = sorted(f.box.centre for f in found)
    assert centres[0][0] < 160 < 200 < centres[1][0]
    bigger, smaller = sorted(found, key=lambda f: -f.box.area)
    assert bigger.box.area > 2 * smaller.box.area


def test_no_faces_in_a_robot_room_or_a_blank_frame(faces: FaceDetector) -> None:
    for frame in [*sample_frames(4), np.zeros((240, 320, 3), np.uint8)]:
        assert faces(frame) == []


def test_runs_in_a_pipeline_and_draws(faces: FaceDetector, astronaut: np.ndarray) -> None:
    with Pipeline(lambda: astronaut, faces, fps=30) as seen:
        result = seen.latest(timeout=10)
    assert len(result.value) == 1 and iou(result.value[0].box, FACE) > 0.6
    drawn = draw_detections(astronaut, result.value)
    assert drawn.shape == astronaut.shape and not np.array_equal(drawn, astronaut)


def test_anchors_follow_the_models_output_order() -> None:
    anchors = retinaface_anchors(320, 240)
    assert anchors.shape == (40 * 30 * 2 + 20 * 15 * 2 + 10 * 8 * 2, 4)
    # the first cell of stride 8, both sizes; then the next cell to the right
    assert anchors[:3].tolist() == [[4, 4, 16, 16], [4, 4, 32, 32], [12, 4, 16, 16]]
    start16 = 40 * 30 * 2
    assert anchors[start16].tolist() == [8, 8, 64, 64]
    assert anchors[-1].tolist() == [9.5 * 32, 7.5 * 32, 512, 512]


def crafted(width: int, height: int) -> tuple[list[np.ndarray], np.ndarray]:
    anchors = retinaface_anchors(width, height)
    n = len(anchors)
    loc = np.zeros((1, n, 4), np.float32)
    conf = np.tile(np.array([[0.99, 0.01]], np.float32), (1, n, 1))
    marks = np.zeros((1, n, 10), np.float32)
    return [loc, conf, marks], anchors


def test_decoding_offsets_scores_and_overlaps() -> None:
    (loc, conf, marks), anchors = crafted(320, 240)
    a, b, c = 200, 201, 2500  # a and b: one cell, two sizes (16 and 32); c: far away
    conf[0, a] = [0.05, 0.95]
    conf[0, b] = [0.1, 0.9]  # overlaps a heavily once it is shrunk to a's size: dropped
    conf[0, c] = [0.2, 0.8]
    loc[0, b, 2:] = np.log(0.5) / 0.2  # width and height x 0.5: 32 -> 16
    loc[0, c, :2] = [1.0, -1.0]  # centre moved by 0.1 of its size
    marks[0, a] = [-1, -1, 1, -1, 0, 0, -1, 1, 1, 1]
    boxes, scores, points = decode_retinaface([loc, conf, marks], 320, 240, 0.5, 0.4)
    assert scores.tolist() == pytest.approx([0.95, 0.8])
    ax, ay, aw, _ = anchors[a].tolist()
    assert boxes[0].tolist() == pytest.approx([ax - aw / 2, ay - aw / 2, aw, aw])
    step = 0.1 * aw  # a point's offset is in tenths of its anchor's size
    assert points[0].reshape(-1).tolist() == pytest.approx(
        [ax - step, ay - step, ax + step, ay - step, ax, ay, ax - step, ay + step,
         ax + step, ay + step]
    )  # fmt: skip
    cx, cy, cw, ch = anchors[c].tolist()
    assert boxes[1].tolist() == pytest.approx(
        [cx + 0.1 * cw - cw / 2, cy - 0.1 * ch - ch / 2, cw, ch]
    )
    # nothing over the threshold: nothing at all, in the right shapes
    none = decode_retinaface([loc, conf, marks], 320, 240, 0.99, 0.4)
    assert [x.shape for x in none] == [(0, 4), (0,), (0, 5, 2)]


def test_outputs_of_another_input_size_are_a_clear_error() -> None:
    outputs, _ = crafted(640, 480)
    with pytest.raises(ValueError, match="3160 anchors"):
        decode_retinaface(outputs, 320, 240, 0.5, 0.4)
