"""The student editor bundle in headless Chromium, served the console's way.

The console's real page mount (``/static``, so ``/static/vendor/editor.js``) behind
its real security middleware (the Content-Security-Policy of every page), plus a
small test page that imports the bundle and the completions of
:func:`lessons.apiref.api_reference`. A child types ``robot.dr``, picks ``drive``
from the completions, types ``.forw`` and gets ``forward`` with its signature and
help; an error is marked at its line; undo, read-only and Chinese labels work;
nothing is asked of any other origin. Screenshots go to ``build/screenshots/``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.responses import FileResponse
from playwright.sync_api import Page, Request, Route, expect, sync_playwright

from fleet.console.web import mount_pages
from fleet.console.websecurity import CrossSiteGuard
from lessons.apiref import api_reference
from tests.browser import launch_args, script_errors
from tests.conftest import system_part

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

PAGE = Path(__file__).with_name("editor_page")
SHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"

expect.set_options(timeout=20_000)


def editor_app() -> FastAPI:
    app = FastAPI()

    @app.get("/editor-test/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(PAGE / "index.html")

    @app.get("/editor-test/main.js", include_in_schema=False)
    def script() -> FileResponse:
        return FileResponse(PAGE / "main.js", media_type="text/javascript")

    @app.get("/editor-test/api-reference")
    def reference() -> dict[str, Any]:
        return api_reference("sim")

    mount_pages(app)  # the console's own /static route
    app.add_middleware(CrossSiteGuard)  # and its Content-Security-Policy
    return app


@pytest.fixture
def served() -> Iterator[str]:
    server = uvicorn.Server(
        uvicorn.Config(editor_app(), host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, name="editor-test-server", daemon=True)
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


def doc(page: Page) -> str:
    return str(page.evaluate("window.editor.getDoc()"))


def selected(page: Page) -> str:
    option = page.locator(".cm-tooltip-autocomplete li[aria-selected] .cm-completionLabel")
    return str(option.text_content())


def settled(page: Page) -> None:
    """Wait until the open completion list takes keys: CodeMirror ignores Enter for its
    first 75 ms on the page's clock (a child's Enter meant for a new line)."""
    expect(page.locator(".cm-tooltip-autocomplete")).to_be_visible()
    shown = page.evaluate("Date.now()")
    page.wait_for_function("(shown) => Date.now() - shown > 100", arg=shown)


def test_a_child_completes_robot_drive_forward_and_sees_an_error(served: str) -> None:
    chromium = system_part("chromium")
    elsewhere: list[str] = []

    def only_this_origin(route: Route, request: Request) -> None:
        if request.url.startswith(served + "/"):
            route.continue_()
        else:  # the page must never need the internet: remember and refuse
            elsewhere.append(request.url)
            route.abort()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=launch_args())
        try:
            context = browser.new_context(viewport={"width": 1000, "height": 700})
            context.route("**/*", only_this_origin)
            page = context.new_page()
            errors = script_errors(page)
            response = page.goto(served + "/editor-test/")
            assert response is not None
            assert "script-src 'self'" in response.headers["content-security-policy"]
            expect(page.locator("body")).to_have_attribute("data-ready", "yes")
            content = page.locator(".cm-content")
            expect(content).to_have_attribute("aria-label", "Python program")
            # the font a child can read: 22 px as asked
            assert page.evaluate("getComputedStyle(window.editor.view.dom).fontSize") == "22px"

            # robot.dr -> the completions offer the robot's drive; pick it with the keyboard
            content.click()
            page.keyboard.press("Control+End")
            page.keyboard.type("robot.dr")
            options = page.locator(".cm-tooltip-autocomplete li .cm-completionLabel")
            expect(options.first).to_have_text("drive")
            settled(page)
            assert selected(page) == "drive"
            page.keyboard.press("Enter")
            assert doc(page).endswith("    robot.drive")

            # .forw -> forward, with its real signature and the first line of its help
            page.keyboard.type(".forw")
            expect(page.locator(".cm-tooltip-autocomplete")).to_be_visible()
            expect(page.locator(".cm-tooltip-autocomplete li[aria-selected]")).to_contain_text(
                "forward"
            )
            info = page.locator(".cm-completionInfo")
            expect(info).to_contain_text("robot.drive.forward(power: float = 0.5)")
            expect(info).to_contain_text("Drive straight on at power")
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / "editor-completion.png"))
            settled(page)
            page.keyboard.press("Enter")
            page.keyboard.type("(0.5)")
            assert doc(page).endswith("    robot.drive.forward(0.5)")  # ( closed itself: no ))

            # Classifier( offers its parameters; from vision import offers the package's names
            page.keyboard.press("Enter")
            assert doc(page).endswith("forward(0.5)\n    ")  # Python's four spaces, still in with
            page.keyboard.type("sign = Classifier(")
            expect(page.locator(".cm-tooltip-autocomplete")).to_be_visible()
            expect(options.first).to_have_text("model=")
            page.keyboard.press("Escape")
            page.keyboard.press("End")
            page.keyboard.press("Enter")
            page.keyboard.type("robot.distance.")
            page.keyboard.press("Control+Space")
            expect(page.locator(".cm-tooltip-autocomplete")).to_contain_text("metres")
            page.keyboard.press("Escape")

            # an error at the student's line: red line, gutter marker, the message, in view
            page.evaluate("window.editor.markError(4, \"AttributeError: did you mean 'forward'?\")")
            error_line = page.locator(".cm-line.cm-rc-error-line")
            expect(error_line).to_have_count(1)
            expect(error_line).to_have_text("    robot.drive.forward(0.5)")
            expect(page.locator(".cm-rc-error-marker")).to_be_visible()
            expect(page.locator(".cm-rc-error-message")).to_have_text(
                "AttributeError: did you mean 'forward'?"
            )
            assert page.locator(".cm-rc-error-message").get_attribute("role") == "alert"
            page.screenshot(path=str(SHOTS / "editor-error.png"))
            # the mouse on a name shows its help, as the completions do
            spot = page.evaluate(
                "(() => { const v = window.editor.view;"
                " const c = v.coordsAtPos(v.state.doc.toString().indexOf('forward') + 2);"
                " return [c.left + 2, (c.top + c.bottom) / 2]; })()"
            )
            page.mouse.move(spot[0], spot[1])
            hover = page.locator(".cm-tooltip-hover")
            expect(hover).to_contain_text("robot.drive.forward(power: float = 0.5)")
            expect(hover).to_contain_text("Drive straight on at power")
            page.screenshot(path=str(SHOTS / "editor-hover.png"))
            page.mouse.move(5, 5)
            page.evaluate("window.editor.clearErrors()")
            expect(error_line).to_have_count(0)
            expect(page.locator(".cm-rc-error-marker")).to_have_count(0)
            page.evaluate("window.editor.highlightLine(3)")
            expect(page.locator(".cm-line.cm-rc-highlight-line")).to_have_text(
                "with Robot() as robot:"
            )

            # undo takes the last typing back; read-only refuses typing
            before_undo = doc(page)
            content.click()
            page.keyboard.press("Control+z")
            assert doc(page) != before_undo
            page.keyboard.press("Control+y")
            assert doc(page) == before_undo
            page.evaluate("window.editor.setReadOnly(true)")
            page.keyboard.type("oops")
            assert doc(page) == before_undo
            assert page.evaluate("window.changes.length") > 0
            page.evaluate("window.editor.setFontSize(30)")
            assert page.evaluate("getComputedStyle(window.editor.view.dom).fontSize") == "30px"
            page.evaluate("window.editor.setDoc('print(1)\\n')")
            assert doc(page) == "print(1)\n"

            # Chinese labels
            page.goto(served + "/editor-test/?lang=zh")
            expect(page.locator(".cm-content")).to_have_attribute("aria-label", "Python 程序")
            assert "Esc" in str(page.locator(".cm-content").get_attribute("aria-description"))
            # another name for the robot, and the names a package offers
            page.evaluate("window.editor.setDoc('with Robot() as bot:\\n    bot.dri')")
            page.locator(".cm-content").click()
            page.keyboard.press("Control+End")
            page.keyboard.press("Control+Space")
            expect(options.first).to_have_text("drive")
            page.keyboard.press("Escape")
            page.keyboard.type("\nfrom vision import Cl")
            expect(options.first).to_have_text("Classifier")
            expect(page.locator(".cm-completionInfo")).to_contain_text("Says what a picture shows")
            page.screenshot(path=str(SHOTS / "editor-zh.png"))
            # the keyboard leaves the editor: Escape, then Tab
            page.keyboard.press("Escape")
            page.keyboard.press("Escape")
            page.keyboard.press("Tab")
            assert page.evaluate("window.editor.view.hasFocus") is False
            assert errors == []
        finally:
            browser.close()
    assert elsewhere == []
