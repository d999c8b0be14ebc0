"""The blocks bundle in headless Chromium, served the console's way, and the lessons'
block programs graded in the simulator.

The console's real ``/static`` mount behind its real security middleware (the
Content-Security-Policy of every page) serves ``/static/vendor/blocks.js``; a small test
page shows the blocks and, beside them, the Python they make in the read-only editor.
Blockly's own Python generator, in that bundle, turns every shipped
``blocks/solution.json`` and ``blocks/starter.json`` into Python, which runs through
the lesson's grader in the simulator (the real sandbox): every block solution passes and
every block starter scores lower. Nothing is asked of any other origin; no CSP refusal.
"""

from __future__ import annotations

import ast
import json
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.responses import FileResponse
from playwright.sync_api import Page, Request, Route, expect, sync_playwright

from fleet.console.web import mount_pages
from fleet.console.websecurity import CrossSiteGuard
from hardware.sim import CameraSpec
from hardware.sim.card import CardHolder
from lessons.blocks import BLOCK_NAMES, block_types
from lessons.library import builtin_lessons, find_lesson
from lessons.model import Lesson
from lessons.runner import run_lesson
from tests.browser import launch_args, script_errors
from tests.conftest import system_part
from vision.teach import Dataset, train

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

PAGE = Path(__file__).with_name("blocks_page")
SHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
MAIN = ".blocklyMainBackground ~ .blocklyBlockCanvas"  # the program's blocks, not the toolbox's
WITH_BLOCKS = [lesson for lesson in builtin_lessons() if lesson.model.blocks is not None]

expect.set_options(timeout=20_000)


def blocks_app() -> FastAPI:
    app = FastAPI()

    @app.get("/blocks-test/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(PAGE / "index.html")

    @app.get("/blocks-test/{name}", include_in_schema=False)
    def asset(name: str) -> FileResponse:
        kinds = {"main.js": "text/javascript", "page.css": "text/css"}
        return FileResponse(PAGE / name, media_type=kinds[name])

    mount_pages(app)
    app.add_middleware(CrossSiteGuard)
    return app


@pytest.fixture(scope="module")
def served() -> Iterator[str]:
    server = uvicorn.Server(
        uvicorn.Config(blocks_app(), host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, name="blocks-test-server", daemon=True)
    thread.start()
    started = threading.Event()
    for _ in range(500):
        if server.started or not thread.is_alive():
            break
        started.wait(0.02)
    assert server.started, "the test server did not start"
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def generated(served: str) -> dict[tuple[str, str], str]:
    """The Python of every shipped block program, made by Blockly's generator in Chromium
    (and the checks of the page itself: CSP, other origins, the blocks' size)."""
    chromium = system_part("chromium")
    elsewhere: list[str] = []

    def only_this_origin(route: Route, request: Request) -> None:
        if request.url.startswith(served + "/"):
            route.continue_()
        else:
            elsewhere.append(request.url)
            route.abort()

    out: dict[tuple[str, str], str] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=launch_args())
        try:
            context = browser.new_context(viewport={"width": 1200, "height": 700})
            context.route("**/*", only_this_origin)
            page = context.new_page()
            errors = script_errors(page)
            response = page.goto(served + "/blocks-test/")
            assert response is not None
            assert "style-src 'self'" in response.headers["content-security-policy"]
            expect(page.locator("body")).to_have_attribute("data-ready", "yes")
            check_page(page)
            for lesson in WITH_BLOCKS:
                for name in ("starter", "solution"):
                    state = json.loads((lesson.path / "blocks" / f"{name}.json").read_text())
                    out[(lesson.id, name)] = str(page.evaluate("(s) => window.pythonOf(s)", state))
            for name in BLOCK_NAMES:  # what the toolbox offers for each name, as the bundle has it
                toolbox = page.evaluate("(n) => window.toolboxOf([n], 'en')", name)
                out[("toolbox", name)] = json.dumps(toolbox["contents"][0])
            every = json.loads((PAGE / "every-block.json").read_text(encoding="utf-8"))
            out[("every", "block")] = str(page.evaluate("(s) => window.pythonOf(s)", every))
            mine = {
                "blocks": {
                    "languageVersion": 0,
                    "blocks": [
                        {
                            "type": "start",
                            "inputs": {
                                "DO": {
                                    "block": {
                                        "type": "say",
                                        "inputs": {
                                            "WHAT": {
                                                "block": {
                                                    "type": "my_model",
                                                    "fields": {"MODEL": "my-signs"},
                                                }
                                            }
                                        },
                                    }
                                }
                            },
                        }
                    ],
                }
            }
            out[("my", "model")] = str(page.evaluate("(s) => window.pythonOf(s)", mine))
            page.goto(served + "/blocks-test/?lang=zh&toolbox=start,drive_seconds,turn_degrees")
            expect(page.locator(".blocklyToolboxCategory")).to_have_count(2)
            expect(page.locator(".blocklyToolboxCategoryLabel").first).to_have_text("开始")
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / "blocks-page-zh.png"))
            assert errors == []
        finally:
            browser.close()
    assert elsewhere == []
    return out


