"""A student builds a program from blocks on the workspace page, sees its Python, hands it
in and sees the score; with a mouse in English, with touch on a tablet in Chinese.

The real console (its API, pages, Content-Security-Policy) serves ``/s/``; the student
joins through the API (class code, their id, PIN) and the browser carries the cookie.
The lesson is robot-dance, whose block starter drives forward for a second: the student
drags "drive ... for 1 seconds" (set to backward), "turn left for 1 seconds" and "turn
... for 1 seconds" (set to right) from the toolbox to the end of the program; the Python
beside the blocks shows each one; Hand in grades that Python in the simulator (the real
sandbox) and the page shows the score. Screenshots: build/screenshots/blocks-*.png.
The page's load time (navigation start to the blocks drawn) is printed, not asserted.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, Request, Route, expect, sync_playwright

from fleet.console.api import ApiServer
from fleet.console.console import Console, ConsoleConfig
from fleet.console.store import PinKind
from fleet.console.websecurity import STUDENT_COOKIE
from tests.browser import launch_args, script_errors
from tests.conftest import system_part
from tests.unit.test_console_security import Client

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

SHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
SAME = {"Sec-Fetch-Site": "same-origin"}
MAIN = ".blocklyMainBackground ~ .blocklyBlockCanvas"  # the program's blocks, not the toolbox's
MOVES = ".drive_seconds, .turn_seconds"

expect.set_options(timeout=30_000)


@pytest.fixture
def console_url(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """The console serving a class period of robot-dance, and Ana's session cookie."""
    console = Console(ConsoleConfig("127.0.0.1", 9, tmp_path / "console"))
    console.db.accounts.add_teacher("ms-li", "a long secret")
    ana = console.db.rosters.add_student("Ana", "2B")
    console.db.classes.set_pin(ana, "2468", PinKind.DIGITS)
    period = console.db.classes.start_period("2B", "ms-li", lesson_id="robot-dance")
    with ApiServer(console) as server:
        client = Client(server.url)
        body = {"code": period.code, "student_id": ana, "pin": "2468"}
        status, answer, response = client("POST", "/api/v1/join", body, SAME)
        assert status == 200, answer
        cookie = response.getheader("set-cookie", "").split(";")[0]
        assert cookie.startswith(f"{STUDENT_COOKIE}=")
        yield server.url, cookie.split("=", 1)[1]
    console.close()


class Hand:
    """Drags with the mouse, or with a finger (touch events through Chromium's DevTools)."""

    def __init__(self, page: Page, touch: bool) -> None:
        self.page = page
        self.cdp = page.context.new_cdp_session(page) if touch else None

    def _touch(self, kind: str, x: float, y: float) -> None:
        assert self.cdp is not None
        points = [] if kind == "touchEnd" else [{"x": x, "y": y, "radiusX": 8, "radiusY": 8}]
        self.cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})

    def tap(self, x: float, y: float) -> None:
        if self.cdp is None:
            self.page.mouse.click(x, y)
        else:
            self._touch("touchStart", x, y)
            self._touch("touchEnd", x, y)

    def drag(self, start: tuple[float, float], end: tuple[float, float]) -> None:
        (x0, y0), (x1, y1) = start, end
        steps = 12
        if self.cdp is None:
            self.page.mouse.move(x0, y0)
            self.page.mouse.down()
        else:
            self._touch("touchStart", x0, y0)
        for i in range(1, steps + 1):
            x, y = x0 + (x1 - x0) * i / steps, y0 + (y1 - y0) * i / steps
            if self.cdp is None:
                self.page.mouse.move(x, y)
            else:
                self._touch("touchMove", x, y)
        if self.cdp is None:
            self.page.mouse.up()
        else:
            self._touch("touchEnd", x1, y1)


def box(page: Page, selector: str) -> dict[str, float]:
    found = page.locator(selector).first.bounding_box()
    assert found is not None, selector
    return found


