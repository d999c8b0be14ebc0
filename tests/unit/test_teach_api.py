"""The student's teach routes (fleet/console/api/teach.py) with hostile input: only their own
robot, bounded names and bursts, a rate limit, clear zh/en answers. The console runs without
a broker: the commands it would send are read off its link."""

from __future__ import annotations

import base64
import http.client
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fleet.console.api import ApiServer
from fleet.console.console import Console, ConsoleConfig
from fleet.console.store import PinKind
from fleet.console.websecurity import STUDENT_COOKIE
from fleet.core.protocol import DeviceState, DropCounter, decode
from fleet.core.teach import TeachEvent
from tests.unit.test_console_security import Client

SAME = {"Sec-Fetch-Site": "same-origin"}
ROBOT = "robot-03"


class Room:
    def __init__(self, console: Console, client: Client, headers: dict[str, str], ana: str) -> None:
        self.console, self.client, self.headers, self.ana = console, client, headers, ana
        self.sent: list[Any] = []
        console.link.publish = self._publish  # type: ignore[method-assign]

    def _publish(self, topic: str, payload: bytes, **_: Any) -> bool:
        decoded = decode(self.console.topics, topic, payload, DropCounter())
        if decoded is not None:
            self.sent.append(decoded[1])
        return True

    def __call__(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        status, answer, _ = self.client(method, f"/api/v1/student/teach{path}", body, self.headers)
        return status, answer

    def teach_ops(self) -> list[tuple[str, Any]]:
        return [(m.op, m) for m in self.sent if getattr(m, "name", None) == "teach"]


def raw_get(client: Client, path: str, headers: dict[str, str]) -> tuple[int, bytes, str]:
    conn = http.client.HTTPConnection(client.host, client.port, timeout=10)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        return response.status, response.read(), response.getheader("cache-control", "")
    finally:
        conn.close()


def join(
    console: Console, client: Client, name: str, roster: str, robot: str | None = None
) -> tuple[str, dict[str, str]]:
    sid = console.db.rosters.add_student(name, roster)
    if robot is not None:
        born = DeviceState(device=robot, session="s1", online=True, ts=time.time())
        console.db.devices.record_state(born)
        assert console.db.rosters.bind(robot, name, roster)
    console.db.classes.set_pin(sid, "2468", PinKind.DIGITS)
    period = console.db.classes.start_period(roster, "ms-li", lesson_id="drive-by-your-signs")
    body = {"code": period.code, "student_id": sid, "pin": "2468"}
    status, answer, response = client("POST", "/api/v1/join", body, SAME)
    assert status == 200, answer
    cookie = response.getheader("set-cookie", "").split(";")[0]
    assert cookie.startswith(f"{STUDENT_COOKIE}=")
    return sid, {**SAME, "Cookie": cookie}


@pytest.fixture
def room(tmp_path: Path) -> Iterator[Room]:
    console = Console(ConsoleConfig("127.0.0.1", 9, tmp_path / "console"))
    console.db.accounts.add_teacher("ms-li", "a long secret")
    with ApiServer(console) as server:
        client = Client(server.url)
        ana, headers = join(console, client, "Ana", "7A", ROBOT)
        yield Room(console, client, headers, ana)
    console.close()


def test_the_commands_go_to_the_students_own_robot_only(room: Room) -> None:
    assert room("POST", "/open")[0] == 200
    assert room("POST", "/labels", {"name": "停车", "id": "stop"}) == (200, {"id": "stop"})
    assert room("POST", "/labels", {"name": "Green light"}) == (200, {"id": "green-light"})
    assert room("POST", "/labels", {"name": "红灯"}) == (200, {"id": "label-1"})
    assert room("POST", "/capture", {"label": "stop", "count": 5})[0] == 200
    assert room("POST", "/card", {"card": "stop"})[0] == 200
    assert room("POST", "/train")[0] == 200
    assert room("POST", "/try", {"on": True})[0] == 200
    assert room("POST", "/deploy", {"name": "my-signs"})[0] == 200
    ops = room.teach_ops()
    assert [op for op, _ in ops] == [
        "open",
        "label",
        "label",
        "label",
        "capture",
        "card",
        "train",
        "try_on",
        "deploy",
    ]
    assert all(m.device == ROBOT and m.student == room.ana for _, m in ops)
    assert ops[1][1].zh == "停车" and ops[4][1].count == 5 and ops[8][1].model == "my-signs"


def test_hostile_input_is_refused_with_a_reason(room: Room) -> None:
    room("POST", "/open")
    for path, body in [
        ("/labels", {"name": "x" * 25}),
        ("/labels", {"name": "stop", "id": "../etc"}),
        ("/labels", {"name": "stop", "extra": 1}),
        ("/capture", {"label": "stop", "count": 21}),
        ("/capture", {"label": "STOP; rm", "count": 1}),
        ("/deploy", {"name": "My Signs"}),
        ("/deploy", {"name": "../../models/x"}),
        ("/card", {"card": "a/b"}),
    ]:
        assert room("POST", path, body)[0] == 422, (path, body)
    status, answer = room("POST", "/labels", {"name": "\u0000\u0007 "})
    assert status == 400 and "请给标签起个名字" in answer["detail"]
    assert room("DELETE", "/pictures/stop/12345")[0] == 404
    assert room("DELETE", "/labels/..")[0] == 404
    assert [op for op, _ in room.teach_ops()] == ["open"]


def test_bursts_are_rate_limited(room: Room) -> None:
    room("POST", "/open")
    for _ in range(6):
        assert room("POST", "/capture", {"label": "stop", "count": 20})[0] == 200
    status, answer = room("POST", "/capture", {"label": "stop", "count": 1})
    assert status == 429 and "每分钟最多" in answer["detail"] and "a minute" in answer["detail"]


def test_a_student_without_a_robot_or_a_session_is_told_what_to_do(room: Room) -> None:
    _bo, headers = join(room.console, room.client, "Bo", "7B")
    status, answer, _ = room.client("POST", "/api/v1/student/teach/open", None, headers)
    assert status == 409 and "ask your teacher" in answer["detail"] and "请老师" in answer["detail"]
    status, _, _ = room.client("GET", "/api/v1/student/teach", None, SAME)
    assert status == 401


def test_the_class_camera_switch_closes_the_teach_panel(room: Room) -> None:
    room.console.db.classes.set_camera_panel("7A", False)
    for method, path, body in [
        ("POST", "/open", None),
        ("POST", "/capture", {"label": "stop", "count": 1}),
    ]:
        status, answer = room(method, path, body)
        assert status == 403, (path, answer)
        assert "turned the camera off" in answer["detail"] and "关闭摄像头" in answer["detail"]
    assert room.teach_ops() == []  # nothing reached the robot
    room.console.db.classes.set_camera_panel("7A", True)
    assert room("POST", "/open")[0] == 200
    assert [op for op, _ in room.teach_ops()] == ["open"]


def test_thumbnails_come_from_memory_and_only_to_their_student(room: Room) -> None:
    room("POST", "/open")
    jpeg = b"\xff\xd8 a thumbnail"
    event = TeachEvent(
        device=ROBOT, seq=1, ts=time.time(), kind="picture", student=room.ana,
        picture="stop/0001", jpeg=base64.b64encode(jpeg).decode(),
    )  # fmt: skip
    assert room.console.teach.offer(event)
    status, data, kind = raw_get(
        room.client, "/api/v1/student/teach/pictures/stop/0001", room.headers
    )
    assert (status, data) == (200, jpeg) and kind == "no-store"
    status, view = room("GET", "")
    assert status == 200 and view["pictures"] == ["stop/0001"] and view["device"] == ROBOT
    _bo, headers = join(room.console, room.client, "Bo", "7A")  # a classmate: not theirs
    status, _, _ = raw_get(room.client, "/api/v1/student/teach/pictures/stop/0001", headers)
    assert status == 404
    assert not list((room.console.config.data_dir).rglob("*.jpg"))
