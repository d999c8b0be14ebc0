"""Cross-site state changes refused (403), as the console does (fleet/console/websecurity.py).

A page of another site may not make a logged-in staff member's browser add a
school: a POST/PUT/PATCH/DELETE under ``/api/`` must come from this origin
(``Sec-Fetch-Site: same-origin``, or an ``Origin`` equal to this host), or
carry a bearer token (a script) and no cookie alone. API answers are not cached.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from district.api.deps import COOKIE

__all__ = ["CrossSiteGuard", "refusal"]

logger = logging.getLogger(__name__)

_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
REFUSED = "refused: a cross-site request / 已拒绝：跨站请求"
HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
]


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if bytes(key).lower() == name:
            return bytes(value).decode("latin-1")
    return None


def refusal(scope: Scope) -> str | None:
    """Why a state-changing request must be refused as cross-site, or None to let it through."""
    unsafe = scope.get("type") == "http" and scope.get("method", "GET") in _UNSAFE
    if not unsafe or not str(scope.get("path", "")).startswith("/api/"):
        return None
    fetch_site = _header(scope, b"sec-fetch-site")
    if fetch_site is not None:
        return (
            None
            if fetch_site.lower() in ("same-origin", "none")
            else f"Sec-Fetch-Site {fetch_site}"
        )
    origin = _header(scope, b"origin")
    if origin is not None:
        own = f"{scope.get('scheme', 'http')}://{_header(scope, b'host') or ''}".lower()
        return None if origin.lower() == own else f"Origin {origin} is not {own}"
    if not _header(scope, b"authorization") and f"{COOKIE}=" in (_header(scope, b"cookie") or ""):
        return "a cookie without Origin or Sec-Fetch-Site"
    return None


class CrossSiteGuard:
    """ASGI middleware: refuses cross-site state changes; adds security headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        reason = refusal(scope)
        if reason is not None:
            logger.warning("refused %s %s: %s", scope.get("method"), scope.get("path"), reason)
            body = json.dumps({"detail": REFUSED}, ensure_ascii=False).encode()
            await send({"type": "http.response.start", "status": 403, "headers": [
                (b"content-type", b"application/json; charset=utf-8"), *HEADERS]})  # fmt: skip
            await send({"type": "http.response.body", "body": body})
            return
        api = str(scope.get("path", "")).startswith("/api/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers: list[Any] = list(message.get("headers", []))
                present = {bytes(k).lower() for k, _ in headers}
                headers += [(k, v) for k, v in HEADERS if k not in present]
                if api and b"cache-control" not in present:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)
