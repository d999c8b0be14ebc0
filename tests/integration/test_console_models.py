"""The teacher's model shelf and push-model button in headless Chromium, on Mosquitto with
real agents on the sim backend; and the class's camera switch on the Class page.

The teacher adds the shipped traffic-signs model (its .onnx and .yaml, through the page's
file pickers), sees it on the shelf next to a student's taught model (with the student's
name), pushes it to one robot of two, and watches that robot's install job come back
installed; the robot's device cache then holds the very bytes (sha256 checked), the other
robot has nothing. Then the Class page turns the camera off for the class and on again.
Words are checked in English and Chinese; no request leaves the console's origin and the
page's scripts log no error. Screenshots: ``build/screenshots/models-<lang>-*.png``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from fleet.console.api import ApiServer
from fleet.console.console import Console, ConsoleConfig
from fleet.console.store import PinKind
from models import SHIPPED_DIR, Registry, sha256_of
from tests.browser import launch_args, script_errors
from tests.conftest import system_part
from tests.integration.test_console_classview import only_this_origin
from tests.integration.test_fleet_support import Room, broker, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(420)]

SHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
TEACHER, PASSWORD = "ms-li", "a long classroom secret"
SIGNS_SHA = sha256_of(SHIPPED_DIR / "traffic-signs.onnx")

expect.set_options(timeout=30_000)


def shot(page: Page, lang: str, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("() => window.scrollTo(0, 0)")
    page.screenshot(path=str(SHOTS / f"models-{lang}-{name}.png"), full_page=True)


def cache_of(tmp: Path, device: str) -> Path:
    return tmp / "agents" / device / "cache"


@pytest.fixture
def classroom(tmp_path: Path) -> Iterator[tuple[Room, ApiServer]]:
    """Mosquitto, a console with its API, robots r01 (Ana's) and r02 (Bo's) on the sim backend."""
    with broker("mosquitto") as (host, port):
        console = Console(ConsoleConfig(host, port, tmp_path / "console", keepalive=2))
        server = ApiServer(console).start()
        console.config.url = server.url
        console.start()
        room = Room(console, host, port, tmp_path)
        try:
            assert console.wait_connected(10)
            console.db.accounts.add_teacher(TEACHER, PASSWORD)
            for name in ("r01", "r02"):
                room.agent(name, cache_dir=cache_of(tmp_path, name))
            wait_until(lambda: len(console.db.devices.ids(online_only=True)) == 2, 20, "births")
            console.db.rosters.bind("r01", "Ana", "7A")
            console.db.rosters.bind("r02", "Bo", "7A")
            yield room, server
        finally:
            room.close()
            server.close()


def add_students_model(console: Console) -> None:
    """A model Ana taught (what h-teach's deploy puts on the shelf): its bytes in the bundles."""
    data = (SHIPPED_DIR / "sim-objects.onnx").read_bytes()
    sha = console.bundles.put(data)
    text = (SHIPPED_DIR / "sim-objects.yaml").read_text(encoding="utf-8")
    text = text.replace("name: sim-objects", "name: ana-things").replace(
        "file: sim-objects.onnx", "file: ana-things.onnx"
    )
    ana = console.db.rosters.add_student("Ana", "7A")
    console.db.models.add("ana-things", sha, len(data), text, ana)


def test_teacher_adds_a_model_pushes_it_to_a_robot_and_it_is_installed(
    classroom: tuple[Room, ApiServer], tmp_path: Path
) -> None:
    room, server = classroom
    console = room.console
    add_students_model(console)
    chromium = system_part("chromium")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=launch_args())
        try:
            context = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
            page = context.new_page()
            elsewhere = only_this_origin(page, server.url)
            errors = script_errors(page)
            page.goto(server.url + "/")
            page.fill("#login-user", TEACHER)
            page.fill("#login-pass", PASSWORD)
            page.press("#login-pass", "Enter")
            expect(page.locator("#stop-all")).to_be_visible()
            page.select_option("#lang", "en")

            # the shelf, from the room's toolbar: Ana's taught model, with her name and class
            page.click("#page-room a.button[href='#models']")
            expect(page.locator("#nav a[data-page=models]")).to_have_attribute(
                "aria-current", "page"
            )
            expect(page.locator("#models-title")).to_have_text("Models")
            row = page.locator("#models-table tr[data-model='ana-things']")
            expect(row).to_contain_text("Ana · 7A")

            # add a model: the .onnx and its .yaml through the file pickers
            page.click("#model-add-go")
            expect(page.locator("#model-add-error")).to_contain_text("Choose both files")
            page.set_input_files("#model-onnx", str(SHIPPED_DIR / "traffic-signs.onnx"))
            page.set_input_files("#model-yaml", str(SHIPPED_DIR / "traffic-signs.yaml"))
            page.click("#model-add-go")
            signs = page.locator("#models-table tr[data-model='traffic-signs']")
            expect(signs).to_contain_text("Yours (teacher)")
            expect(signs).to_contain_text("Tells pictures apart")
            expect(signs).to_contain_text("Stop, Yield")
            (shelved,) = [m for m in console.db.models.list() if m.name == "traffic-signs"]
            assert shelved.sha256 == SIGNS_SHA and shelved.student_id is None
            shot(page, "en", "shelf")

            # push it to r02 only: untick "all", tick r02 (each robot with its student)
            signs.get_by_role("button", name="Push to robots…").click()
            expect(page.locator("#model-push-title")).to_have_text("Push traffic-signs to robots")
            expect(page.locator("#model-push")).to_contain_text("Bo · 7A")
            page.uncheck("#model-all")
            page.check("#model-push input[value=r02]")
            shot(page, "en", "pick")
            page.click("#model-push-go")
            line = page.locator(".model-jobs li[data-device=r02]")
            expect(line).to_have_attribute("data-status", "SUCCEEDED", timeout=60_000)
            expect(line).to_contain_text("Installed")
            expect(page.locator(".model-jobs li")).to_have_count(1)
            shot(page, "en", "installed")

            # the robot has the very bytes, the other robot nothing; the push is audited
            models = cache_of(tmp_path, "r02") / "models"
            assert sha256_of(models / "traffic-signs.onnx") == SIGNS_SHA
            entry = Registry(roots=[(models, "cache")]).find("traffic-signs")
            assert entry.read_verified()
            assert not (cache_of(tmp_path, "r01") / "models" / "traffic-signs.onnx").exists()
            (job,) = [j for j in console.db.jobs.list() if j.lesson_id == "model:traffic-signs"]
            assert (job.device, job.status) == ("r02", "SUCCEEDED")
            (audit,) = console.db.audit.list(action="push-model")
            assert audit.detail["devices"] == ["r02"] and audit.who == TEACHER

            # the same page in Chinese
            page.select_option("#lang", "zh")
            expect(page.locator("#models-title")).to_have_text("模型")
            expect(line).to_contain_text("已安装")
            expect(signs).to_contain_text("你的（老师）")
            expect(signs).to_contain_text("停车、让行")
            expect(row).to_contain_text("Ana · 7A")
            shot(page, "zh", "installed")
            signs.get_by_role("button", name="下发到机器人…").click()
            expect(page.locator("#model-push-title")).to_have_text("把 traffic-signs 下发到机器人")
            shot(page, "zh", "pick")

            # the Class page: the camera switch, off and on again
            page.click("#nav a[data-page=class]")
            expect(page.locator("#class-pick")).to_have_value("7A")
            box = page.locator("#class-camera")
            expect(box).to_be_enabled()
            expect(box).to_be_checked()
            expect(page.locator("#class-camera-state")).to_have_text("摄像头已开")
            box.uncheck()
            expect(page.locator("#class-camera-state")).to_have_text("摄像头已关")
            wait_until(lambda: not console.db.classes.camera_panel("7A"), 10, "camera off")
            shot(page, "zh", "camera-off")
            page.select_option("#lang", "en")
            expect(page.locator("#class-camera-state")).to_have_text("Camera off")
            expect(page.locator(".class-camera")).to_contain_text(
                "Students see their robot's camera"
            )
            shot(page, "en", "camera-off")
            box.check()
            expect(page.locator("#class-camera-state")).to_have_text("Camera on")
            wait_until(lambda: console.db.classes.camera_panel("7A"), 10, "camera on")
            page.reload()
            page.click("#nav a[data-page=class]")
            expect(page.locator("#class-camera")).to_be_checked()
            assert elsewhere == []
            assert errors == []
        finally:
            browser.close()


