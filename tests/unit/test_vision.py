"""vision/: runners on the shipped models, preprocessing, NMS, the pipeline, helpers."""

from __future__ import annotations

import copy
import json
import os
import pickle
import statistics
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import FrozenInstanceError
from pathlib import Path

import cv2
import numpy as np
import pytest
from click.testing import CliRunner

from hardware.sim import BodySpec, CameraSpec, Pose, World, sign_views
from models import SHIPPED_DIR, InputSpec, Normalise, Task, load_manifest
from roboclass.cli import cli
from vision import (
    ArucoReader,
    Classifier,
    Detector,
    FrameError,
    Pipeline,
    RunnerClosedError,
    SignReader,
    StaleFrameError,
    draw_detections,
    draw_prediction,
    encode_jpeg,
    find_blobs,
    find_line,
    read_qr,
)
from vision.bench import RUNNERS
from vision.nms import decode_yolo
from vision.overlay import cjk_font_available, draw_text, mjpeg_part
from vision.pipeline import LatestSlot, Result
from vision.preprocess import Preprocessor
from vision.results import Box, Detection, Prediction
from vision.session import default_threads


@pytest.fixture(scope="module")
def signs() -> Iterator[Classifier]:
    with Classifier("traffic-signs", threads=1, lang="zh") as c:
        yield c


# -- classifier on the real shipped model --------------------------------------------
def test_classifier_reads_sim_signs_it_never_saw(signs: Classifier) -> None:
    views = list(sign_views(1, 64, seed=4242))  # a seed no training run uses
    right = sum(signs(img).label == kind for kind, img in views)
    assert right >= 0.75 * len(views), f"{right}/{len(views)}"


def test_prediction_unpacks_and_speaks_chinese(signs: Classifier) -> None:
    (_, img), *_ = sign_views(1, 64, seed=4243, kinds=["stop"])
    result = signs(img)
    label, score = result
    assert (label, score) == (result.label, result.score)
    assert 0 < score <= 1
    assert result.top[0] == (label, score) and len(result.top) == 3
    if label == "stop":
        assert result.name == "停车"
    big = cv2.resize(img, (320, 240))  # any frame size: it is resized for the model
    assert signs(big).label == label


def test_prediction_is_a_frozen_pair_with_a_name() -> None:
    p = Prediction("stop", 0.9, "Stop", (("stop", 0.9), ("go", 0.1)))
    assert p == Prediction("stop", 0.9, "Stop", (("stop", 0.9), ("go", 0.1)))
    assert p != Prediction("stop", 0.9, "停车", (("stop", 0.9), ("go", 0.1)))
    pair = ("stop", 0.9)
    assert p != pair and pair != p  # as before: not equal to a plain tuple
    assert hash(p) == hash(Prediction("stop", 0.9, "Stop", (("stop", 0.9), ("go", 0.1))))
    assert pickle.loads(pickle.dumps(p)) == p and copy.deepcopy(p) == p
    assert repr(p) == (
        "Prediction(label='stop', score=0.9, name='Stop', top=(('stop', 0.9), ('go', 0.1)))"
    )
    for field in ("label", "score", "name", "top"):
        with pytest.raises(FrozenInstanceError):
            setattr(p, field, None)
    assert Prediction(label="go", score=0.5, name="Go").top == ()


def test_closed_classifier_refuses_frames() -> None:
    c = Classifier("traffic-signs", threads=1)
    c.close()
    c.close()
    assert c.closed
    with pytest.raises(RunnerClosedError):
        c(np.zeros((64, 64, 3), np.uint8))


def test_closing_a_classifier_lets_the_call_in_progress_finish() -> None:
    c = Classifier("traffic-signs", threads=1)
    with c._lock:  # as a call in progress holds it
        closer = threading.Thread(target=c.close)
        closer.start()
        closer.join(0.2)
        assert c.closed and closer.is_alive()  # closed at once, freed after the call
        assert c.infer(c.preprocess(np.zeros((64, 64, 3), np.uint8))[0])  # the call goes on
    closer.join(5)
    assert not closer.is_alive()
    with pytest.raises(RunnerClosedError):
        c.infer(np.zeros((1, 64, 64, 3), np.uint8))


