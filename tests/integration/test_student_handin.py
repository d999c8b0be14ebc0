"""A student's hand-in graded in the simulator on the console (SimRuns.hand_in, in a worker):
the real sandbox and grader; the stored result carries the exact code that ran."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from fleet.console.api import ApiServer
from fleet.console.console import Console, ConsoleConfig
from fleet.console.store import PinKind
from fleet.console.websecurity import STUDENT_COOKIE
from lessons.library import LIBRARY
from tests.unit.test_console_security import Client

pytestmark = pytest.mark.integration

SAME = {"Sec-Fetch-Site": "same-origin"}


@pytest.fixture
def student(tmp_path: Path) -> Iterator[tuple[Console, Client, dict[str, str]]]:
    console = Console(ConsoleConfig("127.0.0.1", 9, tmp_path / "console"))
    console.db.accounts.add_teacher("ms-li", "a long secret")
    ana = console.db.rosters.add_student("Ana", "7A")
    console.db.classes.set_pin(ana, "2468", PinKind.DIGITS)
    period = console.db.classes.start_period("7A", "ms-li", lesson_id="robot-dance")
    with ApiServer(console) as server:
        client = Client(server.url)
        body = {"code": period.code, "student_id": ana, "pin": "2468"}
        status, answer, response = client("POST", "/api/v1/join", body, SAME)
        assert status == 200, answer
        cookie = response.getheader("set-cookie", "").split(";")[0]
        assert cookie.startswith(f"{STUDENT_COOKIE}=")
        yield console, client, {**SAME, "Cookie": cookie}
    console.close()


def test_a_hand_in_is_graded_and_kept_with_its_code(
    student: tuple[Console, Client, dict[str, str]],
) -> None:
    console, client, headers = student
    solution = (LIBRARY / "robot-dance" / "solution.py").read_text(encoding="utf-8")
    # the program prints the sha256 of the file it runs as: the code that ran
    code = (
        solution
        + "\nimport hashlib, pathlib\nprint('ran', hashlib.sha256(pathlib.Path(__file__).read_bytes()).hexdigest())  # 你好\n"
    )
    status, handin, _ = client(
        "POST", "/api/v1/student/handins", {"lesson_id": "robot-dance", "code": code}, headers
    )
    assert status == 200, handin
    assert handin["place"] == "sim" and handin["score"] == 100 and handin["status"] == "SUCCEEDED"
    sha = hashlib.sha256(code.encode()).hexdigest()
    assert handin["code"] == code and handin["code_sha256"] == sha
    assert f"ran {sha}" in handin["result"]["output"]  # byte-identical to what ran
    # the teacher's results list it, under the student, from the simulator
    results = console.db.results.list(student_id=handin["student_id"])
    assert [(r.device, r.lesson_id, r.score) for r in results] == [
        ("simulator", "robot-dance", 100.0)
    ]
    # the portfolio
    status, mine, _ = client("GET", "/api/v1/student/handins", None, headers)
    assert status == 200 and [h["id"] for h in mine] == [handin["id"]]


def test_a_program_cannot_change_its_own_score(
    student: tuple[Console, Client, dict[str, str]],
) -> None:
    console, client, headers = student
    # what a student might try: write a grader or a result file, print a fake score, exit 0
    cheat = (
        "import os, pathlib\n"
        "for name in ('check.py', 'result.json', '../check.py'):\n"
        "    try:\n"
        "        pathlib.Path(name).write_text('def grade(run):\\n    return 100\\n')\n"
        "    except OSError as e:\n"
        "        print('refused', name, e)\n"
        'print(\'{"score": 100, "status": "passed"}\')\n'
    )
    status, handin, _ = client(
        "POST", "/api/v1/student/handins", {"lesson_id": "robot-dance", "code": cheat}, headers
    )
    assert status == 200, handin
    assert handin["score"] < 50 and handin["result"]["status"] != "passed"
    stored = console.db.results.list(student_id=handin["student_id"])[0]
    assert stored.score == handin["score"]
