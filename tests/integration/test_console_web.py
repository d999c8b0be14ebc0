"""The teacher console in headless Chromium against a live room.

The embedded broker, the console with its API and pages, and three simulated
robots (real ``roboclass agent`` processes, as ``roboclass demo`` starts
them). A teacher sets up the first account, sees the robots come online,
identifies one, pushes a built-in lesson to all, watches the states change
live, reads a robot's log, the results and the chart, exports CSV and xAPI,
presses STOP ALL, switches to Chinese, releases, deletes the class's data
and logs out. Screenshots of every page go to ``build/screenshots/``.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright
from pydantic import BaseModel

from fleet.broker.embedded import EmbeddedBroker
from fleet.console.api import ApiServer
from fleet.console.api.jobs import builtin_bundle
from fleet.console.console import Console, ConsoleConfig
from fleet.console.store import Place
from fleet.core.protocol import DeviceState, JobResult, LogBatch, LogLine, Status, encode
from roboclass.demo import _robots
from tests.browser import launch_args, script_errors
from tests.conftest import system_part
from tests.integration.test_fleet_support import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(420)]

ROBOTS = 3
LESSON = "lights-and-sound"
SHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
TEACHER, PASSWORD = "ms-li", "a long classroom secret"


# a busy machine (robots running lessons beside the browser) is slower than 5 s
expect.set_options(timeout=30_000)


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"console-{name}.png"), full_page=True)


def cards(page: Page, condition: str) -> int:
    return int(page.eval_on_selector_all(f"#cards .card{condition}", "els => els.length"))


@contextlib.contextmanager
def console_on_broker(folder: Path, robots: int) -> Iterator[tuple[Console, ApiServer]]:
    """Embedded broker, console with its API and pages, and ``robots`` agent processes."""
    with EmbeddedBroker() as broker:
        console = Console(ConsoleConfig(broker.host, broker.port, folder / "console", keepalive=2))
        server = ApiServer(console).start()
        console.config.url = server.url
        console.start()
        try:
            assert console.wait_connected(10)
            with _robots(robots, broker, console, folder):
                yield console, server
        finally:
            server.close()
            console.close()


@pytest.fixture
def room(tmp_path: Path) -> Iterator[tuple[Console, ApiServer]]:
    with console_on_broker(tmp_path, ROBOTS) as running:
        yield running


def send(console: Console, topic: str, msg: BaseModel) -> None:
    """A device's message, sent on the console's own connection (it hears its room's up/)."""
    assert console.link.publish(topic, encode(msg))


def test_teacher_runs_a_lesson_in_the_browser(room: tuple[Console, ApiServer]) -> None:
    chromium = system_part("chromium")
    console, server = room
    # nothing from the internet: the page's own files are all local
    with urllib.request.urlopen(server.url + "/", timeout=5) as response:
        html = response.read().decode()
    assert "http://" not in html
    assert "https://" not in html

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=launch_args())
        try:
            # a browser that prefers Chinese gets Chinese; first run: set up the account
            zh = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 800})
            page = zh.new_page()
            page.goto(server.url + "/")
            expect(page.locator("#setup-form h1")).to_have_text("设置控制台")
            assert page.locator("html").get_attribute("lang") == "zh-CN"
            page.select_option("#lang", "en")
            expect(page.locator("#setup-form h1")).to_have_text("Set up this console")
            shot(page, "setup")
            page.fill("#setup-user", TEACHER)
            page.fill("#setup-pass", "short")
            page.fill("#setup-pass2", "short")
            page.click("#setup-form button[type=submit]")
            expect(page.locator("#setup-error")).to_contain_text("at least 8")
            page.fill("#setup-pass", PASSWORD)
            page.fill("#setup-pass2", PASSWORD)
            page.fill("#setup-code", "AAAA-AAAA")  # only the console's own screen shows the code
            page.click("#setup-form button[type=submit]")
            expect(page.locator("#setup-error")).to_contain_text("set-up code is not right")
            assert not console.db.accounts.has_teachers()
            page.fill("#setup-code", server.setup_code)
            page.click("#setup-form button[type=submit]")
            expect(page.locator("#page-room")).to_be_visible()
            assert console.db.accounts.teacher_exists(TEACHER)
            zh.close()

            # log in as that teacher in a fresh English browser
            context = browser.new_context(
                locale="en-US", viewport={"width": 1280, "height": 800}, accept_downloads=True
            )
            page = context.new_page()
            page.goto(server.url + "/")
            expect(page.locator("#login-form")).to_be_visible()
            expect(page.locator("#setup-form")).to_be_hidden()
            page.fill("#login-user", TEACHER)
            page.fill("#login-pass", "wrong password")
            page.click("#login-form button[type=submit]")
            expect(page.locator("#login-error")).to_contain_text("Wrong name or password")
            shot(page, "login")
            page.fill("#login-pass", PASSWORD)
            page.press("#login-pass", "Enter")

            # the room: every robot's card goes online, live
            expect(page.locator("#stop-all")).to_be_visible()
            page.wait_for_function(
                f"() => document.querySelectorAll('#cards .card[data-online=true]').length === {ROBOTS}",
                timeout=60_000,
            )
            expect(page.locator("#conn")).to_have_text("Live")
            expect(page.locator("#room-summary")).to_have_text(
                f"{ROBOTS} of {ROBOTS} robots online"
            )

            # identify one robot
            page.click("#identify-robot-01")
            expect(page.locator("#toast")).to_have_text("robot-01 blinks and beeps.")

            # a pre-flight check of the selected robot: its Health line fills in
            page.check("#sel-robot-02")
            page.click("#check-selected")
            expect(page.locator("#toast")).to_contain_text("1 robots check")
            expect(page.locator(".card[data-device=robot-02] dd").last).to_contain_text(" ok")
            page.uncheck("#sel-robot-02")

            # roster: bind robot-01 to a student; the card shows the name
            page.click("#nav a[data-page=roster]")
            page.fill("#roster-class", "7-2")
            page.fill("#student-robot-01", "Wang Fang")
            page.click("#roster-table tr[data-device=robot-01] button")
            expect(page.locator("#toast")).to_contain_text("robot-01 is bound to Wang Fang")
            page.fill("#roster-csv", "robot-02, Li Lei\nrobot-03，Han Meimei")
            page.click("#roster-import button")
            expect(page.locator("#toast")).to_have_text("2 robots bound.")
            expect(page.locator("#class-list li[data-roster='7-2']")).to_contain_text("3 students")
            shot(page, "roster")

            # record every job state a card shows from here on
            page.click("#nav a[data-page=room]")
            page.evaluate(
                """() => {
                    window.seenStates = new Set();
                    const look = () => document.querySelectorAll('#cards .card').forEach(
                        c => c.dataset.jobStatus && window.seenStates.add(c.dataset.jobStatus));
                    new MutationObserver(look).observe(document.getElementById('cards'),
                        {subtree: true, childList: true, attributes: true});
                }"""
            )

            # lessons: browse by band, read the steps, push the quick one to all
            page.click("#nav a[data-page=lessons]")
            lesson = page.locator(f"article[data-lesson={LESSON}]")
            expect(lesson.locator("h2")).to_have_text("Hello robot: lights and sound")
            expect(lesson.locator(".other-title")).to_have_text("你好机器人：灯光和声音")
            page.click("#bands button:has-text('Create')")
            expect(lesson).to_be_hidden()
            page.click("#bands button:has-text('Perceive')")
            expect(lesson).to_be_visible()
            expect(
                page.locator("article[data-lesson=line-follower] button.challenge")
            ).to_be_hidden()
            page.click("#bands button:has-text('Apply')")
            expect(
                page.locator("article[data-lesson=line-follower] button.challenge")
            ).to_be_visible()
            expect(lesson.locator("button.challenge")).to_have_count(0)
            page.click("#bands button:has-text('Perceive')")
            lesson.locator("summary").click()
            expect(lesson.locator("details li").first).to_contain_text("The robot listens to you")
            shot(page, "lessons")
            lesson.locator("button.push-all").click()
            expect(page.locator("#toast")).to_contain_text(f"sent to {ROBOTS} robots")

            # the room follows the jobs live, without reloading, to the end
            page.click("#nav a[data-page=room]")
            page.wait_for_function(
                "() => [...document.querySelectorAll('#cards .card')].every("
                "c => ['SUCCEEDED', 'FAILED'].includes(c.dataset.jobStatus))",
                timeout=240_000,
            )
            seen = set(page.evaluate("[...window.seenStates]"))
            assert seen & {"PENDING", "QUEUED", "IN_PROGRESS"}, seen
            assert cards(page, "[data-job-status=SUCCEEDED]") == ROBOTS
            expect(page.locator("#name-robot-01")).to_have_text("robot-01")
            expect(page.locator(".card[data-device=robot-01] dd").first).to_have_text("Wang Fang")
            shot(page, "room")

            # the robot's log for that job, streamed into a dialog
            page.click("#log-robot-01")
            expect(page.locator("#log-dialog")).to_be_visible()
            # the lesson's starter prints nothing: lines the robot sends now stream in
            batch = LogBatch(
                device="robot-01",
                job="j-from-test",
                lines=[LogLine(stream="stdout", line="lap 1: 12.5 s")],
            )
            send(console, console.topics.log("robot-01"), batch)
            expect(page.locator("#log-lines .log-job").last).to_have_text("job j-from-test")
            expect(page.locator("#log-lines .log-line.stdout").last).to_have_text("lap 1: 12.5 s")
            shot(page, "log")
            page.keyboard.press("Escape")
            expect(page.locator("#log-dialog")).to_be_hidden()

            page.set_viewport_size({"width": 768, "height": 1024})
            shot(page, "room-tablet")
            page.set_viewport_size({"width": 1280, "height": 800})

            # results: the table, the chart and the CSV
            page.click("#nav a[data-page=results]")
            expect(page.locator("#results-table tbody tr")).to_have_count(ROBOTS)
            counts = page.eval_on_selector_all(
                "#score-chart rect.bar", "els => els.map(e => Number(e.dataset.count))"
            )
            assert len(counts) == 10
            assert sum(counts) == ROBOTS
            expect(page.locator("#stats")).to_contain_text(f"{ROBOTS} results")
            expect(page.locator("#results-table tbody")).to_contain_text("Wang Fang")
            expect(page.locator("#progress-table tbody tr")).to_have_count(ROBOTS)
            expect(page.locator("#progress-table tbody td.heat").first).not_to_have_text("—")
            expect(page.locator("#leaderboard")).to_be_hidden()  # not a challenge lesson
            page.fill("#filter-student", "Wang Fang")
            expect(page.locator("#results-table tbody tr")).to_have_count(1)
            page.fill("#filter-student", "")
            expect(page.locator("#results-table tbody tr")).to_have_count(ROBOTS)
            first = page.locator("#results-table tbody tr").first
            first.locator("button[aria-expanded]").click()
            expect(page.locator("#results-table .details-row .rubric li").first).to_be_visible()
            shot(page, "results")
            with page.expect_download() as download_info:
                page.click("#export-xapi")
            statements = json.loads(Path(download_info.value.path()).read_text("utf-8"))
            assert len(statements) == ROBOTS
            for statement in statements:
                assert statement["verb"]["id"].startswith("http://adlnet.gov/expapi/verbs/")
                assert statement["object"]["id"].endswith(f"/lessons/{LESSON}")
                assert 0 <= statement["result"]["score"]["scaled"] <= 1
            # the learning-record store gets the pseudonymous id, never the name
            wang = next(d for d in console.db.devices.list() if d.device == "robot-01")
            assert wang.student_id in {s["actor"]["account"]["name"] for s in statements}
            assert "Wang Fang" not in json.dumps(statements)
            with page.expect_download() as download_info:
                page.click("#export-csv")
            download = download_info.value
            assert download.suggested_filename == "results.csv"
            rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text("utf-8"))))
            assert len(rows) == ROBOTS
            assert {r["lesson"] for r in rows} == {LESSON}
            assert ("Wang Fang", wang.student_id, "7-2") in {
                (r["student"], r["student_id"], r["class"]) for r in rows
            }

            # STOP ALL: every card shows stopped, and the bar confirms it
            page.click("#nav a[data-page=room]")
            page.click("#stop-all")
            page.wait_for_function(
                "() => document.getElementById('stopbar').dataset.state === 'stopped'",
                timeout=20_000,
            )
            assert cards(page, "[data-estopped=true]") == ROBOTS
            expect(page.locator(".stopped-badge")).to_have_count(ROBOTS)
            expect(page.locator("#stop-status")).to_have_text(f"✓ All {ROBOTS} robots are stopped.")
            assert console.db.estop.get().active is True
            shot(page, "stopped")

            # Chinese labels everywhere after the switch
            page.select_option("#lang", "zh")
            expect(page.locator("#stop-all")).to_have_text("全部停止")
            expect(page.locator("#nav a[data-page=room]")).to_have_text("教室")
            expect(page.locator("#room-title")).to_have_text("教室")
            expect(page.locator(".stopped-badge").first).to_contain_text("已停止")
            assert page.locator("html").get_attribute("lang") == "zh-CN"
            shot(page, "room-zh")
            page.click("#nav a[data-page=lessons]")
            expect(lesson.locator("h2")).to_have_text("你好机器人：灯光和声音")
            shot(page, "lessons-zh")
            page.click("#nav a[data-page=results]")
            expect(page.locator("#results-title")).to_have_text("成绩")
            shot(page, "results-zh")

            # release: the robots may run again
            page.click("#release")
            page.wait_for_function(
                "() => document.getElementById('stopbar').dataset.state === 'ready'", timeout=20_000
            )
            page.click("#nav a[data-page=room]")
            page.wait_for_function(
                "() => document.querySelectorAll('#cards .card[data-estopped=true]').length === 0",
                timeout=20_000,
            )
            page.select_option("#lang", "en")

            # the end of the course: delete the class's data, confirmed by typing its name
            page.click("#nav a[data-page=roster]")
            row = page.locator("#class-list li[data-roster='7-2']")
            expect(row).to_contain_text(f"3 students · {ROBOTS} results")
            row.locator("button.purge-open").click()
            go = row.locator("button.purge-go")
            expect(go).to_be_disabled()
            expect(row.locator(".purge-name")).to_be_focused()
            page.keyboard.type("7-")
            expect(go).to_be_disabled()
            page.keyboard.type("2")
            expect(go).to_be_enabled()
            shot(page, "purge")
            go.click()
            expect(page.locator("#toast")).to_have_text(
                f"Class 7-2 deleted: 3 students, {ROBOTS} results."
            )
            expect(page.locator("#class-list")).to_contain_text("No students yet.")
            expect(page.locator("#student-robot-01")).to_have_value("")
            page.click("#nav a[data-page=results]")
            expect(page.locator("#results-empty")).to_be_visible()

            # the login is a cookie the page's scripts cannot read, never sent cross-site
            cookie = next(c for c in context.cookies() if c["name"] == "rc_session")
            assert cookie["httpOnly"]
            assert cookie["sameSite"] == "Strict"
            assert not cookie["secure"]  # plain HTTP here; Secure over HTTPS
            assert "rc_session" not in page.evaluate("document.cookie")
            assert page.evaluate("sessionStorage.length") == 0
            # log out: the login is revoked on the console too
            token = cookie["value"]
            assert console.db.accounts.token_user(token) == TEACHER
            page.click("#logout")
            expect(page.locator("#login-form")).to_be_visible()
            assert console.db.accounts.token_user(token) is None
            assert not any(c["name"] == "rc_session" for c in context.cookies())
            context.close()
        finally:
            browser.close()
    # the room the browser showed is the room the API reports
    request = urllib.request.Request(
        server.url + "/api/v1/room",
        headers={"Authorization": "Bearer " + console.db.accounts.new_token(TEACHER, "test")},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        snapshot = json.load(response)
    assert {d["device"] for d in snapshot["devices"]} == {"robot-01", "robot-02", "robot-03"}
    assert snapshot["results"] == 0  # the class's results went with it
    assert {d["student"] for d in snapshot["devices"]} == {None}
    actions = [e.action for e in console.db.audit.list()][::-1]
    assert actions == ["setup", "push", "stop", "release", "purge"], actions
    wait_until(lambda: not console.db.estop.get().active, 5, "released")


def birth(console: Console, device: str, *, estopped: bool = False) -> None:
    state = DeviceState(
        device=device,
        session="s1",
        online=True,
        ts=time.time(),
        battery=7.9,
        preflight={"ok": 5, "warn": 1, "fail": 0},
        estopped=estopped,
    )
    send(console, console.topics.state(device), state)


def test_challenge_leaderboard_keyboard_and_tablet(tmp_path: Path) -> None:
    """Robots played by the test (exact messages): a challenge's leaderboard, the
    STOP bar waiting for every robot's acknowledgement, keyboard use, a tablet."""
    chromium = system_part("chromium")
    with console_on_broker(tmp_path, 0) as (console, server):
        console.db.accounts.add_teacher(TEACHER, PASSWORD)
        students = {"r1": "Wang Fang", "r2": "Li Lei", "r3": "Han Meimei"}
        for device in students:
            birth(console, device)
        wait_until(lambda: len(console.db.devices.ids(online_only=True)) == 3, 10, "births")
        for device, student in students.items():
            console.db.rosters.bind(device, student)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(chromium), args=launch_args())
            try:
                page = browser.new_page(viewport={"width": 820, "height": 1180}, locale="en-GB")
                page.goto(server.url + "/")
                # someone guessing: after 5 wrong passwords for a name, the page says wait
                page.fill("#login-user", "guess-me")
                for n in range(6):
                    page.fill("#login-pass", f"guess {n}")
                    page.click("#login-form button[type=submit]")
                    text = "Too many wrong passwords" if n == 5 else "Wrong name or password"
                    expect(page.locator("#login-error")).to_contain_text(text)
                page.select_option("#lang", "zh")
                page.click("#login-form button[type=submit]")
                expect(page.locator("#login-error")).to_contain_text("密码错误次数太多")
                shot(page, "login-too-many-zh")
                page.select_option("#lang", "en")
                page.fill("#login-user", "")
                page.fill("#login-pass", "")
                # another name is not held up. The keyboard alone: name, Tab, password, Enter
                page.locator("#login-user").focus()
                page.keyboard.type(TEACHER)
                page.keyboard.press("Tab")
                page.keyboard.type(PASSWORD)
                page.keyboard.press("Enter")
                page.wait_for_function(
                    "() => document.querySelectorAll('#cards .card[data-online=true]').length === 3"
                )
                r1 = page.locator(".card[data-device=r1]")
                expect(r1).to_contain_text("7.9 V")
                expect(r1).to_contain_text("5 ok · 1 warnings")

                # select two robots, push to the selection only
                page.check("#sel-r1")
                page.check("#sel-r2")
                expect(page.locator("#selected-count")).to_have_text("2 selected")
                page.click("#nav a[data-page=lessons]")
                lights = page.locator("article[data-lesson=lights-and-sound]")
                lights.locator("button.push-selected").click()
                expect(page.locator("#toast")).to_contain_text("sent to 2 robots")
                assert {j.device for j in console.db.jobs.list()} == {"r1", "r2"}

                # challenge mode: the lesson goes to the open class period; the students'
                # hand-ins are ranked, a pushed starter's run never is
                period = console.db.classes.start_period("default", TEACHER)
                page.click("#bands button:has-text('Apply')")
                follower = page.locator("article[data-lesson=line-follower]")
                follower.locator("button.challenge").click()
                expect(page.locator("#toast")).to_contain_text("open in 1 class periods")
                expect(page.locator("#page-results")).to_be_visible()
                expect(page.locator("#leaderboard")).to_be_visible()
                expect(page.locator("#leaderboard-title")).to_contain_text("Follow the line")
                found = console.db.classes.period(period.id)
                assert found is not None and found.lesson_id == "line-follower"
                assert not [j for j in console.db.jobs.list() if j.lesson_id == "line-follower"]
                sha = builtin_bundle(console, "line-follower")
                ids = {s.name: s.id for s in console.db.rosters.students()}
                jobs = {}
                for device, student in students.items():
                    code = f"# {student}'s own line follower\n"
                    job = console.push(sha, "line-follower", [device], code=code)[0]["job"]
                    console.db.work.add_handin(
                        ids[student], "line-follower", Place.ROBOT, job, code
                    )
                    jobs[device] = job
                starter = console.push(sha, "line-follower", ["r3"])[0]["job"]  # not handed in
                laps = {
                    "r1": ("passed", 80, 14.2),
                    "r2": ("passed", 95, 11.8),
                    "r3": ("failed", 30, 40.0),
                }
                runs = [(d, jobs[d], *lap) for d, lap in laps.items()]
                runs.append(("r3", starter, "passed", 100, 9.0))  # the fastest, yet no hand-in
                for device, job, graded, score, lap in runs:
                    result = JobResult(
                        device=device,
                        job=job,
                        result_id=f"res-{job}",
                        status=Status.SUCCEEDED,
                        result={
                            "status": graded,
                            "score": score,
                            "metrics": {"lap_time_s": lap},
                            "feedback": {"en": "ok", "zh": "好"},
                        },
                        ts=time.time(),
                    )
                    send(console, console.topics.result(device, job), result)
                board = page.locator("#leaderboard-list li")
                expect(board).to_have_count(2)  # only passing hand-ins are ranked
                expect(board.nth(0)).to_contain_text("Li Lei 11.8 s")
                expect(board.nth(1)).to_contain_text("Wang Fang 14.2 s")
                expect(page.locator("#results-table tbody tr")).to_have_count(4)
                shot(page, "challenge-tablet")
                # a hand-in's result shows the exact code that earned it
                row = page.locator(f"#results-table tr[data-result=res-{jobs['r2']}]")
                row.locator("button", has_text="Details").click()
                page.locator(".handin-open").click()
                expect(page.locator("#handin-dialog")).to_contain_text("Li Lei's own line follower")
                page.click("#handin-close")

                # STOP ALL from the keyboard; it waits until every robot says it stopped
                page.click("#nav a[data-page=room]")
                page.locator("#stop-all").focus()
                page.keyboard.press("Enter")
                expect(page.locator("#stop-status")).to_have_text(
                    "Stopping… 0 of 3 robots have stopped."
                )
                expect(page.locator("#stopbar")).to_have_attribute("data-state", "stopping")
                birth(console, "r1", estopped=True)
                birth(console, "r2", estopped=True)
                expect(page.locator("#stop-status")).to_have_text(
                    "Stopping… 2 of 3 robots have stopped."
                )
                shot(page, "stopping-tablet")
                birth(console, "r3", estopped=True)
                expect(page.locator("#stopbar")).to_have_attribute("data-state", "stopped")
                expect(page.locator(".stopped-badge")).to_have_count(3)
                shot(page, "stopped-tablet")
            finally:
                browser.close()


