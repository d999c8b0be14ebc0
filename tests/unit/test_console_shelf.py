"""The console's model shelf (fleet/console/api/shelf.py) and a class's camera switch
(fleet/console/api/periods.py): what a teacher may do, what a student gets, in zh and en."""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fleet.console.api import ApiServer
from fleet.console.console import Console, ConsoleConfig
from fleet.console.websecurity import STUDENT_COOKIE
from models import SHIPPED_DIR
from tests.unit.test_console_security import Client
from tests.unit.test_student_access import Room, _period, _pins

ONNX = (SHIPPED_DIR / "traffic-signs.onnx").read_bytes()
MANIFEST = (SHIPPED_DIR / "traffic-signs.yaml").read_text(encoding="utf-8")
SHA = "ffdaa1ecd552b846246a379a880df109b41893bc32d3690064e7535bdaa50c62"


@pytest.fixture
def room(tmp_path: Path) -> Iterator[Room]:
    console = Console(ConsoleConfig("127.0.0.1", 9, tmp_path / "console"))
    console.db.accounts.add_teacher("ms-li", "a long secret")
    with ApiServer(console) as server:
        made = Room(console, Client(server.url))
        now = time.time()
        for device in ("robot-01", "robot-02", "robot-03"):
            console.db._connection.execute(
                "INSERT INTO devices (device, online, first_seen, last_seen) VALUES (?, 1, ?, ?)",
                (device, now, now),
            )
        console.db.rosters.bind("robot-01", "Ana", "7A")
        console.db.rosters.bind("robot-02", "Bo", "7A")
        yield made
    console.close()


def upload(room: Room, data: bytes) -> dict[str, Any]:
    """POST the bytes as they are to /api/v1/bundles, as the page does."""
    client = room.client
    conn = http.client.HTTPConnection(client.host, client.port, timeout=10)
    try:
        conn.request("POST", "/api/v1/bundles", body=data, headers=room.teacher)
        response = conn.getresponse()
        answer: dict[str, Any] = json.loads(response.read())
        assert response.status == 200, answer
        return answer
    finally:
        conn.close()


def student(room: Room, name: str = "Ana") -> dict[str, str]:
    period, pins = _period(room), _pins(room)
    status, answer, cookie = room.join(period["code"], name, pins[name])
    assert status == 200 and cookie, answer
    return {"Cookie": f"{STUDENT_COOKIE}={cookie}"}


def test_a_teacher_adds_a_model_and_pushes_it_from_the_shelf(room: Room) -> None:
    assert room.as_teacher("GET", "/api/v1/models") == (200, [])
    assert upload(room, ONNX) == {"sha256": SHA, "size": len(ONNX)}
    status, added = room.as_teacher("POST", "/api/v1/models", {"manifest": MANIFEST, "sha256": SHA})
    assert status == 200, added
    assert (added["name"], added["task"], added["size"], added["student"]) == (
        "traffic-signs",
        "classify",
        len(ONNX),
        None,
    )
    assert added["labels"][0] == {"id": "stop", "en": "Stop", "zh": "停车"}
    # a student's taught model (h-teach adds it when a student deploys) shows their name
    ana = room.console.db.rosters.add_student("Ana", "7A")
    room.console.db.models.add("ana-signs", "a" * 64, 1234, MANIFEST, ana)
    status, shelf = room.as_teacher("GET", "/api/v1/models")
    assert status == 200
    assert [(m["name"], m["student"], m["roster"]) for m in shelf] == [
        ("ana-signs", "Ana", "7A"),
        ("traffic-signs", None, None),
    ]

    status, pushed = room.as_teacher(
        "POST", f"/api/v1/models/{SHA}/push", {"devices": ["robot-01", "robot-03"]}
    )
    assert status == 200, pushed
    assert pushed["model"] == "traffic-signs" and pushed["size"] == len(ONNX)
    assert [j["device"] for j in pushed["jobs"]] == ["robot-01", "robot-03"]
    jobs = {j.job: j for j in room.console.db.jobs.list()}
    for ref in pushed["jobs"]:
        assert jobs[ref["job"]].lesson_id == "model:traffic-signs"
        assert jobs[ref["job"]].sha256 == SHA
    (entry,) = room.console.db.audit.list(action="push-model")
    assert entry.who == "ms-li"
    assert entry.detail == {
        "model": "traffic-signs",
        "sha256": SHA,
        "devices": ["robot-01", "robot-03"],
        "student_id": None,
    }


@pytest.mark.parametrize(
    ("case", "status", "words"),
    [
        ("sha", 400, ("bad sha256", "sha256 不符")),
        ("manifest", 400, ("wrong manifest", "清单有错")),
        ("missing", 404, ("upload the .onnx first", "请先上传")),
        ("huge", 413, ("manifest is too large", "清单太大")),
    ],
)
def test_the_shelf_checks_a_model_as_a_push_does(
    room: Room, case: str, status: int, words: tuple[str, str]
) -> None:
    upload(room, ONNX)
    manifest, sha = MANIFEST, SHA
    if case == "sha":
        sha = upload(room, b"another file")["sha256"]
    elif case == "manifest":
        manifest = MANIFEST.replace("task: classify", "task: sort")
    elif case == "missing":
        sha = "ab" * 32
        manifest = MANIFEST.replace(SHA, sha)
    elif case == "huge":
        manifest = MANIFEST + "#" * 40_000
    answer = room.as_teacher("POST", "/api/v1/models", {"manifest": manifest, "sha256": sha})
    assert answer[0] == status, answer
    for word in words:
        assert word in answer[1]["detail"]
    assert room.console.db.models.list() == []


