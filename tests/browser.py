"""How the tests start Debian's Chromium through Playwright.

Playwright's own browser download cannot run here (no internet), so the tests
pass ``executable_path`` of the Debian package and flags that keep Chromium
from reaching out to the network.
"""

from __future__ import annotations


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
