"""fleet/agent/preview.py without a broker: thumbnails, the robot's sender, the console's relay,
the protocol message, and the agent's frame tap in the lesson runner's robot server;
and the agent's rate limit on a job's output."""

from __future__ import annotations

import base64
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import cv2
import numpy as np
import pytest

from fleet.agent.preview import THUMBNAIL, FrameTap, PreviewSender, thumbnail
from fleet.console.preview import PreviewRelay
from fleet.core.errors import PreviewError
from fleet.core.protocol import (
    MAX_PREVIEW_JPEG,
    DropCounter,
    Preview,
    Topics,
    decode,
    encode,
)
from hardware.backends import open_backend
from hardware.kit import load_kit
from hardware.remote import Connection, RobotServer
from tests.integration.test_fleet_support import wait_until


def frame(value: int = 0, width: int = 320, height: int = 240) -> np.ndarray:
    rng = np.random.default_rng(value)
    return rng.integers(0, 255, (height, width, 3), dtype=np.uint8)


def test_thumbnail_is_a_small_jpeg_that_keeps_the_aspect() -> None:
    jpeg, width, height = thumbnail(frame(1, 640, 480))
    assert (width, height) == THUMBNAIL
    assert jpeg[:3] == b"\xff\xd8\xff"
    assert len(base64.b64encode(jpeg)) <= MAX_PREVIEW_JPEG
    decoded = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert decoded is not None
    assert decoded.shape == (120, 160, 3)
    _, width, height = thumbnail(frame(2, 320, 180))  # 16:9 stays 16:9
    assert (width, height) == (160, 90)
    _, width, height = thumbnail(frame(3, 80, 60))  # never enlarged
    assert (width, height) == (80, 60)


class Sent:
    """What a sender published, thread-safe."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.msgs: list[Preview] = []

    def __call__(self, msg: Preview) -> None:
        with self.lock:
            self.msgs.append(msg)

    def states(self) -> list[str]:
        with self.lock:
            return [m.state for m in self.msgs]

    def frames(self) -> list[Preview]:
        with self.lock:
            return [m for m in self.msgs if m.state == "frame"]


def sender(
    sent: Sent,
    *,
    camera: Callable[[], Any] | None = None,
    busy: Callable[[], bool] = lambda: False,
    seconds: float = 60.0,
) -> PreviewSender:
    return PreviewSender(
        "robot-07", sent, camera=lambda: camera, busy=busy, fps=2.0, seconds=seconds
    )


def test_sender_sends_frames_of_the_idle_robot_until_stopped() -> None:
    sent = Sent()
    n = iter(range(10_000))
    with sender(sent, camera=lambda: frame(next(n))) as s:
        assert not s.on
        until = s.start()
        assert until == pytest.approx(time.time() + 60, abs=2)
        wait_until(lambda: len(sent.frames()) >= 2, 10, "two frames")
        first, second = sent.frames()[:2]
        assert first.source == "robot"
        assert (first.width, first.height) == THUMBNAIL
        assert first.jpeg != second.jpeg
        assert second.seq > first.seq
        assert first.until == pytest.approx(until)
        s.stop()
        wait_until(lambda: sent.states()[-1] == "off", 5, "off")
        count = len(sent.msgs)
        time.sleep(1.2)  # off means off: nothing more
        assert len(sent.msgs) == count
        assert not s.on
        s.start()  # and on again
        wait_until(lambda: len(sent.msgs) > count + 1, 10, "frames again")
    assert sent.states()[-1] == "off"
    assert s.closed


def test_sender_turns_itself_off_after_its_time() -> None:
    sent = Sent()
    with sender(sent, camera=lambda: frame(), seconds=1.0) as s:
        s.start()
        wait_until(lambda: "off" in sent.states(), 10, "auto-off")
        assert not s.on
        assert sent.states()[0] == "frame"


def test_sender_says_when_there_is_no_camera_or_it_fails() -> None:
    sent = Sent()
    with sender(sent, camera=None) as s:
        s.start()
        wait_until(lambda: "no_camera" in sent.states(), 5, "no_camera")
    assert not sent.frames()

    def broken() -> np.ndarray:
        raise OSError("the cable is loose")

    sent = Sent()
    with sender(sent, camera=broken) as s:
        s.start()
        wait_until(lambda: "error" in sent.states(), 5, "error")
    error = next(m for m in sent.msgs if m.state == "error")
    assert "cable is loose" in (error.detail or "")


def test_sender_shows_only_frames_the_program_read_while_a_job_runs() -> None:
    """During a job the camera is the student's: the preview never reads it itself."""
    sent = Sent()
    reads = []

    def camera() -> np.ndarray:
        reads.append(1)
        return frame()

    with sender(sent, camera=camera, busy=lambda: True) as s:
        s.tap(frame(5))  # before the preview is on: not kept
        assert s.tap.newest()[2] is None
        s.start()
        time.sleep(0.7)
        assert not sent.msgs  # nothing read yet: nothing sent (not stale yet either)
        for i in range(3):
            s.tap(frame(10 + i))  # the program reads three frames; the newest is shown
        wait_until(lambda: len(sent.frames()) == 1, 5, "the program's frame")
        shown = sent.frames()[0]
        assert shown.source == "program"
        expected, _, _ = thumbnail(frame(12))
        assert base64.b64decode(shown.jpeg or "") == expected
        time.sleep(1.2)
        assert len(sent.frames()) == 1  # the same frame is not sent again
        wait_until(lambda: "no_frames" in sent.states(), 10, "no_frames once it is stale")
    assert reads == []
    assert s.tap.newest()[2] is None  # forgotten when the preview ends


