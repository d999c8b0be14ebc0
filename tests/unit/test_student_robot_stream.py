"""The student's stream of a run on their robot ends with the lesson's result, even when the
job's final status is stored before its result (the console's writer stores results in
batches, so the status can come first): the page then says "passed", not the job's status."""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from fleet.console.api import studentruns
from fleet.console.websecurity import STUDENT_COOKIE
from fleet.core.protocol import JobResult, Status
from tests.unit.test_student_access import Room, _period, _pins, room  # noqa: F401


def _events(where: Room, run: str, cookie: str, into: list[dict[str, Any]]) -> None:
    """Read the run's SSE stream until its ``end`` event (or the server closes it)."""
    conn = http.client.HTTPConnection(where.client.host, where.client.port, timeout=30)
    conn.request(
        "GET",
        f"/api/v1/student/runs/{run}/events",
        headers={"Cookie": f"{STUDENT_COOKIE}={cookie}", "Sec-Fetch-Site": "same-origin"},
    )
    response = conn.getresponse()
    name = None
    for raw in response:
        line = raw.decode().rstrip("\n")
        if line.startswith("event: "):
            name = line[len("event: ") :]
        elif line.startswith("data: ") and name is not None:
            into.append({"event": name, **json.loads(line[len("data: ") :])})
            if name == "end":
                break
    conn.close()


@pytest.fixture
def robot_run(room: Room) -> Iterator[tuple[Room, str, str]]:  # noqa: F811
    now = time.time()
    room.console.db._connection.execute(
        "INSERT INTO devices (device, online, first_seen, last_seen) VALUES ('robot-07', 1, ?, ?)",
        (now, now),
    )
    room.console.db.rosters.bind("robot-07", "Ana", "7A")
    period, pins = _period(room), _pins(room)
    _, _, cookie = room.join(period["code"], "Ana", pins["Ana"])
    assert cookie is not None
    body = {"lesson_id": "robot-dance", "code": "print('hi')\n", "place": "robot"}
    ana = {"Cookie": f"{STUDENT_COOKIE}={cookie}"}
    status, run = room.call("POST", "/api/v1/student/runs", body, ana)
    assert status == 200, run
    yield room, run["run"], cookie


def _follow(where: Room, run: str, cookie: str) -> tuple[threading.Thread, list[dict[str, Any]]]:
    seen: list[dict[str, Any]] = []
    reader = threading.Thread(target=_events, args=(where, run, cookie, seen), daemon=True)
    reader.start()
    return reader, seen


def test_the_stream_waits_for_the_result_after_the_final_status(
    robot_run: tuple[Room, str, str],
) -> None:
    r, run, cookie = robot_run
    reader, seen = _follow(r, run, cookie)
    console = r.console
    console.db.jobs.set_status(run, Status.SUCCEEDED, None)  # the status first ...
    console.notify()
    deadline = time.monotonic() + 10
    while not any(e["event"] == "status" and e["status"] == "SUCCEEDED" for e in seen):
        assert time.monotonic() < deadline, seen
        time.sleep(0.05)
    assert not any(e["event"] == "end" for e in seen)  # ... and the stream still waits
    result = JobResult(
        device="robot-07",
        job=run,
        result_id="res-1",
        status=Status.SUCCEEDED,
        result={"status": "passed", "score": 100},
        ts=time.time(),
    )
    assert console.db.results.add(result)  # ... for the result, stored a moment later
    console.notify()
    reader.join(timeout=20)
    assert not reader.is_alive()
    end = seen[-1]
    # the lesson's own status, which the page words as "passed" (not the job's SUCCEEDED)
    assert (end["event"], end["status"], end["score"]) == ("end", "passed", 100)


def test_a_final_status_without_a_result_ends_the_stream_after_a_while(
    robot_run: tuple[Room, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    r, run, cookie = robot_run
    monkeypatch.setattr(studentruns, "_RESULT_GRACE_S", 0.5)
    reader, seen = _follow(r, run, cookie)
    r.console.db.jobs.set_status(run, Status.REJECTED, "a reason / 原因")
    r.console.notify()
    reader.join(timeout=20)
    assert not reader.is_alive()
    assert seen[-1]["event"] == "end" and seen[-1]["status"] == "REJECTED"
    assert "score" not in seen[-1]
