"""A run's events and one client's queue of them: order kept, poses dropped, nothing blocks."""

from __future__ import annotations

import base64
import threading

import cv2
import numpy as np

from fleet.console.simevents import MAX_QUEUED_POSES, SimEvent, Subscription
from fleet.console.simprobe import Probe, camera_jpeg, world_event
from hardware.backends.sim import SimBackend
from hardware.kit import load_kit
from lessons import find_lesson


def event(kind: str, seq: int) -> SimEvent:
    return SimEvent(kind, {"n": seq}, seq)


def test_events_come_out_in_the_order_they_went_in() -> None:
    sub = Subscription()
    kinds = ["world", "pose", "output", "pose", "camera", "output", "pose", "end"]
    for seq, kind in enumerate(kinds):
        sub.put(event(kind, seq))
    assert [e.kind for e in sub.drain()] == kinds
    assert sub.drain() == []
    assert sub.dropped == 0


def test_a_slow_client_loses_old_poses_and_pictures_never_output_or_the_end() -> None:
    sub = Subscription()
    seq = 0
    for i in range(500):
        sub.put(event("pose", seq))
        seq += 1
        if i % 50 == 0:
            sub.put(event("output", seq))
            sub.put(event("camera", seq + 1))
            seq += 2
    sub.put(event("end", seq))
    got = sub.drain()
    poses = [e for e in got if e.kind == "pose"]
    assert len(poses) == MAX_QUEUED_POSES
    assert poses[-1].seq == seq - 1  # the newest poses are the ones kept
    assert len([e for e in got if e.kind == "output"]) == 10
    assert len([e for e in got if e.kind == "camera"]) == 1  # the newest picture only
    assert got[-1].kind == "end"
    assert [e.seq for e in got] == sorted(e.seq for e in got)
    assert sub.dropped == 500 - MAX_QUEUED_POSES + 9


def test_iterating_ends_after_the_end_and_closing_wakes_a_waiting_reader() -> None:
    sub = Subscription()
    for seq, kind in enumerate(["world", "pose", "end", "pose"]):
        sub.put(event(kind, seq))
    assert [e.kind for e in sub] == ["world", "pose", "end"]

    closed: list[Subscription] = []
    waiting = Subscription(closed.append)
    got: list[SimEvent | None] = []
    reader = threading.Thread(target=lambda: got.append(waiting.get(timeout=60)))
    reader.start()
    waiting.close()
    reader.join(timeout=10)
    assert not reader.is_alive()
    assert got == [None]
    assert closed == [waiting]


def test_the_world_event_and_a_pose_describe_the_lesson_and_the_robot() -> None:
    lesson = find_lesson("line-follower")
    with SimBackend(load_kit("sim"), "oval-track", realtime=False) as backend:
        world = world_event(lesson, backend)
        assert world["lesson"] == "line-follower"
        assert world["size"] == [3.0, 2.0]
        assert world["floor"] == "#dcdcd2"
        (track,) = world["lines"]
        assert track["closed"] and len(track["points"]) > 100
        assert track["colour"] == "#191919"  # black tape as the camera sees it
        assert [c["name"] for c in world["checkpoints"]][:2] == ["finish", "far bend"]
        assert world["robot"]["start"] == {"x": 1.5, "y": 0.4, "heading": 0.0}
        assert world["parts"]["line"] == {"kind": "line", "count": 5}
        assert world["parts"]["distance"]["max"] == 2.0

        probe = Probe(backend)
        still = probe.pose()
        assert (still["x"], still["y"], still["heading"]) == (1.5, 0.4, 0.0)
        assert still["sensors"]["encoders"] == [0, 0]
        assert len(still["sensors"]["line"]) == 5
        assert min(still["sensors"]["line"]) < 0.3  # the start is on the tape
        assert 0 < still["sensors"]["distance"] <= 2.0
        assert still["sensors"]["button"] is False
        backend.motor("left").set(0.5)
        backend.motor("right").set(0.5)
        backend.sleep(1.0)
        moved = probe.pose()
        assert moved["t"] >= 1.0
        assert moved["x"] > still["x"] + 0.1
        assert moved["motors"] == [0.5, 0.5]
        assert moved["sensors"]["encoders"][0] > 0


def test_a_camera_picture_is_a_small_jpeg() -> None:
    frame = np.zeros((480, 640, 3), np.uint8)
    frame[:, 320:] = (0, 0, 255)  # right half red (BGR)
    data = camera_jpeg(frame)
    assert (data["width"], data["height"]) == (320, 240)

    image = cv2.imdecode(np.frombuffer(base64.b64decode(data["jpeg"]), np.uint8), cv2.IMREAD_COLOR)
    assert image.shape == (240, 320, 3)
    assert image[120, 300, 2] > 200 and image[120, 20, 2] < 50
