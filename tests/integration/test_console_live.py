"""The console's live parts in headless Chromium: a robot's camera preview, a job's log.

The preview test runs the real thing: Mosquitto, the console with its pages,
one ``roboclass agent`` process with a simulated robot. The teacher turns the
preview on for the idle robot, then for a student's program that turns and
reads the camera (the picture changes), turns it off, and the test checks
that no picture was stored anywhere: not in the console's database or data
folder, not in the robot's. Screenshots go to ``build/screenshots/``.
"""

from __future__ import annotations

import base64
import contextlib
import http.server
import json
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from fleet.agent.agent import Agent, AgentConfig
from fleet.broker.embedded import EmbeddedBroker
from fleet.broker.mosquitto import Mosquitto
from fleet.console.api import ApiServer
from fleet.console.console import Console, ConsoleConfig
from fleet.core.protocol import DeviceState, JobResult, LogBatch, LogLine, Status, encode
from roboclass.demo import _robots
from tests.browser import launch_args, script_errors
from tests.conftest import system_part
from tests.integration.test_fleet_support import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(420)]

SHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
TEACHER, PASSWORD = "ms-li", "a long classroom secret"
ROBOT = "robot-01"

# The student's program: turn on the spot and look, until the teacher stops it.
TURN_AND_LOOK = """\
from hardware import Robot

with Robot() as robot:
    robot.drive.right(0.4)
    n = 0
    while True:
        frame = robot.camera.read()
        n += 1
        if n % 50 == 0:
            print("frames read:", n)
        robot.sleep(0.05)
"""

expect.set_options(timeout=30_000)


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"console-{name}.png"), full_page=True)


@contextlib.contextmanager
def mosquitto_room(folder: Path, robots: int) -> Iterator[tuple[Console, ApiServer]]:
    """Mosquitto, the console with its API and pages, and ``robots`` agent processes."""
    system_part("mosquitto")
    with Mosquitto.loopback() as broker:
        console = Console(ConsoleConfig(broker.host, broker.port, folder / "console", keepalive=2))
        server = ApiServer(console).start()
        console.config.url = server.url
        console.start()
        try:
            assert console.wait_connected(10)
            with _robots(robots, broker, console, folder):  # type: ignore[arg-type]
                yield console, server
        finally:
            server.close()
            console.close()


def log_in(page: Page, url: str) -> None:
    page.goto(url + "/")
    page.fill("#login-user", TEACHER)
    page.fill("#login-pass", PASSWORD)
    page.press("#login-pass", "Enter")
    expect(page.locator("#stop-all")).to_be_visible()