def test_frame_tap_in_the_robot_server_sees_what_the_client_reads() -> None:
    """The lesson runner's robot server hands each frame the student reads to ``on_frame``."""
    kit = load_kit("sim")
    backend = open_backend("sim", kit, realtime=False)
    tap = FrameTap()
    tap.active = True
    parent, child = socket.socketpair()
    server = RobotServer(backend, parent, on_frame=tap)
    try:
        conn = Connection(child)
        reply, _ = conn.request({"op": "open", "kind": "camera", "name": "camera"})
        port = reply["port"]
        reply, blob = conn.request({"op": "call", "port": port, "method": "read", "args": []})
        assert reply["ok"], reply
        seq, age, kept = tap.newest()
        assert seq == 1
        assert age < 5
        assert kept is not None
        assert kept.tobytes() == blob
    finally:
        child.close()
        server.close()
        backend.close()


def test_relay_keeps_only_the_newest_picture_of_watched_robots() -> None:
    now = [1000.0]
    relay = PreviewRelay(max_watched=2, seconds=120, clock=lambda: now[0])

    def msg(device: str, seq: int, state: str = "frame") -> Preview:
        extra = {"jpeg": base64.b64encode(b"\xff\xd8\xff" + bytes([seq])).decode()}
        return Preview(
            device=device,
            seq=seq,
            ts=now[0],
            until=now[0] + 120,
            state=state,
            **(extra if state == "frame" else {}),
        )

    assert not relay.offer(msg("r1", 1))  # nobody watches r1: dropped
    assert relay.dropped == 1
    assert relay.latest("r1") is None
    watch = relay.start("r1", by="ms-li")
    assert watch["until"] == 1120
    assert relay.latest("r1") == (0, {"state": "waiting", "seq": 0, "until": 1120, "by": "ms-li"})
    assert relay.offer(msg("r1", 2))
    assert relay.offer(msg("r1", 3))
    latest = relay.latest("r1")
    assert latest is not None
    version, view = latest
    assert version == 2
    assert view["seq"] == 3
    assert view["state"] == "frame"
    assert relay.offer(msg("r1", 1, "off"))  # a late "off" of an earlier preview is ignored
    assert relay.latest("r1")[1]["seq"] == 3  # type: ignore[index]
    relay.start("r2", by="ms-li")
    with pytest.raises(PreviewError, match="at most 2"):
        relay.start("r3", by="mr-wu")
    relay.start("r1", by="mr-wu")  # again: the time starts over
    assert relay.watching() == {
        "r1": {"by": "mr-wu", "until": 1120},
        "r2": {"by": "ms-li", "until": 1120},
    }
    now[0] += 60
    relay.start("r1", by="mr-wu")
    now[0] += 61  # r2 ran out, r1 was renewed
    assert set(relay.watching()) == {"r1"}
    assert relay.latest("r2") is None
    assert relay.stop("r1")
    assert not relay.stop("r1")
    assert relay.latest("r1") is None  # the picture is gone with it


def test_preview_message_on_the_wire() -> None:
    topics = Topics("school", "room1")
    drops = DropCounter()
    good = Preview(
        device="robot-07",
        seq=1,
        ts=1.0,
        until=2.0,
        state="frame",
        source="program",
        jpeg="AAAA",
        width=160,
        height=120,
    )
    topic = topics.preview("robot-07")
    assert topic == "roboclass/v1/school/room1/dev/robot-07/up/preview"
    decoded = decode(topics, topic, encode(good), drops)
    assert decoded is not None
    assert decoded[1] == good
    # another robot's name inside, a picture over the limit, an unknown state: dropped, counted
    assert decode(topics, topics.preview("robot-08"), encode(good), drops) is None
    huge = encode(good).replace(b'"AAAA"', b'"' + b"A" * (MAX_PREVIEW_JPEG + 4) + b'"')
    assert decode(topics, topic, huge, drops) is None
    assert decode(topics, topic, encode(good).replace(b'"frame"', b'"movie"'), drops) is None
    assert drops.snapshot() == {"wrong_device": 1, "malformed": 2}
