"""Students' programs in the simulator on the console, in real time, in the real sandbox.

Each run is a lesson of the library with a student's program under
bubblewrap, the simulator stepping on the wall clock; what the page gets
is read both from a subscription and as Server-Sent Events over HTTP from
a tiny FastAPI app serving :func:`simrun_events` (the console's routes are
the lead's).
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import cv2
import numpy as np
import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import StreamingResponse

from fleet.console.api.simstream import simrun_events
from fleet.console.api.streams import event_stream
from fleet.console.simevents import MAX_QUEUED_POSES, SimEvent
from fleet.console.simruns import SimRun, SimRuns
from fleet.core.errors import SimRunError
from lessons import find_lesson
from tests.conftest import system_part

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

LESSON = find_lesson("line-follower")

# Follows the line for 3 s, printing and looking through the camera now and then.
FOLLOW = """\
import time
from hardware import Robot

with Robot() as robot:
    start = time.monotonic()
    n = 0
    while time.monotonic() - start < 3:
        where = robot.line.position
        robot.drive.arc(0.6, 0.0 if where is None else max(-1.0, min(1.0, -1.5 * where)))
        if n % 10 == 0:
            frame = robot.camera.read()
            print("step", n, "picture", frame.shape[1], "x", frame.shape[0])
        n += 1
        time.sleep(0.02)
    robot.drive.stop()
"""

# Drives on until someone stops it.
FOREVER = """\
import time
from hardware import Robot

with Robot() as robot:
    robot.drive.forward(0.3)
    while True:
        print("driving")
        time.sleep(0.2)
