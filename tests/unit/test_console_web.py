"""fleet/web.py without a broker or a browser: first-run set-up, the room snapshot,
the event stream, xAPI statements, the static pages and their translations."""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fleet.api import ApiServer
from fleet.console import Console, ConsoleConfig
from fleet.protocol import DeviceState, JobResult, Status
from fleet.web import STATIC, library, room_snapshot, xapi_statements


def call(url: str, method: str = "GET", body: Any = None, token: str = "") -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            text = response.read().decode()
            kind = response.headers.get("content-type", "")
            return response.status, json.loads(text) if "json" in kind else text
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read().decode() or "null")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Console, str]]:
    """A console that is never connected (port 9: nothing listens) behind its API."""
    console = Console(ConsoleConfig("127.0.0.1", 9, tmp_path / "console"))
    with ApiServer(console) as server:
        yield console, server.url
    console.close()


def birth(console: Console, device: str, estopped: bool = False) -> None:
    state = DeviceState(
        device=device, session="s1", online=True, ts=time.time(), battery=7.4, estopped=estopped
    )
    assert console.store.device_state(state)


def test_first_run_set_up_makes_one_account_only(served: tuple[Console, str]) -> None:
    console, url = served
    assert call(f"{url}/api/v1/health")[1]["teachers"] is False
    assert call(f"{url}/api/v1/setup", "POST", {"username": "ms-li", "password": "short"})[0] == 422
    assert (
        call(f"{url}/api/v1/setup", "POST", {"username": "ms li", "password": "long enough"})[0]
        == 422
    )
    status, made = call(
        f"{url}/api/v1/setup", "POST", {"username": "ms-li", "password": "long enough"}
    )
    assert status == 200
    assert console.store.teacher_exists("ms-li")
    assert call(f"{url}/api/v1/room", token=made["token"])[0] == 200
    # once there is a teacher, nobody can make another account this way
    again = call(f"{url}/api/v1/setup", "POST", {"username": "intruder", "password": "long enough"})
    assert again[0] == 409
    assert not console.store.teacher_exists("intruder")


def test_every_new_route_needs_a_teacher(served: tuple[Console, str]) -> None:
    _, url = served
    for path in ("room", "library", "events", "results.xapi", "devices/r1/log/events"):
        assert call(f"{url}/api/v1/{path}")[0] == 401, path
        assert call(f"{url}/api/v1/{path}", token="made-up")[0] == 401, path


def test_room_snapshot_joins_devices_jobs_and_results(tmp_path: Path) -> None:
    console = Console(ConsoleConfig("127.0.0.1", 9, tmp_path / "console"))
    try:
        birth(console, "r1")
        birth(console, "r2", estopped=True)
        console.store.bind("r1", "Wang Fang")
        console.telemetry["r1"] = {"ts": time.time(), "battery_v": 7.9}
        console.store.add_job("j1", "r1", "line-follower", "0" * 64, "{}")
        console.store.add_job("j2", "r1", "robot-dance", "0" * 64, "{}")
        console.store.job_status("j1", Status.SUCCEEDED, None)
        result = JobResult(
            device="r1",
            job="j1",
            result_id="res1",
            status=Status.SUCCEEDED,
            result={"status": "passed", "score": 90},
            ts=time.time(),
        )
        assert console.store.add_result(result)
        snap = room_snapshot(console)
    finally:
        console.close()
    r1, r2 = snap["devices"]
    assert r1["student"] == "Wang Fang"
    assert r1["battery_v"] == 7.9  # telemetry is fresher than the birth
    assert r1["job"]["job"] == "j2"  # the latest job
    assert r1["job"]["status"] == "PENDING"
    assert r1["last_result"] == {
        "lesson_id": "line-follower",
        "status": "SUCCEEDED",
        "score": 90.0,
        "passed": True,
    }
    assert r2["estopped"] is True
    assert r2["battery_v"] == 7.4
    assert r2["job"] is None
    assert snap["results"] == 1
    assert snap["estop"]["active"] is False