STUDENT = """
import numpy as np
from vision import (
    ArucoReader, Classifier, Detector, FaceDetector, Pipeline, SignReader, draw_detections,
    draw_prediction, encode_jpeg, find_blobs, find_line, read_qr,
)

frame = np.zeros((240, 320, 3), np.uint8)
with Classifier("traffic-signs") as sign:
    label, score = sign(frame)
    if label == "stop" and score > 0.8:
        print(sign(frame).name, encode_jpeg(draw_prediction(frame, sign(frame))))
    reveal_type(label)
    reveal_type(score)
    with Pipeline(lambda: frame, sign) as seen:
        reveal_type(seen.latest(max_age=0.5).value.score)
with Detector("sim-objects") as finder:
    things = finder(frame)
    reveal_type(things[0].box.centre)
    draw_detections(frame, things)
with FaceDetector() as faces:
    reveal_type(faces(frame)[0].eyes)
with SignReader() as signs:
    reveal_type(signs(frame)[0].label)
reveal_type(find_line(frame).position)
reveal_type(find_blobs(frame, "red")[0].area)
reveal_type(ArucoReader("DICT_4X4_50")(frame)[0].id)
reveal_type(read_qr(frame)[0].text)
"""


def test_a_students_program_types_cleanly_with_no_any(tmp_path: Path) -> None:
    (tmp_path / "student.py").write_text(STUDENT, encoding="utf-8")
    root = Path(__file__).resolve().parents[2]
    run = subprocess.run(
        # judge the student's file, not the libraries it imports
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--follow-imports=silent",
            "--no-incremental",
            "student.py",
        ],
        cwd=tmp_path,
        env={**os.environ, "MYPYPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    revealed = [line.split("Revealed type is ")[1] for line in run.stdout.splitlines()
                if "Revealed type is" in line]  # fmt: skip
    assert revealed == [
        '"str"', '"float"', '"float"', '"tuple[float, float]"',
        '"tuple[tuple[float, float], tuple[float, float]]"',
        '"str"', '"float"', '"int"', '"int"', '"str"',
    ]  # fmt: skip


@pytest.mark.parametrize(
    "frame",
    [
        np.zeros((64, 64, 4), np.uint8),
        np.zeros((64, 64, 3), np.float32),
        [[1, 2]],
        np.zeros((1, 5, 3), np.uint8),
    ],
    ids=["4 channels", "float", "list", "empty"],
)
def test_bad_frames_are_refused(signs: Classifier, frame: object) -> None:
    with pytest.raises(FrameError):
        signs(frame)  # type: ignore[arg-type]


def test_default_threads_leave_a_core() -> None:
    assert [default_threads(n) for n in (1, 2, 4)] == [1, 1, 3]


# -- preprocessing ----------------------------------------------------------------------
def test_letterbox_keeps_the_aspect_and_maps_boxes_back() -> None:
    spec = InputSpec(
        width=160, height=160, layout="NHWC", colour="BGR", dtype="uint8", resize="letterbox"
    )
    pre = Preprocessor(spec)
    frame = np.full((240, 320, 3), 200, np.uint8)
    tensor, box = pre(frame)
    assert tensor.shape == (1, 160, 160, 3)
    assert (box.scale_x, box.pad_x, box.pad_y) == (0.5, 0.0, 20.0)
    assert (tensor[0, :20] == 114).all() and (tensor[0, 20:140] == 200).all()
    boxes = np.array([[10.0, 30.0, 20.0, 10.0]], np.float32)
    assert box.to_frame(boxes).tolist() == [[20.0, 20.0, 40.0, 20.0]]


def test_rgb_sources_and_float_nchw_models() -> None:
    norm = Normalise(mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25))
    spec = InputSpec(
        width=8, height=8, layout="NCHW", colour="RGB", dtype="float32", normalise=norm
    )
    bgr = np.zeros((8, 8, 3), np.uint8)
    bgr[:, :, 0] = 255  # blue
    from_bgr, _ = Preprocessor(spec, "BGR")(bgr)
    from_rgb, _ = Preprocessor(spec, "RGB")(bgr[:, :, ::-1].copy())
    assert from_bgr.shape == (1, 3, 8, 8) and from_bgr.dtype == np.float32
    np.testing.assert_allclose(from_bgr, from_rgb)
    np.testing.assert_allclose(from_bgr[0, 2], 2.0)  # blue is the last RGB channel: (1 - .5) / .25
    np.testing.assert_allclose(from_bgr[0, 0], -2.0)


