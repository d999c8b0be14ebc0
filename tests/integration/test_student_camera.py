"""A student's camera, on their page only while they ask: the simulator's (the frames their
program reads) and their own robot's preview (Mosquitto, a ``roboclass agent`` process)."""

from __future__ import annotations

import base64
import http.client
import json
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fleet.console.api import ApiServer
from fleet.console.console import Console
from fleet.console.store import PinKind
from fleet.console.websecurity import STUDENT_COOKIE
from tests.integration.test_console_live import mosquitto_room
from tests.integration.test_fleet_support import wait_until
from tests.unit.test_console_security import Client

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

ROBOT = "robot-01"
SAME = {"Sec-Fetch-Site": "same-origin"}
# The student's program looks through the camera while it turns.
LOOK = """\
import time
from hardware import Robot

with Robot() as robot:
    robot.drive.right(0.3)
    for n in range(40):
        frame = robot.camera.read()
        ahead = robot.distance.cm
        time.sleep(0.1)
    robot.drive.stop()
    print("looked", n + 1, "times")
"""


@pytest.fixture
def student(tmp_path: Path) -> Iterator[tuple[Console, ApiServer, dict[str, str]]]:
    with mosquitto_room(tmp_path, 1) as (console, server):
        wait_until(lambda: console.db.devices.ids(online_only=True) == [ROBOT], 60, "the robot")
        ana = console.db.rosters.add_student("Ana", "7A")
        console.db.rosters.bind(ROBOT, "Ana", "7A")
        console.db.classes.set_pin(ana, "2468", PinKind.DIGITS)
        period = console.db.classes.start_period("7A", "ms-li", lesson_id="robot-dance")
        body = {"code": period.code, "student_id": ana, "pin": "2468"}
        status, answer, response = Client(server.url)("POST", "/api/v1/join", body, SAME)
        assert status == 200, answer
        cookie = response.getheader("set-cookie", "").split(";")[0]
        assert cookie.startswith(f"{STUDENT_COOKIE}=")
        yield console, server, {**SAME, "Cookie": cookie}


# On the robot: look until the student presses Stop (or the lesson's time is up).
LOOK_UNTIL_STOPPED = """\
from hardware import Robot

with Robot() as robot:
    robot.drive.right(0.3)
    while True:
        frame = robot.camera.read()
        ahead = robot.distance.cm
"""


def run_events(
    url: str,
    headers: dict[str, str],
    place: str,
    code: str = LOOK,
    *,
    stop_when_seen: bool = False,
) -> list[tuple[str, Any]]:
    """Start a run with the camera on and read its events to the end (pressing Stop once a
    picture and the live sensors have come, when asked: the preview can start before the
    program has read a sensor)."""
    body = {"lesson_id": "robot-dance", "code": code, "place": place, "camera": True}
    status, started, _ = Client(url)("POST", "/api/v1/student/runs", body, headers)
    assert status == 200, started
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=120)
    events: list[tuple[str, Any]] = []
    try:
        conn.request("GET", f"/api/v1/student/runs/{started['run']}/events", headers=headers)
        response = conn.getresponse()
        assert response.status == 200
        kind = ""
        while line := response.readline():
            text = line.decode().rstrip("\n")
            if text.startswith("event: "):
                kind = text[7:]
            elif text.startswith("data: "):
                events.append((kind, json.loads(text[6:])))
                if kind == "end":
                    break
                kinds = {k for k, _ in events}
                if stop_when_seen and {"camera", "sensors"} <= kinds:
                    stop_when_seen = False
                    stop = f"/api/v1/student/runs/{started['run']}/stop"
                    assert Client(url)("POST", stop, None, headers)[0] == 200
    finally:
        conn.close()
    return events


def pictures(events: list[tuple[str, Any]]) -> list[bytes]:
    return [base64.b64decode(data["jpeg"]) for kind, data in events if kind == "camera"]


def test_the_simulators_camera_shows_what_the_program_reads(
    student: tuple[Console, ApiServer, dict[str, str]],
) -> None:
    _, server, headers = student
    events = run_events(server.url, headers, "sim")
    shots = pictures(events)
    assert shots and all(s[:2] == b"\xff\xd8" for s in shots)  # JPEG pictures
    assert events[-1][0] == "end" and events[-1][1]["status"] == "failed"  # graded, not danced
    assert ("output", {"stream": "stdout", "line": "looked 40 times"}) in events


def test_the_robots_preview_comes_to_the_student_and_ends_with_the_run(
    student: tuple[Console, ApiServer, dict[str, str]],
) -> None:
    console, server, headers = student
    events = run_events(server.url, headers, "robot", LOOK_UNTIL_STOPPED, stop_when_seen=True)
    assert pictures(events), [kind for kind, _ in events]
    assert events[-1][0] == "end" and events[-1][1]["status"] == "stopped"  # the student's Stop
    assert console.previews.latest(ROBOT) is None  # the preview ended with the run
    sensors = [data for kind, data in events if kind == "sensors"]
    assert sensors and "distance" in sensors[-1]  # and its live sensors came too