def drag_into_start(page: Page, category: str, kind: str) -> None:
    """Drag the toolbox's block ``kind`` of ``category`` under "when the program starts"."""
    block = page.locator(f".blocklyFlyout .blocklyBlockCanvas > .{kind}").first
    if not block.is_visible():  # a second press on a category closes it
        page.locator(".blocklyToolboxCategory", has_text=category).click()
    expect(block).to_be_visible()
    start = page.locator(f"{MAIN} > .start").first.bounding_box()
    grab = block.bounding_box()
    assert start is not None and grab is not None
    page.mouse.move(grab["x"] + 12, grab["y"] + 12)
    page.mouse.down()
    page.mouse.move(grab["x"] + 60, grab["y"] + 40, steps=5)
    # the statement slot is under the hat's first row, a little in from its left edge
    page.mouse.move(start["x"] + 30, start["y"] + 58, steps=10)
    page.mouse.up()


def check_page(page: Page) -> None:
    """Blockly draws under the strict CSP: its CSS is adopted, its blocks are big."""
    # Blockly's CSS applies (adopted style sheets, no <style> element refused)
    assert page.evaluate("document.adoptedStyleSheets.length") >= 2
    assert page.locator("style").count() == 0
    categories = page.locator(".blocklyToolboxCategory")
    assert categories.count() >= 8
    page.locator(".blocklyToolboxCategory", has_text="Move").click()
    flyout_block = page.locator(".blocklyFlyout .blocklyBlockCanvas > .drive_seconds")
    expect(flyout_block).to_be_visible()
    box = flyout_block.bounding_box()
    assert box is not None and box["height"] >= 44  # a child's finger
    row = page.locator(".blocklyToolboxCategory").first.bounding_box()
    assert row is not None and row["height"] >= 44
    # a new program has "when the program starts"; drag "drive forward for 1 seconds" into it
    expect(page.locator(".cm-content")).to_contain_text("with Robot() as robot:")
    assert "    pass" in str(page.evaluate("window.blocks.getDoc()"))
    drag_into_start(page, "Move", "drive_seconds")
    expect(page.locator(".cm-content")).to_contain_text("robot.drive.forward(0.5)")
    python = str(page.evaluate("window.blocks.getDoc()"))
    assert python.startswith("import time\n\nfrom hardware import Robot\n")
    assert "    robot.drive.forward(0.5)\n    time.sleep(1)\n    robot.drive.stop()\n" in python
    # the pointer on the block highlights its code
    page.locator(f"{MAIN} .drive_seconds").first.hover(position={"x": 20, "y": 20})
    expect(page.locator(".cm-rc-highlight-line")).to_have_text("    robot.drive.forward(0.5)")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "blocks-page-en.png"))