def test_the_input_buffer_is_reused() -> None:
    spec = InputSpec(width=16, height=16, layout="NHWC", colour="BGR", dtype="uint8")
    pre = Preprocessor(spec)
    a, _ = pre(np.zeros((30, 40, 3), np.uint8))
    b, _ = pre(np.full((30, 40, 3), 9, np.uint8))
    assert a is b and int(b.max()) == 9


# -- YOLO output and NMS -----------------------------------------------------------------
def yolo(
    *candidates: tuple[float, float, float, float, int, float], classes: int = 2
) -> np.ndarray:
    out = np.zeros((1, 4 + classes, len(candidates)), np.float32)
    for i, (cx, cy, w, h, c, s) in enumerate(candidates):
        out[0, :4, i] = (cx, cy, w, h)
        out[0, 4 + c, i] = s
    return out


def test_nms_keeps_the_best_of_overlapping_boxes_per_class() -> None:
    out = yolo(
        (50, 50, 20, 20, 0, 0.9),
        (52, 50, 20, 20, 0, 0.8),  # overlaps the first, same class: suppressed
        (52, 50, 20, 20, 1, 0.7),  # same place, other class: kept
        (150, 50, 20, 20, 0, 0.6),  # far away: kept
        (300, 50, 20, 20, 1, 0.2),  # under the threshold
    )
    boxes, scores, classes = decode_yolo(out, 0.5, 0.45)
    assert boxes.tolist() == [[40, 40, 20, 20], [42, 40, 20, 20], [140, 40, 20, 20]]
    assert scores.tolist() == pytest.approx([0.9, 0.7, 0.6])
    assert classes.tolist() == [0, 1, 0]
    _, _, agnostic = decode_yolo(out, 0.5, 0.45, agnostic=True)
    assert agnostic.tolist() == [0, 0]
    _, top, _ = decode_yolo(out, 0.5, 0.45, max_detections=1)
    assert top.tolist() == pytest.approx([0.9])


def test_nms_iou_threshold_and_empty_outputs() -> None:
    out = yolo((50, 50, 20, 20, 0, 0.9), (60, 50, 20, 20, 0, 0.8))  # IoU = 10*20 / 600 = 1/3
    assert len(decode_yolo(out, 0.5, 0.3)[0]) == 1
    assert len(decode_yolo(out, 0.5, 0.4)[0]) == 2
    boxes, scores, classes = decode_yolo(out, 0.95, 0.5)
    assert boxes.shape == (0, 4) and scores.shape == (0,) and classes.shape == (0,)
    with pytest.raises(ValueError, match="4 \\+ classes"):
        decode_yolo(np.zeros((1, 3, 5), np.float32), 0.5, 0.5)


# -- the latest-frame slot and the pipeline -------------------------------------------
def test_slot_keeps_only_the_newest() -> None:
    slot: LatestSlot[str] = LatestSlot()
    slot.put("a")
    slot.put("b")
    item = slot.get(after=0, timeout=0)
    assert item is not None and (item.seq, item.value) == (2, "b")
    assert slot.dropped == 1
    assert slot.get(after=2, timeout=0.01) is None  # nothing newer
    slot.close()
    assert slot.get(after=2) is None  # closed: returns at once


def test_slot_wakes_every_waiter_on_put_and_on_close() -> None:
    slot: LatestSlot[str] = LatestSlot()
    got: list[str | None] = []

    def wait(after: int) -> None:
        item = slot.get(after=after, timeout=30)
        got.append(None if item is None else item.value)

    def run_waiters(after: int) -> list[threading.Thread]:
        waiters = [threading.Thread(target=wait, args=(after,)) for _ in range(3)]
        for t in waiters:
            t.start()
        return waiters

    first = run_waiters(0)
    slot.put("a")
    for t in first:
        t.join(30)
    assert got == ["a", "a", "a"]
    assert slot.get(after=1, timeout=0.01) is None  # timed out: nothing newer than "a"
    got.clear()
    second = run_waiters(1)
    slot.close()  # wakes them with nothing
    for t in second:
        t.join(30)
    assert got == [None, None, None] and not any(t.is_alive() for t in first + second)
    with pytest.raises(RunnerClosedError):
        slot.put("b")


