"""The student's door (fleet/console/api/student.py, periods.py): a class period's code and
QR code, PINs, joining, and what a student's session may and may not reach."""

from __future__ import annotations

import hashlib
import http.client
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute

from fleet.console.api import ApiServer, create_app
from fleet.console.api.deps import teacher
from fleet.console.console import Console, ConsoleConfig
from fleet.console.store import Database, Place
from fleet.console.websecurity import COOKIE, STUDENT_COOKIE
from fleet.core.protocol import Status
from tests.unit.test_console_security import Client

SAME = {"Sec-Fetch-Site": "same-origin"}


class Room:
    """A console with a teacher, a class of three and an open period, behind its API."""

    def __init__(self, console: Console, client: Client) -> None:
        self.console, self.client = console, client
        status, body, response = client(
            "POST",
            "/api/v1/login",
            {"username": "ms-li", "password": "a long secret", "session": "cookie"},
            SAME,
        )
        assert status == 200, body
        self.teacher = {**SAME, "Cookie": f"{COOKIE}={_cookie(response, COOKIE)}"}
        for name in ("Ana", "Bo", "Chen"):
            console.db.rosters.add_student(name, "7A")

    def call(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        status, answer, _ = self.client(method, path, body, {**SAME, **(headers or {})})
        return status, answer

    def as_teacher(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        return self.call(method, path, body, self.teacher)

    def join(self, code: str, name: str, pin: str) -> tuple[int, Any, str | None]:
        _, info = self.call("GET", f"/api/v1/join/{code}")
        student_id = next(s["id"] for s in info["students"] if s["name"] == name)
        status, answer, response = self.client(
            "POST", "/api/v1/join", {"code": code, "student_id": student_id, "pin": pin}, SAME
        )
        cookie = _cookie(response, STUDENT_COOKIE)
        return status, answer, cookie


def _cookie(response: http.client.HTTPResponse, name: str) -> str | None:
    for header in response.headers.get_all("set-cookie") or []:
        if header.startswith(f"{name}="):
            return header.split(";")[0].split("=", 1)[1]
    return None


@pytest.fixture
def room(tmp_path: Path, db_url: str | Path) -> Iterator[Room]:
    console = Console(ConsoleConfig("127.0.0.1", 9, tmp_path / "console"), Database(db_url))
    console.db.accounts.add_teacher("ms-li", "a long secret")
    with ApiServer(console) as server:
        yield Room(console, Client(server.url))
    console.close()


def _period(room: Room) -> dict[str, Any]:
    status, period = room.as_teacher(
        "POST", "/api/v1/periods", {"roster": "7A", "lesson_id": "robot-dance"}
    )
    assert status == 200, period
    return period


def _pins(room: Room) -> dict[str, str]:
    status, sheet = room.as_teacher("POST", "/api/v1/rosters/7A/pins", {})
    assert status == 200, sheet
    return {row["student"]: row["pin"] for row in sheet}


def test_a_period_has_a_code_an_address_and_a_qr_code(room: Room) -> None:
    period = _period(room)
    assert len(period["code"]) == 6 and period["code"].isalnum()
    assert period["join_url"].endswith(f"/s/?code={period['code']}")
    status, svg, response = room.client(
        "GET", f"/api/v1/periods/{period['id']}/qr.svg", None, room.teacher
    )
    assert status == 200 and response.getheader("content-type") == "image/svg+xml"
    assert svg.startswith("<svg") and "<path" in svg
    # a second period of the class ends the first: its code no longer joins
    second = _period(room)
    assert room.call("GET", f"/api/v1/join/{period['code']}")[0] == 404
    assert room.call("GET", f"/api/v1/join/{second['code'].lower()}")[0] == 200


def test_the_pin_sheet_is_shown_once_and_pins_are_stored_hashed(room: Room) -> None:
    pins = _pins(room)
    assert sorted(pins) == ["Ana", "Bo", "Chen"]
    assert all(len(p) == 4 and p.isdigit() for p in pins.values())
    rows = room.console.db._connection.rows("SELECT pin_hash FROM student_pins")
    assert rows and all(r["pin_hash"].startswith("$argon2id$") for r in rows)
    assert not any(p in r["pin_hash"] for r in rows for p in pins.values())
    # one student's own PIN, and a picture PIN for the youngest
    assert (
        room.as_teacher("POST", "/api/v1/rosters/7A/pins", {"students": ["Bo"], "pin": "2468"})[0]
        == 200
    )
    status, sheet = room.as_teacher(
        "POST", "/api/v1/rosters/7A/pins", {"students": ["Chen"], "kind": "pictures"}
    )
    assert status == 200 and len(sheet[0]["pin"]) == 3 and "0" not in sheet[0]["pin"]
    assert room.as_teacher("POST", "/api/v1/rosters/7A/pins", {"students": ["Nobody"]})[0] == 404
    assert room.as_teacher("POST", "/api/v1/rosters/7A/pins", {"pin": "1234"})[0] == 400


def test_a_student_joins_with_the_code_their_name_and_pin(room: Room) -> None:
    period, pins = _period(room), _pins(room)
    _, info = room.call("GET", f"/api/v1/join/{period['code']}")
    assert [s["name"] for s in info["students"]] == ["Ana", "Bo", "Chen"]
    assert {s["pin"] for s in info["students"]} == {"digits"}
    status, answer, cookie = room.join(period["code"], "Ana", pins["Ana"])
    assert status == 200 and cookie, answer
    status, me = room.call(
        "GET", "/api/v1/student/me", headers={"Cookie": f"{STUDENT_COOKIE}={cookie}"}
    )
    assert (
        status == 200
        and me["name"] == "Ana"
        and me["roster"] == "7A"
        and me["lesson_id"] == "robot-dance"
    )
    # ending the period signs the student out
    assert room.as_teacher("POST", f"/api/v1/periods/{period['id']}/end")[0] == 200
    assert (
        room.call("GET", "/api/v1/student/me", headers={"Cookie": f"{STUDENT_COOKIE}={cookie}"})[0]
        == 401
    )


def test_wrong_pins_are_limited_per_student_and_wrong_codes_per_client(room: Room) -> None:
    period, pins = _period(room), _pins(room)
    wrong = "0000" if pins["Bo"] != "0000" else "1111"
    answers = [room.join(period["code"], "Bo", wrong)[:2] for _ in range(5)]
    assert all(status == 401 for status, _ in answers), answers
    assert "PIN" in answers[0][1]["detail"] and "不对" in answers[0][1]["detail"]
    status, answer, cookie = room.join(period["code"], "Bo", pins["Bo"])
    assert (
        status == 429 and cookie is None and "秒" in answer["detail"]
    )  # even the right PIN, for a minute
    for _ in range(10):
        assert room.call("GET", "/api/v1/join/ZZZZZZ")[0] == 404
    assert room.call("GET", f"/api/v1/join/{period['code']}")[0] == 429


def _api_routes(routes: list[Any]) -> Iterator[APIRoute]:
    """Every APIRoute of the app, also inside the routers it includes."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        inner = getattr(route, "original_router", None)  # FastAPI >= 0.165 keeps routers whole
        if inner is not None:
            yield from _api_routes(inner.routes)


def _uses_teacher(route: APIRoute) -> bool:
    stack = [route.dependant]
    while stack:
        dep = stack.pop()
        if dep.call is teacher:
            return True
        stack.extend(dep.dependencies)
    return False


def test_every_teacher_route_answers_403_to_a_student(room: Room) -> None:
    period, pins = _period(room), _pins(room)
    _, _, cookie = room.join(period["code"], "Ana", pins["Ana"])
    student = {"Cookie": f"{STUDENT_COOKIE}={cookie}"}
    app = create_app(room.console)
    routes = [r for r in _api_routes(app.routes) if _uses_teacher(r)]
    assert len(routes) > 40  # every area's routes, not a few
    answers = {}
    for route in routes:
        path = route.path_format.replace("{", "").replace("}", "")  # e.g. /api/v1/jobs/job/log
        for method in route.methods:
            answers[f"{method} {route.path}"] = room.call(method, path, {}, student)[0]
    assert {k: v for k, v in answers.items() if v != 403} == {}
    # and the student's own routes do not take a teacher's login for a student
    assert room.as_teacher("GET", "/api/v1/student/me")[0] == 401


def test_a_student_sees_only_their_own_work(room: Room) -> None:
    period, pins = _period(room), _pins(room)
    cookies = {n: room.join(period["code"], n, pins[n])[2] for n in ("Ana", "Bo")}
    ana, bo = ({"Cookie": f"{STUDENT_COOKIE}={cookies[n]}"} for n in ("Ana", "Bo"))
    code = "from hardware import Robot\nprint('Ana was here')\n"
    assert (
        room.call("PUT", "/api/v1/student/code", {"lesson_id": "robot-dance", "code": code}, ana)[0]
        == 200
    )
    status, lesson = room.call("GET", "/api/v1/student/lesson", headers=ana)
    assert status == 200 and lesson["code"] == code and lesson["steps"]
    status, lesson = room.call("GET", "/api/v1/student/lesson", headers=bo)
    assert status == 200 and lesson["code"] == lesson["starter"] != code
    assert room.call("GET", "/api/v1/student/code/1?lesson_id=robot-dance", headers=bo)[0] == 404
    ana_id = room.console.db.classes.session(cookies["Ana"]).student_id  # type: ignore[arg-type,union-attr]
    handin = room.console.db.work.add_handin(
        ana_id, "robot-dance", Place.SIM, "j0123456789abcdef", code
    )
    assert room.call("GET", f"/api/v1/student/handins/{handin.id}", headers=ana)[0] == 200
    assert room.call("GET", f"/api/v1/student/handins/{handin.id}", headers=bo)[0] == 404
    assert room.call("GET", "/api/v1/student/handins", headers=bo)[1] == []


def test_purging_a_class_deletes_its_pins_sessions_code_and_handins(room: Room) -> None:
    period, pins = _period(room), _pins(room)
    _, _, cookie = room.join(period["code"], "Ana", pins["Ana"])
    headers = {"Cookie": f"{STUDENT_COOKIE}={cookie}"}
    room.call(
        "PUT", "/api/v1/student/code", {"lesson_id": "robot-dance", "code": "print(1)\n"}, headers
    )
    status, _ = room.as_teacher("POST", "/api/v1/rosters/7A/purge", {"confirm": "7A"})
    assert status == 200
    db = room.console.db._connection
    for table in ("student_pins", "student_sessions", "student_code", "handins", "periods"):
        assert db.rows(f"SELECT COUNT(*) AS n FROM {table}")[0]["n"] == 0, table
    assert room.call("GET", "/api/v1/student/me", headers=headers)[0] == 401


def test_code_is_autosaved_in_versions_the_student_can_restore(room: Room) -> None:
    period, pins = _period(room), _pins(room)
    _, _, cookie = room.join(period["code"], "Ana", pins["Ana"])
    ana = {"Cookie": f"{STUDENT_COOKIE}={cookie}"}

    def save(code: str) -> int:
        status, saved = room.call(
            "PUT", "/api/v1/student/code", {"lesson_id": "robot-dance", "code": code}, ana
        )
        assert status == 200, saved
        return int(saved["version"])

    assert save("print(1)\n") == 1
    assert save("print(12)\n") == 1  # typing on: the same version, autosaved
    # two quiet minutes later (the store's clock moved back), the next save is a new version
    room.console.db._connection.execute("UPDATE student_code SET saved = saved - 300")
    assert save("print(123)\n") == 2
    status, versions = room.call(
        "GET", "/api/v1/student/code/history?lesson_id=robot-dance", headers=ana
    )
    assert status == 200 and [v["version"] for v in versions] == [2, 1]
    status, first = room.call("GET", "/api/v1/student/code/1?lesson_id=robot-dance", headers=ana)
    assert status == 200 and first["code"] == "print(12)\n"
    status, lesson = room.call("GET", "/api/v1/student/lesson", headers=ana)
    assert lesson["code"] == "print(123)\n" and lesson["version"] == 2
    # too long a program is refused with a clear error, and nothing is lost
    status, answer = room.call(
        "PUT", "/api/v1/student/code", {"lesson_id": "robot-dance", "code": "x" * 70_000}, ana
    )
    assert status == 422 and "65536" in str(answer)  # the page shows the limit
    assert room.call("GET", "/api/v1/student/lesson", headers=ana)[1]["code"] == "print(123)\n"


def test_a_block_program_is_saved_with_its_python(room: Room) -> None:
    period, pins = _period(room), _pins(room)
    _, _, cookie = room.join(period["code"], "Bo", pins["Bo"])
    bo = {"Cookie": f"{STUDENT_COOKIE}={cookie}"}
    blocks = '{"blocks": {"languageVersion": 0, "blocks": [{"type": "rc_start"}]}}'
    body = {"lesson_id": "robot-dance", "code": "print('from blocks')\n", "blocks": blocks}
    assert room.call("PUT", "/api/v1/student/code", body, bo)[0] == 200
    status, lesson = room.call("GET", "/api/v1/student/lesson", headers=bo)
    assert status == 200 and lesson["saved_blocks"]["blocks"]["blocks"][0]["type"] == "rc_start"
    broken = {**body, "blocks": "{not json"}
    status, answer = room.call("PUT", "/api/v1/student/code", broken, bo)
    assert status == 422 and "积木" in answer["detail"]
    assert room.call("GET", "/api/v1/student/lesson", headers=bo)[1]["saved_blocks"] is not None


def test_a_student_cannot_flood_their_robot_with_runs(room: Room) -> None:
    """The attack: Run on my robot pressed again and again. One job at a time reaches the
    robot; the next press says to press Stop or wait, in zh and en."""
    now = time.time()
    room.console.db._connection.execute(
        "INSERT INTO devices (device, online, first_seen, last_seen) VALUES ('robot-07', 1, ?, ?)",
        (now, now),
    )
    room.console.db.rosters.bind("robot-07", "Ana", "7A")
    period, pins = _period(room), _pins(room)
    _, _, cookie = room.join(period["code"], "Ana", pins["Ana"])
    ana = {"Cookie": f"{STUDENT_COOKIE}={cookie}"}
    body = {"lesson_id": "robot-dance", "code": "print('hi')\n", "place": "robot"}
    status, first = room.call("POST", "/api/v1/student/runs", body, ana)
    assert status == 200 and first["run"].startswith("j"), first
    answers = [room.call("POST", "/api/v1/student/runs", body, ana) for _ in range(20)]
    assert {status for status, _ in answers} == {409}
    assert "Stop" in answers[0][1]["detail"] and "停止" in answers[0][1]["detail"]
    assert [j.device for j in room.console.db.jobs.list()] == ["robot-07"]
    # the job ends (here: its robot says so): the next press runs again
    room.console.db.jobs.set_status(first["run"], Status.SUCCEEDED, None)
    assert room.call("POST", "/api/v1/student/runs", body, ana)[0] == 200


def test_a_teachers_own_lesson_handed_in_on_the_robot_goes_as_that_lesson(
    room: Room, isolated_dirs: Path
) -> None:
    """A lesson the teacher wrote or imported from the district (in the teacher's lessons
    folder, not built in) and graded on the robot: the job carries that lesson's bundle."""
    from lessons import pack_bundle  # noqa: PLC0415
    from lessons.library import LIBRARY  # noqa: PLC0415

    mine = isolated_dirs / "data" / "lessons" / "my-dance"
    shutil.copytree(LIBRARY / "robot-dance", mine)
    text = (mine / "lesson.yaml").read_text(encoding="utf-8")
    text = text.replace("id: robot-dance", "id: my-dance", 1)
    text = text.replace("grading:\n", "grading:\n  hand_in: robot\n", 1)
    (mine / "lesson.yaml").write_text(text, encoding="utf-8")
    now = time.time()
    room.console.db._connection.execute(
        "INSERT INTO devices (device, online, first_seen, last_seen) VALUES ('robot-07', 1, ?, ?)",
        (now, now),
    )
    room.console.db.rosters.bind("robot-07", "Ana", "7A")
    period, pins = _period(room), _pins(room)
    _, _, cookie = room.join(period["code"], "Ana", pins["Ana"])
    ana = {"Cookie": f"{STUDENT_COOKIE}={cookie}"}
    body = {"lesson_id": "my-dance", "code": "print('hi')\n"}
    status, handin = room.call("POST", "/api/v1/student/handins", body, ana)
    assert status == 200, handin
    (job,) = room.console.db.jobs.list()
    assert (job.device, job.lesson_id) == ("robot-07", "my-dance")
    assert job.sha256 == hashlib.sha256(pack_bundle(mine)).hexdigest()
