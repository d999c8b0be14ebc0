"""The district on a school console's Lessons page, in headless Chromium: the district's
library and challenge (imported, checked), a challenge opened in the class's period with the
console's challenge mode, a lesson shared up; with the district gone the page says so and
the rest works. English and Chinese; screenshots ``build/screenshots/district-school-*``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from lessons import pack_bundle
from lessons.library import LIBRARY
from tests.browser import launch_args
from tests.conftest import system_part
from tests.integration.test_district_school import (
    PASSWORD,
    STAFF,
    TEACHER,
    School,
    _renamed_lesson,
    school,  # noqa: F401 - the fixture
)
from tests.postgres import postgres  # noqa: F401 - the session fixture

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

SHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"

expect.set_options(timeout=30_000)


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"district-school-{name}.png"), full_page=True)


def errors_of(page: Page) -> list[str]:
    errors: list[str] = []

    def console(msg: Any) -> None:
        url = msg.location["url"]
        if msg.type in ("error", "warning") and not url.endswith(("/api/v1/session",)):
            errors.append(f"{msg.type}: {msg.text} at {msg.location}")

    page.on("console", console)
    page.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))
    return errors


def test_the_lessons_page_imports_and_opens_a_district_challenge(
    school: School,  # noqa: F811
    isolated_dirs: Path,
) -> None:
    chromium = system_part("chromium")
    console, district = school.console, school.district
    library = district.app.state.library
    library.publish(pack_bundle(LIBRARY / "draw-a-square"), STAFF)
    laps = library.publish(_renamed_lesson(isolated_dirs, "line-follower", "district-laps"), STAFF)
    notice = district.app.state.challenges.start(laps.sha256, STAFF, hours=3)
    own = _renamed_lesson(isolated_dirs, "robot-dance", "our-dance")
    from lessons import unpack_bundle  # noqa: PLC0415

    unpack_bundle(own, isolated_dirs / "data" / "lessons" / "our-dance")
    sid = console.db.rosters.add_student("Li Ming", "4a")
    assert sid
    period = console.db.classes.start_period("4a", TEACHER)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=launch_args())
        try:
            context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
            page = context.new_page()
            errors = errors_of(page)
            page.goto(school.url + "/")
            page.fill("#login-user", TEACHER)
            page.fill("#login-pass", PASSWORD)
            page.press("#login-pass", "Enter")
            expect(page.locator("#page-room")).to_be_visible()
            page.click("#nav a[data-page=lessons]")
            panel = page.locator("#district-lib")
            expect(panel).to_be_visible()
            expect(panel).to_contain_text("binhai-01")
            expect(panel).to_contain_text(library.key.kid)
            expect(panel.locator("#district-challenges li")).to_have_count(1)
            expect(panel.locator("#district-lessons li")).to_have_count(2)
            square = panel.locator("#district-lessons li[data-lesson=draw-a-square]")
            square.locator("button.import").click()  # a built-in lesson's name: refused
            expect(page.locator("#toast")).to_contain_text("built-in lesson")

            # the district's challenge opens in the class's period (the console's challenge mode)
            shot(page, "lessons-en")
            panel.locator(f"li[data-challenge={notice.id}] button.challenge").click()
            expect(page.locator("#page-results")).to_be_visible()
            found = console.db.classes.period(period.id)
            assert found is not None and found.lesson_id == "district-laps"
            page.click("#nav a[data-page=lessons]")
            card = page.locator("article[data-lesson=district-laps]")
            expect(card).to_contain_text("District")  # in the lessons list now, pushable
            expect(card.locator("button.challenge")).to_be_visible()
            expect(panel.locator("li[data-lesson=district-laps]")).to_contain_text("Imported")

            # share a lesson of the teacher's own up for review
            page.select_option("#district-share-pick", "our-dance")
            page.fill("#district-share-note", "our class made this")
            page.click("#district-share-go")
            expect(page.locator("#toast")).to_contain_text("sent to the district")
            assert [i.note for i in library.items() if i.review == "waiting"] == [
                "our class made this"
            ]

            # in Chinese; then the district is gone: the panel says so, the page works on
            page.select_option("#lang", "zh")
            expect(panel.locator("h2")).to_have_text("区里的课程和挑战赛")
            shot(page, "lessons-zh")
            district.close()
            panel.locator("button.retry").click()
            expect(panel.locator("#district-offline")).to_contain_text("连不上区级平台")
            expect(page.locator("article[data-lesson=district-laps]")).to_be_visible()
            shot(page, "offline-zh")
            page.select_option("#lang", "en")
            expect(panel.locator("#district-offline")).to_contain_text("cannot be reached")
            page.click("#nav a[data-page=room]")
            expect(page.locator("#page-room")).to_be_visible()
            assert [e for e in errors if "/api/v1/districtlib" not in e] == []
            context.close()
        finally:
            browser.close()