class GatedSource:
    """Frames numbered 1, 2, ...; each read waits until the test opens the gate."""

    def __init__(self) -> None:
        self.gate = threading.Semaphore(0)
        self.n = 0
        self.stopped = False

    def stop(self) -> None:
        self.stopped = True
        self.gate.release()

    def read(self) -> np.ndarray:
        if not self.gate.acquire(timeout=5) or self.stopped:
            raise StopIteration
        self.n += 1
        return np.full((4, 4, 3), self.n, np.uint8)


def test_pipeline_works_on_the_newest_frame_and_drops_the_rest() -> None:
    source = GatedSource()
    release_model = threading.Event()
    busy = threading.Event()
    seen: list[int] = []

    def model(frame: np.ndarray) -> int:
        busy.set()
        release_model.wait(5)
        seen.append(int(frame[0, 0, 0]))
        return seen[-1] * 10

    results: list[Result[int]] = []
    two = threading.Event()

    def collect(result: Result[int]) -> None:
        results.append(result)
        if len(results) == 2:
            two.set()

    with Pipeline(source.read, model, on_result=collect) as pipe:
        source.gate.release()  # frame 1: the model takes it and waits
        assert busy.wait(5)  # the model really has frame 1 before 2, 3, 4 come
        for _ in range(3):  # frames 2, 3, 4 arrive while the model is busy
            source.gate.release()
        while source.n < 4 or pipe.frames.peek().seq < 4:  # type: ignore[union-attr]
            pass
        release_model.set()
        assert two.wait(5)
        newest = pipe.latest(timeout=5)  # only the newest result is kept, too
        source.stop()
    assert seen == [1, 4]  # 2 and 3 were replaced, never queued
    assert [r.value for r in results] == [10, 40]
    assert newest.value == 40 and newest.frame_seq == 4 and pipe.dropped == 2
    assert newest.latency >= 0 and newest.age >= newest.latency
    assert pipe.closed and not any(t.is_alive() for t in pipe._threads)


def test_pipeline_raises_model_errors_and_ends_with_the_source() -> None:
    def broken(frame: np.ndarray) -> None:
        raise ValueError("boom")

    frames = [np.zeros((4, 4, 3), np.uint8)]
    with Pipeline(frames, broken) as pipe, pytest.raises(ValueError, match="boom"):
        pipe.latest(timeout=5)
    with Pipeline(frames, lambda f: int(f.sum())) as pipe:
        assert [r.value for r in pipe] == [0]  # iteration stops when the source ends
        with pytest.raises(StaleFrameError, match="source ended"):
            pipe.latest(timeout=0.1)
        pipe.close()  # twice is fine


def test_pipeline_skips_frames_older_than_max_age() -> None:
    now = [100.0]
    frames = iter([np.zeros((4, 4, 3), np.uint8)])

    def source() -> np.ndarray:
        frame = next(frames)
        return frame

    def clock() -> float:
        now[0] += 1.0  # every look at the clock is a second later
        return now[0]

    with Pipeline(source, lambda f: 1, max_age=0.5, clock=clock) as pipe:
        with pytest.raises(StaleFrameError):
            pipe.latest(timeout=3)
        assert pipe.stale == 1 and pipe.processed == 0


def test_pipeline_with_the_classifier_on_sim_frames(signs: Classifier) -> None:
    frames = [img for _, img in sign_views(1, 64, seed=4244, kinds=["left", "right"])]
    with Pipeline(frames, signs, fps=200) as pipe:
        results = list(pipe)
    assert results and all(r.value.label in signs.labels for r in results)


# -- classic helpers on rendered images -----------------------------------------------
def test_line_position_and_angle_on_a_drawn_line() -> None:
    img = np.full((120, 160, 3), 230, np.uint8)
    cv2.line(img, (120, 119), (120, 60), (20, 20, 20), 8)  # straight, right of centre
    line = find_line(img)
    assert line.found
    assert line.position == pytest.approx((120 - 79.5) / 79.5, abs=0.03)
    assert abs(line.angle) < 2
    img[:] = 230
    cv2.line(img, (80, 119), (120, 60), (20, 20, 20), 8)  # leaning right
    assert find_line(img).angle > 20
    assert not find_line(np.full((120, 160, 3), 230, np.uint8)).found