def test_a_class_with_the_camera_off_sees_no_camera_and_cannot_ask_for_one(
    classroom: tuple[Room, ApiServer],
) -> None:
    """The student's side of the switch: the page hides "Show the robot's camera" when the
    class's camera is off; a page opened before the switch asks and is told why (zh and en)."""
    room, server = classroom
    console = room.console
    ana = console.db.rosters.add_student("Ana", "7A")
    console.db.classes.set_pin(ana, "2468", PinKind.DIGITS)
    period = console.db.classes.start_period("7A", TEACHER, lesson_id="robot-dance")
    chromium = system_part("chromium")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=launch_args())
        try:
            context = browser.new_context(locale="en-GB", viewport={"width": 1400, "height": 900})
            page = context.new_page()
            elsewhere = only_this_origin(page, server.url)
            errors = script_errors(page)
            page.goto(f"{server.url}/s/?code={period.code}")
            page.get_by_role("button", name="Ana").click()
            for digit in "2468":
                page.locator("#pin-pad button", has_text=digit).click()
            page.click("#pin-go")
            expect(page.locator("#work")).to_be_visible()
            # the lesson is open (in blocks) and its editor made: Run works from now on
            expect(page.locator("#lesson-title")).to_have_text("Robot dance")
            expect(page.locator("#to-python")).to_be_visible()
            camera = page.locator("#want-camera")
            expect(camera).to_be_visible()  # on: the class may ask for the camera

            # the teacher turns it off while this page is open: asking is refused, and said why
            console.db.classes.set_camera_panel("7A", False)
            camera.check()
            page.click("#run-sim")
            said = page.locator("#run-status")
            expect(said).to_contain_text("turned the camera off for your class")
            expect(said).to_contain_text("老师关闭了你们班的摄像头")
            shot(page, "en", "student-refused")
            assert console.db.jobs.list() == []

            # opened again: no camera to ask for
            page.reload()
            expect(page.locator("#to-python")).to_be_visible()
            expect(camera).to_be_hidden()
            shot(page, "en", "student-no-camera")
            # on again: it is back
            console.db.classes.set_camera_panel("7A", True)
            page.reload()
            expect(page.locator("#to-python")).to_be_visible()
            expect(camera).to_be_visible()
            expect(camera).not_to_be_checked()
            assert elsewhere == []
            # the one refusal (the browser logs a 403 it fetched), and nothing else
            assert len(errors) == 1, errors
            assert "status of 403" in errors[0] and "/api/v1/student/runs" in errors[0]
        finally:
            browser.close()