def test_event_stream_sends_the_room(served: tuple[Console, str]) -> None:
    console, url = served
    birth(console, "r1")
    console.store.add_teacher("ms-li", "long enough")
    token = console.store.new_token("ms-li", "test")
    request = urllib.request.Request(
        f"{url}/api/v1/events", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = []
        while "event: room" not in lines:
            lines.append(response.readline().decode().strip())
        data = response.readline().decode()
    assert data.startswith("data: ")
    snap = json.loads(data[len("data: ") :])
    assert [d["device"] for d in snap["devices"]] == ["r1"]


def test_xapi_statements() -> None:
    rows = [
        {
            "result_id": "res1",
            "job": "j1",
            "device": "r1",
            "student": "Wang Fang",
            "lesson_id": "line-follower",
            "status": "SUCCEEDED",
            "score": 85.0,
            "result": {"status": "passed", "wall_seconds": 12.5},
            "received": 1_700_000_000.0,
        },
        {
            "result_id": "res2",
            "job": "j2",
            "device": "r2",
            "student": None,
            "lesson_id": "line-follower",
            "status": "FAILED",
            "score": None,
            "result": {"status": "error", "reason": "crashed"},
            "received": 1_700_000_100.0,
        },
    ]
    passed, errored = xapi_statements(rows, "http://console.local:8080")
    assert passed["verb"]["id"] == "http://adlnet.gov/expapi/verbs/passed"
    assert passed["actor"]["account"] == {
        "homePage": "http://console.local:8080",
        "name": "Wang Fang",
    }
    assert passed["object"]["id"] == "http://console.local:8080/lessons/line-follower"
    assert passed["result"] == {
        "completion": True,
        "success": True,
        "score": {"raw": 85.0, "min": 0, "max": 100, "scaled": 0.85},
        "duration": "PT12.5S",
    }
    assert passed["timestamp"].startswith("2023-11-14T22:13:20")
    assert errored["verb"]["id"] == "http://adlnet.gov/expapi/verbs/attempted"
    assert errored["actor"]["account"]["name"] == "r2"  # no student bound: the robot
    assert errored["result"] == {"completion": False}
    # the same result always gives the same statement id (a re-export is not a new statement)
    assert xapi_statements(rows[:1], "http://console.local:8080")[0]["id"] == passed["id"]


def test_pages_are_served_and_need_nothing_from_the_internet(served: tuple[Console, str]) -> None:
    _, url = served
    status, html = call(f"{url}/")
    assert status == 200
    for name in ("app.js", "i18n.js", "style.css", "favicon.svg"):
        assert call(f"{url}/static/{name}")[0] == 200, name
    for path in sorted(STATIC.iterdir()):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"(src|href)=\"(https?:)?//", text), path.name
        assert "@import" not in text, path.name
        assert "url(http" not in text, path.name
    assert "/static/app.js" in html


def test_every_label_exists_in_both_languages() -> None:
    text = (STATIC / "i18n.js").read_text(encoding="utf-8")
    en_part, zh_part = text.split("\n  zh: {")
    en = set(re.findall(r'^\s+"([a-zA-Z.]+)":', en_part, re.MULTILINE))
    zh = set(re.findall(r'^\s+"([a-zA-Z.]+)":', zh_part, re.MULTILINE))
    assert len(en) > 100
    assert en == zh
    used = set()
    for name in ("app.js", "index.html"):
        source = (STATIC / name).read_text(encoding="utf-8")
        used |= set(re.findall(r'\bt\(["`]([a-zA-Z]+\.[a-zA-Z.]+)["`]', source))
        used |= set(re.findall(r'data-i18n(?:-aria)?="([a-zA-Z.]+)"', source))
    assert used
    assert used <= en, sorted(used - en)


def test_library_gives_bilingual_titles_summaries_and_steps() -> None:
    lessons = {lesson["id"]: lesson for lesson in library()}
    lights = lessons["lights-and-sound"]
    assert lights["title"] == {
        "en": "Hello robot: lights and sound",
        "zh": "你好机器人：灯光和声音",
    }
    assert lights["band"] == "perceive"
    assert lights["steps"][0]["title"]["zh"] == "机器人听你的话"
    assert all(step["body"]["en"] and step["body"]["zh"] for step in lights["steps"])
    assert lessons["line-follower"]["challenge"]["metric"] == "lap_time_s"
    bands = [lesson["band"] for lesson in lessons.values()]
    assert bands == sorted(bands, key=["perceive", "apply", "create"].index)