def test_line_in_the_simulator_camera() -> None:
    world = World.empty(
        2.0, 2.0, lines=[{"shape": "polyline", "points": [(1.0, 0.2), (1.0, 1.8)], "width": 0.02}]
    )
    robot = world.add_robot(BodySpec(), Pose(1.03, 0.5, 90.0))  # line 3 cm to the robot's left
    frame = robot.camera(CameraSpec(width=160, height=120, tilt_deg=-30)).read()
    line = find_line(frame)
    assert line.found and line.position < -0.05


def test_colour_blobs() -> None:
    img = np.full((100, 100, 3), 255, np.uint8)
    cv2.circle(img, (30, 30), 10, (0, 0, 255), -1)  # red (BGR)
    cv2.rectangle(img, (60, 60), (90, 80), (255, 0, 0), -1)  # blue
    red = find_blobs(img, "red")
    assert len(red) == 1 and red[0].centre == pytest.approx((30, 30), abs=0.5)
    blue = find_blobs(img, "blue")
    assert len(blue) == 1 and blue[0].box.as_ints() == (60, 60, 31, 21)
    assert find_blobs(img, "green") == []
    with pytest.raises(ValueError, match="unknown colour"):
        find_blobs(img, "pink")


def test_aruco_markers() -> None:
    dictionary = cv2.aruco.getPredefinedDictionary(cv2.aruco.DICT_4X4_50)
    img = np.full((200, 300), 255, np.uint8)
    img[40:140, 30:130] = cv2.aruco.generateImageMarker(dictionary, 7, 100)
    img[40:140, 170:270] = cv2.aruco.generateImageMarker(dictionary, 3, 100)
    found = ArucoReader("DICT_4X4_50")(cv2.cvtColor(img, cv2.COLOR_GRAY2BGR))
    assert [m.id for m in found] == [3, 7]
    assert found[1].centre == pytest.approx((79.5, 89.5), abs=1.5)
    with pytest.raises(ValueError, match="unknown ArUco dictionary"):
        ArucoReader("DICT_9X9")


def test_qr_codes() -> None:
    code = cv2.QRCodeEncoder.create().encode("机器人 robot 7")
    img = cv2.copyMakeBorder(
        cv2.resize(code, None, fx=5, fy=5, interpolation=cv2.INTER_NEAREST),
        30,
        30,
        30,
        30,
        cv2.BORDER_CONSTANT,
        value=255,
    )
    found = read_qr(cv2.cvtColor(img, cv2.COLOR_GRAY2BGR))
    assert [q.text for q in found] == ["机器人 robot 7"]
    assert read_qr(np.full((50, 50, 3), 255, np.uint8)) == []


# -- overlays and previews -----------------------------------------------------------
def test_chinese_labels_are_drawn_with_opencvs_own_font() -> None:
    assert cjk_font_available()  # OpenCV 5 carries the "uni" font
    img = np.zeros((40, 120, 3), np.uint8)
    draw_text(img, "停车", (4, 30), (255, 255, 255), 24)
    assert img.any()
    drawn = draw_detections(img, [Detection("stop", 0.9, "停车", Box(10, 10, 50, 20))])
    assert drawn is not img and (drawn != img).any()


def test_jpeg_and_mjpeg(signs: Classifier) -> None:
    frame = next(iter(sign_views(1, 64, seed=4245, kinds=["stop"])))[1]
    picture = draw_prediction(frame, signs(frame))
    jpeg = encode_jpeg(picture, quality=80)
    assert jpeg[:2] == b"\xff\xd8"
    assert cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR).shape == (64, 64, 3)
    part = mjpeg_part(jpeg)
    assert part.startswith(b"--roboclassframe\r\nContent-Type: image/jpeg\r\n")
    assert f"Content-Length: {len(jpeg)}".encode() in part and part.endswith(jpeg + b"\r\n")