def test_a_push_from_the_shelf_names_a_model_and_robots_that_exist(room: Room) -> None:
    upload(room, ONNX)
    assert (
        room.as_teacher("POST", "/api/v1/models", {"manifest": MANIFEST, "sha256": SHA})[0] == 200
    )
    status, said = room.as_teacher("POST", f"/api/v1/models/{'1' * 64}/push", {"devices": None})
    assert status == 404 and "add it first" in said["detail"] and "请先添加" in said["detail"]
    status, said = room.as_teacher(
        "POST", f"/api/v1/models/{SHA}/push", {"devices": ["robot-01", "robot-99"]}
    )
    assert status == 404 and "robot-99" in said["detail"] and "没有机器人" in said["detail"]
    status, said = room.as_teacher("POST", f"/api/v1/models/{SHA}/push", {"devices": []})
    assert status == 400 and "请至少选一个" in said["detail"]
    assert room.console.db.jobs.list() == []
    # the file changed on the console's disk since it was added: refused, nothing sent
    stored = room.console.bundles.path(SHA)
    assert stored is not None
    stored.write_bytes(b"damaged")
    status, said = room.as_teacher("POST", f"/api/v1/models/{SHA}/push", {"devices": ["robot-01"]})
    assert status == 409 and "damaged" in said["detail"] and "损坏" in said["detail"]
    assert room.console.db.jobs.list() == []


def test_a_student_may_not_use_the_shelf(room: Room) -> None:
    upload(room, ONNX)
    assert (
        room.as_teacher("POST", "/api/v1/models", {"manifest": MANIFEST, "sha256": SHA})[0] == 200
    )
    ana = student(room)
    for method, path, body in [
        ("GET", "/api/v1/models", None),
        ("POST", "/api/v1/models", {"manifest": MANIFEST, "sha256": SHA}),
        ("POST", f"/api/v1/models/{SHA}/push", {"devices": ["robot-01"]}),
        ("GET", "/api/v1/rosters/7A/camera", None),
        ("PUT", "/api/v1/rosters/7A/camera", {"on": False}),
    ]:
        assert room.call(method, path, body, ana)[0] == 403, path
    assert room.console.db.jobs.list() == []
    assert room.console.db.classes.camera_panel("7A")


def test_the_camera_switch_refuses_a_students_camera_and_keeps_the_teachers(room: Room) -> None:
    console = room.console
    ana = student(room)
    assert room.as_teacher("GET", "/api/v1/rosters/7A/camera") == (
        200,
        {"roster": "7A", "camera_panel": True},
    )
    assert room.call("GET", "/api/v1/student/me", headers=ana)[1]["camera_panel"] is True
    ana_id = console.db.rosters.add_student("Ana", "7A")
    console.preview_on("robot-01", f"student:{ana_id}")  # Ana's run with the camera, on now
    console.preview_on("robot-03", "ms-li")  # the teacher's own preview of another robot

    status, said = room.as_teacher("PUT", "/api/v1/rosters/7A/camera", {"on": False})
    assert (status, said) == (200, {"roster": "7A", "camera_panel": False})
    assert set(console.previews.watching()) == {"robot-03"}  # Ana's preview ended
    assert room.call("GET", "/api/v1/student/me", headers=ana)[1]["camera_panel"] is False
    for place in ("robot", "sim"):
        body = {"lesson_id": "robot-dance", "code": "print('hi')\n", "place": place}
        status, said = room.call("POST", "/api/v1/student/runs", {**body, "camera": True}, ana)
        assert status == 403, said
        assert "turned the camera off" in said["detail"] and "关闭了" in said["detail"]
    assert console.db.jobs.list() == []
    # without the camera the run goes on as before
    body = {"lesson_id": "robot-dance", "code": "print('hi')\n", "place": "robot"}
    status, run = room.call("POST", "/api/v1/student/runs", body, ana)
    assert status == 200 and run["run"].startswith("j"), run
    # the teacher's own preview of a student's robot still works
    status, on = room.as_teacher("POST", "/api/v1/devices/robot-01/preview", {"on": True})
    assert status == 200 and on["on"] is True and on["by"] == "ms-li"
    # another class is not affected; turning it on again gives the camera back
    assert console.db.classes.camera_panel("7B")
    assert room.as_teacher("PUT", "/api/v1/rosters/7A/camera", {"on": True})[0] == 200
    assert room.call("GET", "/api/v1/student/me", headers=ana)[1]["camera_panel"] is True
    audit = [(e.action, e.detail) for e in console.db.audit.list(action="camera-panel")]
    assert audit == [
        ("camera-panel", {"roster": "7A", "on": True}),
        ("camera-panel", {"roster": "7A", "on": False}),
    ]
    status, said = room.as_teacher("PUT", "/api/v1/rosters/9Z/camera", {"on": False})
    assert status == 404 and "没有班级" in said["detail"]


def test_purging_a_class_from_the_api_empties_its_part_of_the_shelf(room: Room) -> None:
    console = room.console
    ana = console.db.rosters.add_student("Ana", "7A")
    kai = console.db.rosters.add_student("Kai", "7B")
    console.db.models.add("ana-signs", "a" * 64, 10, MANIFEST, ana)
    console.db.models.add("kai-signs", "b" * 64, 10, MANIFEST, kai)
    console.db.models.add("traffic-signs", SHA, len(ONNX), MANIFEST, None)
    assert room.as_teacher("PUT", "/api/v1/rosters/7A/camera", {"on": False})[0] == 200
    status, _ = room.as_teacher("POST", "/api/v1/rosters/7A/purge", {"confirm": "7A"})
    assert status == 200
    shelf = room.as_teacher("GET", "/api/v1/models")[1]
    assert sorted(m["name"] for m in shelf) == ["kai-signs", "traffic-signs"]
    assert console.db.classes.camera_panel("7A")