PAGES = ("room", "class", "roster", "lessons", "results", "audit")
UNCLAIMED = {  # what GET /api/v1/enrol says on a console started with its classroom's folder
    "enabled": True,
    "robots": [{"robot": "rc-7a1b2c", "hostname": "robot-07", "address": "192.168.1.23:8764"}],
    "devices": ["r1", "r2", "r3"],
}


def test_every_page_in_zh_and_en_without_script_errors(tmp_path: Path) -> None:
    """Every page, tab and dialog of the console in Chinese and in English, with robots,
    a class, results and audit rows: the page's scripts log no error or warning. The
    screenshots (console-<lang>-<page>.png) are for a person to look at."""
    chromium = system_part("chromium")
    with console_on_broker(tmp_path, 0) as (console, server), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=launch_args())
        try:
            pages: dict[str, tuple[Page, list[str]]] = {}
            for lang, locale in (("zh", "zh-CN"), ("en", "en-GB")):
                context = browser.new_context(
                    locale=locale, viewport={"width": 1280, "height": 800}
                )
                context.route(
                    "**/api/v1/enrol",
                    lambda route: route.fulfill(json=UNCLAIMED),
                )
                page = context.new_page()
                pages[lang] = (page, script_errors(page))
                page.goto(server.url + "/")
                expect(page.locator("#setup-form")).to_be_visible()
                expect(page.locator("#setup-form h1")).to_have_text(
                    "设置控制台" if lang == "zh" else "Set up this console"
                )
                expect(page.locator("#setup-user")).to_be_focused()
                shot(page, f"{lang}-setup")

            console.db.accounts.add_teacher(TEACHER, PASSWORD)
            token = console.db.accounts.new_token(TEACHER, "test")
            students = {
                "r1": ("Wang Fang", "7-2"),
                "r2": ("Li Lei", "7-2"),
                "r3": ("Han Meimei", "8-1"),
            }
            for device in students:
                birth(console, device)
            wait_until(lambda: len(console.db.devices.ids(online_only=True)) == 3, 10, "births")
            for device, (student, roster) in students.items():
                console.db.rosters.bind(device, student, roster)
            request = urllib.request.Request(
                server.url + "/api/v1/push",
                data=json.dumps({"lesson": LESSON}).encode(),
                method="POST",
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            )
            with urllib.request.urlopen(request, timeout=60) as response:
                jobs = {j["device"]: j["job"] for j in json.load(response)["jobs"]}
            for device, score in (("r1", 100), ("r2", 60)):
                result = JobResult(
                    device=device,
                    job=jobs[device],
                    result_id=f"res-{device}",
                    status=Status.SUCCEEDED,
                    result={
                        "status": "passed" if score == 100 else "failed",
                        "score": score,
                        "run_status": "finished",
                        "seconds": 9.5,
                        "rubric": [
                            {
                                "id": "led",
                                "title": {"en": "The LED blinks", "zh": "LED 闪烁"},
                                "passed": True,
                                "points": 60,
                            },
                            {
                                "id": "beep",
                                "title": {"en": "It beeps", "zh": "蜂鸣"},
                                "passed": score == 100,
                                "points": 40,
                            },
                        ],
                        "metrics": {"blinks": 3},
                        "feedback": {"en": "Well done.", "zh": "做得好。"},
                        "output": "blink 1\nblink 2",
                    },
                    ts=time.time(),
                )
                send(console, console.topics.result(device, jobs[device]), result)
            wait_until(lambda: len(console.db.results.list()) == 2, 10, "results")

            for lang, (page, errors) in pages.items():
                page.reload()
                expect(page.locator("#login-form")).to_be_visible()
                expect(page.locator("#login-user")).to_be_focused()
                shot(page, f"{lang}-login")
                page.fill("#login-user", TEACHER)
                page.fill("#login-pass", PASSWORD)
                page.press("#login-pass", "Enter")
                page.wait_for_function(
                    "() => document.querySelectorAll('#cards .card[data-online=true]').length === 3"
                )
                expect(page.locator("#enrol .enrol-robot")).to_have_count(1)
                expect(page.locator("#conn")).to_be_visible()
                page.check("#sel-r2")
                for name in PAGES:
                    page.click(f"#nav a[data-page={name}]")
                    expect(page.locator(f"#page-{name}")).to_be_visible()
                    ready = {
                        "room": "#cards .card[data-device=r3]",
                        "class": "#work-grid .work-card >> nth=1",
                        "roster": "#class-list li[data-roster='8-1']",
                        "lessons": f"article[data-lesson={LESSON}]",
                        "results": "#results-table tbody tr >> nth=1",
                        "audit": "#audit-table tbody tr",
                    }[name]
                    expect(page.locator(ready).first).to_be_visible()
                    page.evaluate("window.scrollTo(0, 0)")
                    shot(page, f"{lang}-{name}")
                    if name == "room":
                        page.locator("#enrol").screenshot(
                            path=str(SHOTS / f"console-{lang}-devices.png")
                        )
                # the dialogs: a robot's log, one result's job, its details open
                page.click("#nav a[data-page=results]")
                page.locator("#results-table tbody tr").first.locator("button.job-open").click()
                expect(page.locator("#job-lines .log-line").first).to_be_visible()
                shot(page, f"{lang}-job")
                page.keyboard.press("Escape")
                page.click("#nav a[data-page=room]")
                page.click("#log-r1")
                expect(page.locator("#log-dialog")).to_be_visible()
                shot(page, f"{lang}-log")
                page.keyboard.press("Escape")
                page.click("#logout")
                expect(page.locator("#login-form")).to_be_visible()
                assert errors == [], errors
        finally:
            browser.close()