def test_prepare_then_finish_gives_the_same_answer(signs: Classifier) -> None:
    frame = cv2.resize(next(iter(sign_views(1, 64, seed=4246, kinds=["yield"])))[1], (320, 240))
    assert signs.finish(signs.prepare(frame)) == signs(frame)
    assert signs.timings.pre > 0 and signs.timings.infer > 0


def test_pipeline_prepares_in_the_camera_thread() -> None:
    threads: dict[str, str] = {}

    class Split:
        def prepare(self, frame: np.ndarray) -> int:
            threads["prepare"] = threading.current_thread().name
            return int(frame.sum())

        def finish(self, prepared: int) -> int:
            threads["finish"] = threading.current_thread().name
            return prepared + 1

        def __call__(self, frame: np.ndarray) -> int:
            return self.finish(self.prepare(frame))

    frames = [np.ones((2, 2, 3), np.uint8)]
    with Pipeline(frames, Split()) as pipe:
        assert [r.value for r in pipe] == [13]
    assert threads == {"prepare": "vision-camera", "finish": "vision-model"}
    with Pipeline(frames, Split(), split=False) as pipe:
        assert [r.value for r in pipe] == [13]
    assert threads == {"prepare": "vision-model", "finish": "vision-model"}


def test_pipeline_reads_a_model_output_in_the_thread_that_asks_and_only_once() -> None:
    calls: list[tuple[str, str]] = []
    source = GatedSource()

    class Three:
        def prepare(self, frame: np.ndarray) -> int:
            calls.append(("prepare", threading.current_thread().name))
            return int(frame[0, 0, 0])

        def compute(self, prepared: int) -> int:
            calls.append(("compute", threading.current_thread().name))
            return prepared * 10

        def read(self, computed: int) -> str:
            calls.append(("read", threading.current_thread().name))
            return f"frame {computed // 10}"

        def finish(self, prepared: int) -> str:
            return self.read(self.compute(prepared))

        def __call__(self, frame: np.ndarray) -> str:
            return self.finish(self.prepare(frame))

    with Pipeline(source.read, Three()) as pipe:
        source.gate.release()
        first = pipe.latest(timeout=5)
        assert ("read", "MainThread") not in calls  # nobody asked for the value yet
        assert first.value == "frame 1" and first.value == "frame 1"  # read once, kept
        source.gate.release()
        second = pipe.latest(timeout=5)  # this one's value is never asked for
        source.stop()
    assert second.frame_seq == 2
    assert calls == [
        ("prepare", "vision-camera"),
        ("compute", "vision-model"),
        ("read", "MainThread"),
        ("prepare", "vision-camera"),
        ("compute", "vision-model"),
    ]


def test_a_runner_split_in_three_gives_the_same_answer(signs: Classifier) -> None:
    frame = cv2.resize(next(iter(sign_views(1, 64, seed=4247, kinds=["left"])))[1], (320, 240))
    computed = signs.compute(signs.prepare(frame))
    assert signs.read(computed) == signs(frame) and signs(frame).label == "left"
    assert computed.infer_seconds > 0 and signs.timings.post > 0


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="thread affinity is Linux-only")
def test_pipeline_keeps_camera_and_model_threads_on_different_cores() -> None:
    seen: dict[str, set[int]] = {}

    class Split:
        def prepare(self, frame: np.ndarray) -> int:
            seen["camera"] = os.sched_getaffinity(0)
            return 1

        def finish(self, prepared: int) -> int:
            seen["model"] = os.sched_getaffinity(0)
            return prepared

        def __call__(self, frame: np.ndarray) -> int:
            return self.finish(self.prepare(frame))

    frames = [np.ones((2, 2, 3), np.uint8)]
    everything = os.sched_getaffinity(0)
    with Pipeline(frames, Split(), pin=True) as pipe:
        assert [r.value for r in pipe] == [1]
    if len(everything) < 2:  # one core: nothing to split, nothing pinned
        assert pipe.cores is None
        assert seen == {"camera": everything, "model": everything}
    else:
        assert pipe.cores is not None
        assert seen["camera"] == {max(everything)}
        assert seen["model"] == everything - {max(everything)}
    assert os.sched_getaffinity(0) == everything  # the caller's thread is left alone
    with Pipeline(frames, Split()) as pipe:  # not pinned by default
        assert [r.value for r in pipe] == [1]
    assert seen == {"camera": everything, "model": everything}