def add_block(page: Page, hand: Hand, category: str, kind: str, choice: str | None) -> None:
    """Drag a block from the toolbox to the end of the program; pick `choice` in its menu."""
    before = page.locator(f"{MAIN} :is({MOVES})").count()
    cat = box(page, f".blocklyToolboxCategory:has-text('{category}')")
    hand.tap(cat["x"] + cat["width"] / 2, cat["y"] + cat["height"] / 2)
    block = f".blocklyFlyout .blocklyBlockCanvas > .{kind}"
    expect(page.locator(block).first).to_be_visible()
    grab = box(page, block)
    # the last move of the program: the one lowest down
    lows = [page.locator(f"{MAIN} :is({MOVES})").nth(i).bounding_box() for i in range(before)]
    last = max((b for b in lows if b), key=lambda b: b["y"])
    hand.drag((grab["x"] + 14, grab["y"] + 14), (last["x"] + 14, last["y"] + last["height"] + 14))
    expect(page.locator(f"{MAIN} :is({MOVES})")).to_have_count(before + 1)
    if choice is not None:  # the new block is the lowest: open its menu, pick the choice
        added = page.locator(f"{MAIN} .{kind}")
        lowest = max(
            range(added.count()), key=lambda i: (added.nth(i).bounding_box() or {"y": 0})["y"]
        )
        menu = added.nth(lowest).locator(".blocklyDropdownField").first.bounding_box()
        assert menu is not None
        hand.tap(menu["x"] + menu["width"] / 2, menu["y"] + menu["height"] / 2)
        item = page.locator(".blocklyDropDownDiv .blocklyMenuItem", has_text=choice)
        expect(item).to_be_visible()
        target = item.bounding_box()
        assert target is not None and target["height"] >= 44  # a child's finger
        hand.tap(target["x"] + target["width"] / 2, target["y"] + target["height"] / 2)


def build_and_hand_in(page: Page, hand: Hand, words: dict[str, str], name: str) -> None:
    code = page.locator(".blocks-code .cm-content")
    expect(code).to_contain_text("robot.drive.forward(0.5)")
    add_block(page, hand, words["move"], "drive_seconds", words["backward"])
    expect(code).to_contain_text("robot.drive.backward(0.5)")
    add_block(page, hand, words["move"], "turn_seconds", None)
    expect(code).to_contain_text("robot.drive.left(0.3)")
    add_block(page, hand, words["move"], "turn_seconds", words["right"])
    expect(code).to_contain_text("robot.drive.right(0.3)")
    # the block under the pointer is the line in the code
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"blocks-{name}-built.png"), full_page=True)
    # what runs is the Python the blocks made: in the simulator, watched live
    page.locator("#run-sim").click()
    expect(page.locator("#sensors")).to_be_visible(timeout=60_000)  # poses are arriving
    expect(page.locator("#run-status")).to_contain_text(words["passed"], timeout=120_000)
    page.screenshot(path=str(SHOTS / f"blocks-{name}-ran.png"), full_page=True)
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#handin").click()
    expect(page.locator("#grade .score")).to_have_text(words["score"], timeout=120_000)
    page.locator("#grade").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / f"blocks-{name}-score.png"), full_page=True)


WORDS: dict[str, dict[str, str]] = {
    "en": {
        "move": "Move",
        "backward": "backward",
        "right": "right",
        "score": "Score: 100 / 100",
        "passed": "Finished: passed",
    },
    "zh": {
        "move": "运动",
        "backward": "向后",
        "right": "向右",
        "score": "得分：100 / 100",
        "passed": "结束了：通过",
    },
}


