"""The student's page (/s/) in headless Chromium against a live room.

Mosquitto, the console with its pages, and one ``roboclass agent`` process
with a simulated robot bound to the student. A student joins with the class
code, their name and PIN, sees the lesson's steps, types a program with a
completion, runs it in the simulator (the world, poses and output arrive),
gets a misspelt method explained at their own line, fixes it, runs it on
their robot, hands it in and sees the score; in zh and en. The page asks
nothing of any other origin. Screenshots go to ``build/screenshots/``.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, Request, expect, sync_playwright

from fleet.console.api import ApiServer
from fleet.console.console import Console
from fleet.console.store import PinKind
from tests.browser import launch_args, script_errors
from tests.conftest import system_part
from tests.integration.test_console_live import mosquitto_room
from tests.integration.test_fleet_support import wait_until
from tests.unit.test_console_security import Client

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

SHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
ROBOT = "robot-01"
PIN = "2468"

# a typo the student makes first: the page says which line and what was meant
TYPO = """\
import time
from hardware import Robot

with Robot() as robot:
    robot.drive.fowrard(0.5)
    time.sleep(1)
"""
# the lesson's dance, with a greeting; the last line is typed with a completion
DANCE = """\
import time
from hardware import Robot

with Robot() as robot:
    print("hello from Ana,", round(robot.distance.cm), "cm from the wall")
    for _ in range(2):
        robot.drive.forward(0.5)
        time.sleep(1)
        robot.drive.backward(0.5)
        time.sleep(1)
        robot.drive.left(0.3)
        time.sleep(1)
        robot.drive.right(0.3)
        time.sleep(1)
    robot."""

expect.set_options(timeout=60_000)


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"student-{name}.png"), full_page=True)


@pytest.fixture
def room(tmp_path: Path) -> Iterator[tuple[Console, ApiServer, str]]:
    with mosquitto_room(tmp_path, 1) as (console, server):
        wait_until(lambda: console.db.devices.ids(online_only=True) == [ROBOT], 60, "the robot")
        ana = console.db.rosters.add_student("Ana", "7A")
        console.db.rosters.bind(ROBOT, "Ana", "7A")
        console.db.rosters.add_student("Bo", "7A")
        console.db.classes.set_pin(ana, PIN, PinKind.DIGITS)
        console.db.accounts.add_teacher("ms-li", "a long classroom secret")
        period = console.db.classes.start_period("7A", "ms-li", lesson_id="robot-dance")
        yield console, server, period.code


def settle(page: Page) -> None:
    """CodeMirror takes no Enter for 75 ms after its list opens (so a child's Enter for a new
    line is not eaten): the test waits that long, as a child does without noticing."""
    page.wait_for_timeout(150)


def set_code(page: Page, code: str) -> None:
    page.click(".cm-content")
    page.keyboard.press("Control+a")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(code)


def join(page: Page, url: str, code: str) -> None:
    page.goto(f"{url}/s/?code={code}")  # the QR code's address carries the code
    page.get_by_role("button", name="Ana").click()
    for digit in PIN:
        page.locator("#pin-pad button", has_text=digit).click()
    page.click("#pin-go")
    expect(page.locator("#work")).to_be_visible()


def test_a_student_joins_runs_fixes_and_hands_in(room: tuple[Console, ApiServer, str]) -> None:
    console, server, code = room
    chromium = system_part("chromium")
    own = urllib.parse.urlsplit(server.url).netloc
    elsewhere: list[str] = []

    def watch(request: Request) -> None:
        if urllib.parse.urlsplit(request.url).netloc not in (own, ""):
            elsewhere.append(request.url)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=launch_args())
        try:
            for lang, locale in (("zh", "zh-CN"), ("en", "en-US")):
                context = browser.new_context(
                    locale=locale, viewport={"width": 1400, "height": 900}
                )
                page = context.new_page()
                page.on("request", watch)
                page.on("dialog", lambda dialog: dialog.accept())
                errors = script_errors(page)
                join(page, server.url, code)
                steps = page.locator("#steps li")
                expect(steps.first).to_be_visible()
                assert steps.count() >= 3
                title = "机器人跳舞" if lang == "zh" else "Robot dance"
                expect(page.locator("#lesson-title")).to_have_text(title)
                shot(page, f"workspace-{lang}")
                # the lesson opens in blocks the first time (tests/integration/test_student_blocks.py);
                # this student goes on in Python (one way: the page asks first)
                if lang == "zh":
                    page.click("#to-python")
                expect(page.locator("#to-python")).to_be_hidden()

                # a misspelt method: explained at the student's own line, the line marked
                set_code(page, TYPO)
                page.click("#run-sim")
                expect(page.locator("#explain")).to_be_visible()
                expect(page.locator("#explain")).to_contain_text("forward")
                expect(page.locator(".cm-rc-error-line")).to_have_count(1)
                line = "第 5 行" if lang == "zh" else "Line 5"
                expect(page.locator("#explain")).to_contain_text(line)
                shot(page, f"error-{lang}")

                # fixed, with a completion for the last line
                set_code(page, DANCE)
                page.keyboard.type("dr")
                expect(page.locator(".cm-tooltip-autocomplete")).to_contain_text("drive")
                settle(page)
                page.keyboard.press("Enter")
                page.keyboard.type(".st")
                expect(page.locator(".cm-tooltip-autocomplete")).to_contain_text("stop")
                settle(page)
                page.keyboard.press("Enter")
                page.keyboard.type("()")
                assert "robot.drive.stop()" in page.locator(".cm-content").inner_text()
                page.click("#run-sim")
                expect(page.locator("#output")).to_contain_text("hello from Ana")
                expect(page.locator("#sensors")).to_be_visible()
                expect(page.locator("#explain")).to_be_hidden()
                drawn = page.evaluate(
                    "() => { const c = document.querySelector('#view');"
                    " const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
                    " let blue = 0; for (let i = 0; i < d.length; i += 4)"
                    " if (d[i] < 60 && d[i + 2] > 150) blue++; return blue; }"
                )
                assert drawn > 20  # the robot, in blue, on the top-down view
                shot(page, f"sim-{lang}")
                expect(page.locator("#stop")).to_be_disabled(timeout=90_000)  # the run ended

                # on the student's own robot, through Mosquitto
                page.click("#run-robot")
                expect(page.locator("#output")).to_contain_text("hello from Ana", timeout=120_000)
                expect(page.locator("#stop")).to_be_disabled(timeout=120_000)
                # its sensors came from the robot (its telemetry: what the program read),
                # not the simulator's view (which shows every sensor, the line's too)
                expect(page.locator("#sensors")).not_to_contain_text("robot.line")
                expect(page.locator("#sensors")).to_contain_text("robot.distance")
                shot(page, f"robot-{lang}")

                # hand in: graded in the simulator, the score and the rubric shown
                page.click("#handin")
                expect(page.locator("#grade .score")).to_contain_text("100", timeout=120_000)
                shot(page, f"handin-{lang}")
                handins = console.db.work.handins()
                assert handins[0].code.endswith("robot.drive.stop()")
                assert handins[0].score == 100
                assert errors == [], errors
                context.close()
        finally:
            browser.close()
    assert elsewhere == []
    # the teacher's class view: Ana's code, her last run (on the robot) and her hand-ins
    client = Client(server.url)
    status, login, _ = client(
        "POST", "/api/v1/login", {"username": "ms-li", "password": "a long classroom secret"}
    )
    assert status == 200, login
    bearer = {"Authorization": f"Bearer {login['token']}"}
    status, rows, _ = client("GET", "/api/v1/rosters/7A/work", None, bearer)
    assert status == 200, rows
    ana = next(r for r in rows if r["name"] == "Ana")
    assert ana["code"].endswith("robot.drive.stop()")
    assert ana["last_run"]["place"] == "robot" and ana["last_run"]["status"] == "passed"
    assert [h["score"] for h in ana["handins"]] == [100.0, 100.0]  # zh, then en
