"""The login form in headless Chromium: a teacher who types before the page is ready keeps
what they typed where they typed it (the page's first focus comes after the console's
answer, and must not take the password field away)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Route, expect, sync_playwright

from fleet.console.api import ApiServer
from fleet.console.console import Console, ConsoleConfig
from tests.browser import launch_args, script_errors
from tests.conftest import system_part

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

TEACHER, PASSWORD = "ms-li", "a long classroom secret"


def test_typing_before_the_page_is_ready_stays_in_its_field(tmp_path: Path) -> None:
    chromium = system_part("chromium")
    # no broker: the login page needs only the API (the console is never started)
    console = Console(ConsoleConfig("127.0.0.1", 9, tmp_path / "console"))
    console.db.accounts.add_teacher(TEACHER, PASSWORD)
    server = ApiServer(console).start()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(chromium), args=launch_args())
            try:
                page = browser.new_page(locale="en-GB")
                errors = script_errors(page)
                held: list[Route] = []
                page.route("**/api/v1/health", lambda route: held.append(route))
                # (its answer waits for the test)
                page.goto(server.url + "/")
                expect(page.locator("#login-user")).to_be_visible()
                page.fill("#login-user", TEACHER)
                page.click("#login-pass")
                page.keyboard.type(PASSWORD[:6])
                expect(page.locator("#login-pass")).to_have_value(PASSWORD[:6])
                assert held, "the page asked the console whether it has teachers"
                with page.expect_response("**/api/v1/health"):
                    held[0].continue_()
                page.wait_for_load_state("networkidle")  # the page has acted on the answer
                page.keyboard.type(PASSWORD[6:])
                expect(page.locator("#login-user")).to_have_value(TEACHER)
                expect(page.locator("#login-pass")).to_have_value(PASSWORD)
                page.keyboard.press("Enter")
                expect(page.locator("#stop-all")).to_be_visible()
                assert errors == []
            finally:
                browser.close()
    finally:
        server.close()
        console.close()