def api(url: str, method: str, path: str, token: str, body: object = None) -> object:
    request = urllib.request.Request(
        url + path,
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:  # a push packs a bundle
        return json.load(response)


def collect_pictures(page: Page) -> None:
    """Keep every picture the preview shows in ``window.pictures`` (for the test only)."""
    page.evaluate(
        """() => {
            window.pictures = [];
            const img = document.getElementById('preview-img');
            new MutationObserver(() => {
                const src = img.getAttribute('src') || '';
                if (src && window.pictures[window.pictures.length - 1] !== src)
                    window.pictures.push(src);
            }).observe(img, {attributes: true, attributeFilter: ['src']});
        }"""
    )


def pictures(page: Page) -> list[bytes]:
    srcs = page.evaluate("window.pictures")
    return [base64.b64decode(s.split(",", 1)[1]) for s in srcs]


def test_camera_preview_is_live_changes_stops_and_is_never_stored(tmp_path: Path) -> None:
    chromium = system_part("chromium")
    with mosquitto_room(tmp_path, 1) as (console, server):
        console.db.accounts.add_teacher(TEACHER, PASSWORD)
        token = console.db.accounts.new_token(TEACHER, "test")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(chromium), args=launch_args())
            try:
                page = browser.new_page(viewport={"width": 1280, "height": 860}, locale="en-GB")
                errors = script_errors(page)
                log_in(page, server.url)
                page.wait_for_function(
                    "() => document.querySelectorAll('#cards .card[data-online=true]').length === 1",
                    timeout=60_000,
                )
                camera = page.locator(f"#preview-{ROBOT}")
                expect(camera).to_have_attribute("aria-pressed", "false")  # off by default
                assert console.previews.watching() == {}
                collect_pictures(page)

                # the idle robot: the preview reads its own camera (nobody else does)
                camera.click()
                dialog = page.locator("#preview-dialog")
                expect(dialog).to_be_visible()
                expect(page.locator("#preview-close")).to_be_focused()
                expect(page.locator("#preview-img")).to_be_visible()
                expect(page.locator("#preview-status")).to_have_text(
                    "What the robot's camera sees now (no program is running)."
                )
                expect(page.locator("#preview-clock")).to_contain_text("Stops by itself in 1:")
                expect(page.locator(f".card[data-device={ROBOT}] .preview-badge")).to_have_text(
                    "● Camera preview on"
                )
                expect(camera).to_have_attribute("aria-pressed", "true")
                img = page.locator("#preview-img")
                assert img.evaluate("i => [i.naturalWidth, i.naturalHeight]") == [160, 120]
                assert "robot-01" in (img.get_attribute("alt") or "")
                shot(page, "preview-idle")

                # a student's program that turns and reads the camera: its own frames show
                job = api(
                    server.url,
                    "POST",
                    "/api/v1/push",
                    token,
                    {
                        "lesson": "camera-line-follower",
                        "devices": [ROBOT],
                        "code": TURN_AND_LOOK,
                        "time_limit_s": 3000,
                    },
                )
                job_id = job["jobs"][0]["job"]  # type: ignore[index]
                expect(page.locator("#preview-status")).to_have_text(
                    "What the student's program sees now.", timeout=60_000
                )
                seen = len(pictures(page))
                page.wait_for_function(
                    f"() => window.pictures.length >= {seen + 3}", timeout=30_000
                )
                from_program = pictures(page)[seen:]
                assert len(set(from_program)) >= 3, "the picture should change as the robot turns"
                assert all(b[:3] == b"\xff\xd8\xff" and len(b) < 20_000 for b in from_program)
                shot(page, "preview-program")

                # off: the robot stops sending, the console forgets the picture
                page.locator("#preview-close").click()
                expect(dialog).to_be_hidden()
                wait_until(lambda: console.previews.watching() == {}, 10, "preview off")
                expect(camera).to_have_attribute("aria-pressed", "false")
                expect(page.locator(".preview-badge")).to_have_count(0)

                # the job's own log streams into its dialog from the card
                page.click(f"#job-{ROBOT}")
                expect(page.locator("#job-dialog")).to_be_visible()
                expect(page.locator("#job-lines .log-line").first).to_contain_text(
                    "frames read:", timeout=60_000
                )
                expect(page.locator("#job-student")).to_contain_text("No result yet")
                shot(page, "job-live")
                page.keyboard.press("Escape")
                expect(page.locator("#job-dialog")).to_be_hidden()

                api(server.url, "POST", f"/api/v1/jobs/{job_id}/cancel", token)
                wait_until(
                    lambda: getattr(console.db.jobs.get(job_id), "status", None) == "CANCELED",
                    60,
                    "the job canceled",
                )
                actions = [(e.action, e.detail.get("on")) for e in console.db.audit.list()]
                assert ("preview", True) in actions
                assert ("preview", False) in actions
                shown = pictures(page)
                assert errors == [], errors
            finally:
                browser.close()
        assert console.previews.latest(ROBOT) is None
        stats = api(server.url, "GET", "/api/v1/stats", token)
        assert isinstance(stats, dict)
    # never stored: no picture (nor a piece of one) in any file the console or robot wrote
    assert len(shown) >= 4
    pieces = {b[len(b) // 2 : len(b) // 2 + 32] for b in shown}
    files = [f for f in tmp_path.rglob("*") if f.is_file()]
    assert any(f.name == "console.sqlite" for f in files)
    for f in files:
        data = f.read_bytes()
        for piece in pieces:
            assert piece not in data, f"a piece of a preview picture is in {f}"
        if f.suffix in (".sqlite", ".sqlite-wal", ".log"):
            assert b"/9j/" not in data, f"a base64 JPEG is in {f}"
            assert b"\xff\xd8\xff\xe0" not in data, f"a JPEG is in {f}"


def test_no_camera_is_said_clearly(tmp_path: Path) -> None:
    """A robot whose agent has no robot (so no camera): the page says so, no picture."""
    chromium = system_part("chromium")
    with mosquitto_room(tmp_path, 0) as (console, server):
        console.db.accounts.add_teacher(TEACHER, PASSWORD)
        config = AgentConfig(
            device="robot-09",
            host=console.config.host,
            port=console.config.port,
            state_dir=tmp_path / "robot-09",
            trusted_keys={console.key.kid: console.key.public_key},
        )
        with Agent(config, robot=None), sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(chromium), args=launch_args())
            try:
                page = browser.new_page(viewport={"width": 1000, "height": 760}, locale="zh-CN")
                errors = script_errors(page)
                log_in(page, server.url)
                page.wait_for_function(
                    "() => document.querySelectorAll('#cards .card[data-online=true]').length === 1",
                    timeout=30_000,
                )
                page.click("#preview-robot-09")
                expect(page.locator("#preview-message")).to_have_text("这台机器人没有摄像头。")
                expect(page.locator("#preview-img")).to_be_hidden()
                expect(page.locator("#preview-title")).to_have_text("robot-09 的摄像头")
                shot(page, "preview-no-camera-zh")
                page.keyboard.press("Escape")
                wait_until(lambda: console.previews.watching() == {}, 10, "preview off")
                assert errors == [], errors
            finally:
                browser.close()


def played_result(
    console: Console, device: str, job: str, graded: str, score: int, output: str
) -> None:
    """A robot's result, sent on the console's own connection (it hears its room's up/)."""
    result = JobResult(
        device=device,
        job=job,
        result_id=f"res-{device}",
        status=Status.SUCCEEDED,
        result={
            "lesson": "lights-and-sound",
            "status": graded,
            "score": score,
            "run_status": "finished",
            "seconds": 12.34,
            "rubric": [
                {
                    "id": "led",
                    "title": {"en": "The LED blinks", "zh": "LED 闪烁"},
                    "passed": True,
                    "points": 50,
                },
                {
                    "id": "beep",
                    "title": {"en": "It beeps twice", "zh": "蜂鸣两次"},
                    "passed": score == 100,
                    "points": 50,
                },
            ],
            "metrics": {},
            "feedback": {
                "en": "Well done: now make it beep twice.",
                "zh": "做得好：再让它响两声。",
            },
            "error": None,
            "output": output,
        },
        ts=time.time(),
    )
    assert console.link.publish(console.topics.result(device, job), encode(result))


@contextlib.contextmanager
def evil_site(console_url: str) -> Iterator[str]:
    """A page on another origin that tries to press STOP ALL in the teacher's browser."""
    page = f"""<!doctype html><title>free games</title>
<form id="f" method="POST" action="{console_url}/api/v1/stop" enctype="text/plain">
<input name='{{"x":"' value='"}}'></form>
<script>
fetch("{console_url}/api/v1/stop", {{method: "POST", credentials: "include", mode: "no-cors"}})
  .finally(() => {{ document.title = "fetched"; document.getElementById("f").submit(); }});
</script>"""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = page.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def test_job_log_feedback_filters_audit_tokens_and_a_forged_stop(tmp_path: Path) -> None:
    """Robots played by the test (exact messages): a result's feedback as the student sees
    it and its job's log, live; the class filter; the audit page; the teacher's API
    tokens; and a page on another port that tries to press STOP ALL."""
    chromium = system_part("chromium")
    with EmbeddedBroker() as broker:
        console = Console(ConsoleConfig(broker.host, broker.port, tmp_path / "console"))
        server = ApiServer(console).start()
        console.config.url = server.url
        console.start()
        try:
            assert console.wait_connected(10)
            console.db.accounts.add_teacher(TEACHER, PASSWORD)
            token = console.db.accounts.new_token(TEACHER, "test")
            for device in ("r1", "r2"):
                assert console.link.publish(
                    console.topics.state(device),
                    encode(DeviceState(device=device, session="s1", online=True, ts=time.time())),
                )
            wait_until(lambda: len(console.db.devices.ids(online_only=True)) == 2, 10, "births")
            console.db.rosters.bind("r1", "Wang Fang", "7-2")
            console.db.rosters.bind("r2", "Li Lei", "8-1")
            pushed = api(server.url, "POST", "/api/v1/push", token, {"lesson": "lights-and-sound"})
            jobs = {j["device"]: j["job"] for j in pushed["jobs"]}  # type: ignore[index]
            lines = [
                LogLine(stream="stdout", line="blink 1"),
                LogLine(stream="stderr", line="oops"),
            ]
            batch = LogBatch(device="r1", job=jobs["r1"], lines=lines)
            assert console.link.publish(console.topics.log("r1"), encode(batch))
            played_result(console, "r1", jobs["r1"], "passed", 100, "blink 1\noops")
            played_result(console, "r2", jobs["r2"], "failed", 50, "only the result kept this")
            wait_until(lambda: len(console.db.results.list()) == 2, 10, "results")
            wait_until(lambda: console.job_log(jobs["r1"]) is not None, 10, "the log")

            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=str(chromium), args=launch_args())
                try:
                    context = browser.new_context(
                        viewport={"width": 1280, "height": 900}, locale="en-GB"
                    )
                    page = context.new_page()
                    errors = script_errors(page)
                    log_in(page, server.url)

                    # results: filter by class; the names of that class are offered
                    page.click("#nav a[data-page=results]")
                    rows = page.locator("#results-table tbody tr")
                    expect(rows).to_have_count(2)
                    expect(page.locator("#filter-class option")).to_have_count(3)
                    page.select_option("#filter-class", "7-2")
                    expect(rows).to_have_count(1)
                    expect(rows.first).to_contain_text("Wang Fang")
                    expect(page.locator("#student-names option")).to_have_count(1)
                    assert (
                        page.locator("#student-names option").get_attribute("value") == "Wang Fang"
                    )

                    # the job's log and the feedback as the student sees it; new lines stream in
                    rows.first.locator("button.job-open").click()
                    dialog = page.locator("#job-dialog")
                    expect(dialog).to_be_visible()
                    expect(page.locator("#job-close")).to_be_focused()
                    student = page.locator("#job-student")
                    expect(student).to_contain_text("passed  score 100/100  (finished, 12.3 s)")
                    expect(student).to_contain_text("✓ The LED blinks  (50)")
                    expect(student).to_contain_text("Well done: now make it beep twice.")
                    log = page.locator("#job-lines .log-line")
                    expect(log).to_have_count(2)
                    expect(page.locator("#job-lines .log-line.stderr")).to_have_text("oops")
                    more = LogBatch(
                        device="r1",
                        job=jobs["r1"],
                        lines=[LogLine(stream="stdout", line="late line")],
                    )
                    assert console.link.publish(console.topics.log("r1"), encode(more))
                    expect(log.last).to_have_text("late line")
                    shot(page, "job-result")
                    page.select_option("#lang", "zh")
                    expect(page.locator("#job-student-title")).to_have_text("学生看到的结果")
                    page.keyboard.press("Escape")
                    rows.first.locator("button.job-open").click()
                    expect(student).to_contain_text("做得好：再让它响两声。")
                    expect(student).to_contain_text("✓ LED 闪烁  (50)")
                    shot(page, "job-result-zh")
                    page.keyboard.press("Escape")
                    expect(dialog).to_be_hidden()
                    page.select_option("#lang", "en")

                    # another class: its job's lines are gone from memory, the result kept some
                    page.select_option("#filter-class", "8-1")
                    expect(rows).to_have_count(1)
                    rows.first.locator("button.job-open").click()
                    expect(page.locator("#job-log-note")).to_contain_text("no longer holds")
                    expect(log.first).to_have_text("only the result kept this")
                    page.keyboard.press("Escape")

                    # the audit log: who pushed (and nothing else happened yet)
                    page.click("#nav a[data-page=audit]")
                    audit_rows = page.locator("#audit-table tbody tr")
                    expect(audit_rows).to_have_count(1)
                    expect(audit_rows.first).to_contain_text("Push lesson")
                    expect(audit_rows.first).to_contain_text(
                        "Hello robot: lights and sound to 2 robots"
                    )

                    # API tokens: made once, listed by name, revoked
                    page.fill("#token-name", "xapi-export")
                    page.click("#token-form button[type=submit]")
                    made = page.locator("#token-value")
                    expect(made).not_to_have_text("")
                    secret = made.inner_text()
                    assert console.db.accounts.token_user(secret) == TEACHER
                    item = page.locator("#token-list li", has_text="xapi-export")
                    expect(item).to_be_visible()
                    expect(audit_rows.first).to_contain_text("API token made")
                    shot(page, "audit")
                    item.locator("button.revoke").click()
                    expect(page.locator("#toast")).to_contain_text("xapi-export revoked")
                    expect(item).to_have_count(0)
                    assert console.db.accounts.token_user(secret) is None
                    page.select_option("#audit-action", "push")
                    expect(audit_rows).to_have_count(1)
                    page.select_option("#lang", "zh")
                    expect(page.locator("#audit-title")).to_have_text("操作记录")
                    expect(audit_rows.first).to_contain_text("下发课程")
                    shot(page, "audit-zh")
                    page.select_option("#lang", "en")
                    assert errors == [], errors

                    # a page on another port of this computer tries to press STOP ALL: the
                    # browser sends the cookie (same site), the console sees another origin
                    refused = []
                    page.on(
                        "response",
                        lambda r: refused.append(r.status) if "/api/v1/stop" in r.url else None,
                    )
                    with evil_site(server.url) as evil:
                        page.goto(evil)
                        page.wait_for_url(f"{server.url}/api/v1/stop", timeout=10_000)
                    assert "cross-site request refused" in page.content()
                    assert refused and set(refused) == {403}, refused
                    assert not console.db.estop.get().active
                    assert "stop" not in [e.action for e in console.db.audit.list()]
                finally:
                    browser.close()
        finally:
            server.close()
            console.close()