"""


@pytest.fixture(autouse=True)
def _sandbox() -> None:
    system_part("bwrap")


@contextlib.contextmanager
def serving(runs: SimRuns) -> Iterator[int]:
    """A tiny app with the SSE route of a run, on a free port (yields the port)."""
    app = FastAPI()

    @app.get("/runs/{run_id}/events")
    async def events(run_id: str, request: Request) -> StreamingResponse:
        return event_stream(simrun_events(runs, run_id, request))

    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive()
        thread.join(0.01)
    try:
        yield int(server.servers[0].sockets[0].getsockname()[1])
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def sse_events(port: int, run_id: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(event, data) of the run's stream, as a browser's EventSource would see them."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", f"/runs/{run_id}/events")
        response = conn.getresponse()
        assert response.status == 200
        assert response.getheader("Content-Type", "").startswith("text/event-stream")
        kind, data = "", ""
        for raw in response:
            line = raw.decode("utf-8").rstrip("\n")
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                data = line[6:]
            elif not line and kind:
                yield kind, json.loads(data)
                kind, data = "", ""
    finally:
        conn.close()


def moved(poses: list[dict[str, Any]]) -> float:
    return max(abs(p["x"] - poses[0]["x"]) + abs(p["y"] - poses[0]["y"]) for p in poses)


def wait_for(predicate: Any, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "waited too long"
        time.sleep(0.05)


def check_stream(kinds: list[str], datas: list[dict[str, Any]]) -> dict[str, Any]:
    """What every client of a FOLLOW run must have seen; returns the end."""
    assert kinds[0] == "world"
    assert datas[0]["lesson"] == "line-follower" and datas[0]["size"] == [3.0, 2.0]
    assert kinds[-1] == "end" and kinds.count("end") == 1 and kinds.count("world") == 1
    poses = [d for k, d in zip(kinds, datas, strict=True) if k == "pose"]
    assert len(poses) >= 20
    assert moved(poses) > 0.3  # the robot drove along the track
    assert [p["t"] for p in poses] == sorted(p["t"] for p in poses)
    assert any(p["motors"][0] > 0 for p in poses)
    assert all(len(p["sensors"]["line"]) == 5 for p in poses)
    lines = [d["line"] for k, d in zip(kinds, datas, strict=True) if k == "output"]
    assert lines[0] == "step 0 picture 320 x 240" and len(lines) >= 5
    pictures = [d for k, d in zip(kinds, datas, strict=True) if k == "camera"]
    assert pictures
    jpeg = np.frombuffer(base64.b64decode(pictures[-1]["jpeg"]), np.uint8)
    assert cv2.imdecode(jpeg, cv2.IMREAD_COLOR).shape == (240, 320, 3)
    end = datas[-1]
    assert end["lesson"] == "line-follower" and end["run_status"] == "finished"
    assert end["status"] == "failed" and end["score"] >= 10  # 3 s: no lap
    assert {i["id"]: i["passed"] for i in end["rubric"]}["moves"] is True
    assert {i["id"] for i in end["rubric"]} >= {"first-bend", "lap"}
    assert "output" not in end
    return end


def test_a_run_streams_its_world_poses_output_camera_and_grade_to_every_client() -> None:
    with SimRuns() as runs, serving(runs) as port:
        run = runs.start("ming", LESSON, FOLLOW, want_camera=True)
        assert runs.get(run.id) is run and runs.of("ming") is run
        slow = run.subscribe()  # reads nothing until the run has ended
        over_http: list[tuple[str, dict[str, Any]]] = []
        reader = threading.Thread(target=lambda: over_http.extend(sse_events(port, run.id)))
        reader.start()
        with run.subscribe() as sub:
            got = list(sub)
        reader.join(timeout=60)
        end = check_stream([e.kind for e in got], [e.data for e in got])
        check_stream([k for k, _ in over_http], [d for _, d in over_http])
        assert run.state == "ended" and run.result == end
        assert runs.running() == []

        # the slow client held nothing up: it has the newest poses, all the output, the end
        assert run.wait(0)
        late = slow.drain()
        slow.close()
        assert slow.dropped > 0
        assert late[0].kind == "world" and late[-1].data == end
        assert len([e for e in late if e.kind == "pose"]) == MAX_QUEUED_POSES
        assert [e.data for e in late if e.kind == "output"] == [
            e.data for e in got if e.kind == "output"
        ]
        # a page opened after the end gets the world, the output and the end again
        again = [k for k, _ in sse_events(port, run.id)]
        assert again[0] == "world" and again[-1] == "end" and "pose" not in again
        assert [k for k, _ in sse_events(port, "no-such-run")] == ["end"]


def poses_of(run: SimRun) -> Iterator[SimEvent]:
    with run.subscribe() as sub:
        yield from (e for e in sub if e.kind == "pose")


def test_stopping_a_run_stops_the_robot_and_a_new_run_replaces_the_old() -> None:
    with SimRuns() as runs, serving(runs) as port:
        first = runs.start("ming", LESSON, FOREVER)
        for pose in poses_of(first):
            if pose.data["x"] > 1.55:  # driving
                break
        # a page that goes away stops being served
        stream = sse_events(port, first.id)
        assert next(stream)[0] == "world"
        assert first.subscribers == 1
        stream.close()
        wait_for(lambda: first.subscribers == 0)

        second = runs.start("ming", LESSON, FOREVER)
        assert first.wait(60)
        assert first.result is not None and first.result["status"] == "stopped"
        assert first.result["error"] == "stopped: a new run started"
        assert runs.of("ming") is second and runs.running() == [second]

        seen: list[SimEvent] = []
        with second.subscribe() as sub:
            for event in sub:
                seen.append(event)
                if event.kind == "pose" and event.data["x"] > 1.55 and not second._stopped_by:
                    assert runs.stop("ming")  # the student presses Stop while it drives
        assert second.wait(0)
        assert second.result is not None and second.result["status"] == "stopped"
        assert second.result["error_zh"] == "用停止按钮停下了"
        poses = [e.data for e in seen if e.kind == "pose"]
        assert poses[-1]["motors"] == [0.0, 0.0]  # the robot came to rest stopped
        assert poses[-1]["x"] > 1.55
        assert seen[-1].kind == "end"
        assert not runs.stop("ming") and not runs.stop(second.id)


def test_the_console_runs_at_most_its_cap_and_programs_of_bounded_size() -> None:
    with SimRuns(max_runs=1, max_code_bytes=2000, workers=2, warm=[LESSON]) as runs:
        wait_for(lambda: runs.warmed(LESSON))  # each worker ran the lesson once
        with pytest.raises(SimRunError) as big:
            runs.start("ming", LESSON, FOREVER + "#" * 2000)
        assert big.value.status == 413 and "程序太长" in big.value.text.zh

        first = runs.start("ming", LESSON, FOREVER)
        with pytest.raises(SimRunError) as full:
            runs.start("hua", LESSON, FOREVER)
        assert full.value.status == 503
        assert "full" in full.value.text.en and "模拟器已满" in full.value.text.zh
        assert runs.of("hua") is None
        replaced = runs.start("ming", LESSON, FOREVER)  # the owner's own run does not count
        assert first.wait(60)

        runs.stop(replaced.id)
        assert replaced.wait(60)
        other = runs.start("hua", LESSON, FOREVER)
        assert other.state in ("starting", "running")
    # closing the console ends every run
    assert other.ended and other.result is not None
    assert other.result["status"] == "stopped"
    assert other.result["error"] == "stopped: the console is shutting down"
    with pytest.raises(SimRunError) as closed:
        runs.start("hua", LESSON, FOREVER)
    assert closed.value.status == 503


def test_a_worker_that_dies_ends_its_runs_and_the_next_run_gets_a_new_one() -> None:
    with SimRuns(workers=1) as runs:
        run = runs.start("ming", LESSON, FOREVER)
        with run.subscribe() as sub:
            assert next(iter(sub)).kind == "world"
        run._worker.proc.kill()
        assert run.wait(60)
        assert run.result is not None and run.result["status"] == "error"
        assert "press Run again" in run.result["error"] and "再按一次运行" in run.result["error_zh"]
        again = runs.start("ming", LESSON, FOREVER)
        with again.subscribe() as sub:
            assert next(iter(sub)).kind == "world"
        assert runs.stop(again.id) and again.wait(60)


def test_hand_ins_are_graded_in_turn_in_the_workers() -> None:
    with SimRuns(workers=1, max_runs=1) as runs:
        live = runs.start("ming", LESSON, FOREVER)  # a Run meanwhile: hand-ins do not count
        handed = [runs.hand_in(f"student-{i}", LESSON, FOLLOW) for i in range(3)]
        assert all(h.graded and runs.get(h.id) is h for h in handed)
        assert runs.of("student-0") is None  # a hand-in is not the student's live run
        with handed[-1].subscribe() as sub:
            kinds = [e.kind for e in sub]
        assert kinds[-1] == "end" and "world" not in kinds and "pose" not in kinds
        assert kinds.count("output") >= 5  # the program's lines
        for h in handed:
            assert h.wait(120)
            assert h.result is not None and h.result["run_status"] == "finished"
            assert h.result["score"] >= 10 and h.result["seconds"] >= 3.0  # simulated time
        assert not live.ended
        assert runs.stop(live.id) and live.wait(60)