def test_vision_bench_cli_reports_raw_and_pipeline() -> None:
    result = CliRunner().invoke(
        cli, ["vision", "bench", "traffic-signs", "--threads", "1", "--seconds", "0.2", "--json"]
    )
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.output)
    assert row["model"] == "traffic-signs" and row["threads"] == 1
    assert row["raw_fps"] > 0 and row["pipeline_fps"] > 0 and row["serial_fps"] > 0
    assert len(row["ratios"]) == 4 and all(r > 0 for r in row["ratios"])  # one a turn
    assert row["ratio"] == pytest.approx(statistics.median(row["ratios"]))
    assert 0 <= row["latency_ms_p50"] <= row["latency_ms_p95"]
    assert row["rss_mb"] > 0


def test_vision_bench_cli_names_a_missing_model_in_both_languages() -> None:
    for lang, words in (("en", "no model called 'nosuch'"), ("zh", "没有名为 'nosuch' 的模型")):
        result = CliRunner().invoke(cli, ["--lang", lang, "vision", "bench", "nosuch"])
        assert result.exit_code == 1 and words in result.output, result.output


def test_every_task_has_a_runner_to_bench() -> None:
    assert set(RUNNERS) == set(Task)
    assert all(runner.task == task for task, runner in RUNNERS.items())


@pytest.mark.parametrize("model", sorted(p.stem for p in SHIPPED_DIR.glob("*.yaml")))
def test_vision_bench_cli_answers_for_every_shipped_model(model: str) -> None:
    args = ["--threads", "1", "--seconds", "0", "--frames", "2", "--json"]
    result = CliRunner().invoke(cli, ["vision", "bench", model, *args])
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.output)
    assert row["model"] == model
    assert row["task"] == load_manifest(SHIPPED_DIR / f"{model}.yaml").task
    assert row["raw_fps"] > 0 and row["pipeline_fps"] > 0 and row["frames"] >= 4  # one a turn


# -- detector and sign reader on the real shipped detector ------------------------------
def sim_room() -> tuple[np.ndarray, tuple[float, float], tuple[float, float]]:
    """A frame with a stop sign and a box; the projected centres of both (pixels)."""
    world = World.empty(
        3.0,
        3.0,
        signs=[{"kind": "stop", "at": (1.6, 1.7), "facing": 180.0, "size": 0.12}],
        boxes=[{"at": (1.5, 1.25), "size": (0.15, 0.15), "height": 0.15, "colour": "#3070c0"}],
    )
    robot = world.add_robot(BodySpec(), Pose(0.6, 1.45, 0.0))
    cam = robot.camera(CameraSpec(width=320, height=240, tilt_deg=-5))
    sign_uv, _ = cam.project(np.array([[1.586, 1.7, 0.05 + 0.06]]))
    box_uv, _ = cam.project(np.array([[1.5, 1.25, 0.075]]))
    return cam.read(), tuple(sign_uv[0]), tuple(box_uv[0])  # type: ignore[return-value]


def test_detector_finds_the_sign_and_the_box() -> None:
    frame, sign_at, box_at = sim_room()
    with Detector("sim-objects", threads=1, lang="zh") as finder:
        found = finder(frame)
    assert finder.closed
    signs = [d for d in found if d.label == "sign"]
    boxes = [d for d in found if d.label == "obstacle"]
    assert signs and boxes, found
    assert signs[0].name == "标志"
    assert np.hypot(*np.subtract(signs[0].box.centre, sign_at)) < 12
    assert np.hypot(*np.subtract(boxes[0].box.centre, box_at)) < 25
    assert all(d.box.x >= 0 and d.box.x + d.box.w <= 320 for d in found)


def test_sign_reader_finds_and_reads_the_stop_sign() -> None:
    frame, sign_at, _ = sim_room()
    with SignReader(threads=1, lang="en") as reader:
        seen = reader(frame)
    assert reader.closed and reader.detector.closed and reader.classifier.closed
    assert [s.label for s in seen] == ["stop"]
    assert seen[0].name == "Stop" and seen[0].score > 0.5
    assert np.hypot(*np.subtract(seen[0].box.centre, sign_at)) < 12
