"""How the tests start Debian's Chromium through Playwright.

Playwright's own browser download cannot run here (no internet), so the tests
pass ``executable_path`` of the Debian package and flags that keep Chromium
from reaching out to the network.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import ConsoleMessage, Page


def launch_args() -> list[str]:
    return [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ]


def script_errors(page: Page) -> list[str]:
    """What the page's scripts complain about from now on: uncaught errors, console
    errors and warnings (a CSP refusal is one). The 401 of the session check before
    a login (the teacher's or the student's) is the page asking, not a fault. Assert the list is empty at the end."""
    errors: list[str] = []

    def console_message(msg: ConsoleMessage) -> None:
        if msg.type not in ("error", "warning"):
            return
        if msg.text.startswith("Failed to load resource") and msg.location["url"].endswith(
            ("/api/v1/session", "/api/v1/student/me")
        ):
            return
        errors.append(f"{msg.type}: {msg.text} at {msg.location}")

    page.on("console", console_message)
    page.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))
    return errors