@pytest.mark.parametrize(
    ("lang", "touch", "viewport"),
    [("en", False, {"width": 1500, "height": 950}), ("zh", True, {"width": 1024, "height": 1366})],
    ids=["en-mouse", "zh-tablet-touch"],
)
def test_a_student_builds_with_blocks_and_hands_in(
    console_url: tuple[str, str], lang: str, touch: bool, viewport: dict[str, Any]
) -> None:
    url, token = console_url
    chromium = system_part("chromium")
    elsewhere: list[str] = []

    def only_this_origin(route: Route, request: Request) -> None:
        if request.url.startswith(url + "/"):
            route.continue_()
        else:
            elsewhere.append(request.url)
            route.abort()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=launch_args())
        try:
            context = browser.new_context(viewport=viewport, has_touch=touch, is_mobile=touch)
            context.route("**/*", only_this_origin)
            host = url.split("//", 1)[1].split(":")[0]
            context.add_cookies(
                [{"name": STUDENT_COOKIE, "value": token, "domain": host, "path": "/"}]
            )
            context.add_init_script(f"localStorage.setItem('rc-lang', '{lang}')")
            page = context.new_page()
            errors = script_errors(page)
            page.goto(url + "/s/")
            expect(page.locator(f"{MAIN} > .start")).to_be_visible()
            first = page.evaluate("performance.now()")
            page.reload()  # again, as a class's second student would (the console warmed up)
            expect(page.locator(f"{MAIN} > .start")).to_be_visible()
            again = page.evaluate("performance.now()")
            print(
                f"\nblocks page ({lang}): the blocks drawn {first:.0f} ms after navigation "
                f"start on the first load, {again:.0f} ms on a reload"
            )
            expect(page.locator("#to-python")).to_be_visible()
            page.screenshot(path=str(SHOTS / f"blocks-{lang}-open.png"), full_page=True)
            build_and_hand_in(page, Hand(page, touch), WORDS[lang], lang)
            # a step with its own toolbox offers only its blocks (step 2: start, drive ... seconds)
            categories = page.locator(".blocklyToolboxCategory")
            expect(categories).to_have_count(3)  # the lesson's: start, move, loops
            page.locator("#steps > li").nth(1).click()
            expect(categories).to_have_count(2)
            page.locator("#steps > li").nth(0).click()
            expect(categories).to_have_count(3)
            if lang == "en":  # the language switch redraws the blocks in the other language
                page.select_option("#lang", "zh")
                expect(page.locator(".blocklyToolboxCategory", has_text="运动")).to_be_visible()
                expect(page.locator(f"{MAIN} .drive_seconds").first).to_contain_text("向后")
                page.select_option("#lang", "en")
                expect(page.locator(".blocklyToolboxCategory", has_text="Move")).to_be_visible()
            # Continue in Python: one way, asked first; the editor then has the same Python
            python = page.locator(".blocks-code .cm-content").inner_text()
            page.once("dialog", lambda dialog: dialog.accept())
            page.locator("#to-python").click()
            expect(page.locator(".blocks-area")).to_have_count(0)
            expect(page.locator("#editor .cm-content")).to_contain_text("robot.drive.right(0.3)")
            assert page.locator("#editor .cm-content").inner_text() == python
            expect(page.locator("#to-blocks")).to_be_visible()
            assert errors == []
        finally:
            browser.close()
    assert elsewhere == []


def test_the_lesson_view_carries_the_toolbox_and_the_block_starter(
    console_url: tuple[str, str],
) -> None:
    url, token = console_url
    client = Client(url)
    headers = {**SAME, "Cookie": f"{STUDENT_COOKIE}={token}"}
    status, lesson, _ = client("GET", "/api/v1/student/lesson", None, headers)
    assert status == 200, lesson
    blocks = lesson["blocks"]
    assert blocks["toolbox"][0] == "start" and "drive_seconds" in blocks["toolbox"]
    assert len(blocks["steps"]) == len(lesson["steps"])
    assert blocks["steps"][1] == ["start", "drive_seconds"] and blocks["steps"][0] is None
    assert blocks["starter"]["blocks"]["blocks"][0]["type"] == "start"
    status, other, _ = client("GET", "/api/v1/student/lesson?lesson_id=data-logger", None, headers)
    assert status == 200 and other["blocks"] is None