def test_the_lessons_with_blocks() -> None:
    names = {lesson.id for lesson in WITH_BLOCKS}
    perceive = {lesson.id for lesson in builtin_lessons() if lesson.model.band == "perceive"}
    assert perceive <= names
    assert len({lesson.id for lesson in WITH_BLOCKS if lesson.model.band == "apply"}) >= 2
    assert {"draw-a-square", "stop-before-the-wall"} <= names
    for lesson in WITH_BLOCKS:
        assert lesson.model.blocks is not None
        assert set(lesson.model.blocks.toolbox) <= set(BLOCK_NAMES)


def own_model(lesson: Lesson, folder: Path) -> Path | None:
    """A lesson that needs the student's own model (drive-by-your-signs) gets one, taught as in
    the Teach panel with the simulator's cards; the robot's cache folder it is in."""
    own = lesson.model.own_model
    if own is None:
        return None
    cards = CardHolder(CameraSpec(width=320, height=240, fov_deg=62, tilt_deg=-15), seed=1)
    data = Dataset("pictures", root=folder / "pictures")
    for label in own.labels:
        for _ in range(8):
            data.add(label, cards.read(label))
    with train(data) as model:
        model.export(own.name, folder=folder / "cache" / "models")
    return folder / "cache"


@pytest.mark.parametrize("lesson", WITH_BLOCKS, ids=lambda lesson: lesson.id)
def test_a_block_solution_passes_and_its_starter_scores_lower(
    lesson: object, generated: dict[tuple[str, str], str], tmp_path: Path
) -> None:
    assert isinstance(lesson, Lesson)
    scores = {}
    cache = own_model(lesson, tmp_path)
    for name in ("solution", "starter"):
        python = generated[(lesson.id, name)]
        assert python.startswith(("import time", "from ")), python
        assert "with Robot() as robot:" in python
        program = tmp_path / f"{name}.py"
        program.write_text(python, encoding="utf-8")
        result = run_lesson(lesson, code=program, cache_dir=cache)
        scores[name] = result.score
        if name == "solution":
            assert result.status == "passed", (python, result.as_dict())
    assert scores["starter"] < scores["solution"]


def test_every_block_writes_python_that_runs(
    generated: dict[tuple[str, str], str], tmp_path: Path
) -> None:
    """A program of every block (every-block.json) is Python over the real student API:
    it runs in the sandbox on the traffic-sign road without an error, to its end."""
    python = generated[("every", "block")]
    ast.parse(python)
    state = json.loads((PAGE / "every-block.json").read_text(encoding="utf-8"))
    used = set(re.findall(r'"type": "(\w+)"', json.dumps(state)))
    groups = {
        "repeat": "controls_repeat_ext",
        "repeat_until": "controls_whileUntil",
        "if": "controls_if",
        "if_else": "controls_if",
        "compare": "logic_compare",
        "logic": "logic_operation",
        "number": "math_number",
        "arithmetic": "math_arithmetic",
        "variables": "variables_set",
    }
    assert {groups.get(name, name) for name in BLOCK_NAMES} - used == {"my_model"}
    program = tmp_path / "every.py"
    program.write_text(python, encoding="utf-8")
    result = run_lesson(find_lesson("traffic-sign-reader"), code=program)
    assert result.error is None, result.as_dict()
    assert result.as_dict()["run_status"] == "finished"
    assert "hello" in result.output and "done" in result.output
    # the student's own model (taught in the browser): its name, Classifier, .label
    mine = generated[("my", "model")]
    ast.parse(mine)
    assert "from vision import Classifier" in mine
    assert 'model_my_signs = Classifier("my-signs")' in mine
    assert "print(model_my_signs(robot.camera.read()).label)" in mine


def test_the_bundle_offers_the_block_types_the_lesson_format_expects(
    generated: dict[tuple[str, str], str],
) -> None:
    """lessons/blocks.json's types (what `roboclass lesson validate` checks programs
    against) are what the bundle's toolbox really offers for each name."""
    for name in BLOCK_NAMES:
        category = json.loads(generated[("toolbox", name)])
        if name == "variables":  # Blockly makes this category's blocks itself
            assert category["custom"] == "VARIABLE"
            continue
        offered = {block["type"] for block in category["contents"]}
        assert offered == block_types([name]), name
