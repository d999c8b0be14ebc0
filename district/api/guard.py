"""Cross-site state changes refused (403), with the guard the console uses (fleet/core/webguard.py).

A page of another site may not make a logged-in staff member's browser add a
school: a POST/PUT/PATCH/DELETE under ``/api/`` must come from this origin
(``Sec-Fetch-Site: same-origin``, or an ``Origin`` equal to this host), or
carry a bearer token (a script) and no cookie alone. API answers are not cached.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Scope

from district.api.deps import COOKIE
from fleet.core import webguard

__all__ = ["CrossSiteGuard", "refusal"]

REFUSED = "refused: a cross-site request / 已拒绝：跨站请求"
HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
]


def refusal(scope: Scope) -> str | None:
    """Why a state-changing request must be refused as cross-site, or None to let it through."""
    return webguard.refusal(scope, (COOKIE,))


class CrossSiteGuard(webguard.CrossSiteGuard):
    """ASGI middleware: refuses cross-site state changes; adds security headers."""

    def __init__(self, app: ASGIApp) -> None:
        super().__init__(app, cookies=(COOKIE,), headers=HEADERS, refused=REFUSED)
