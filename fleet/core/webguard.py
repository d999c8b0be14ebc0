"""Cross-site state changes refused (403), and security headers on every answer: the one
guard of the console's and the district's web APIs.

A page of another site may not make a logged-in browser change anything: a
POST/PUT/PATCH/DELETE under ``/api/`` must come from the same origin
(``Sec-Fetch-Site: same-origin`` or ``none``, or an ``Origin`` equal to this
host), or carry no session cookie (a script with a bearer token). API answers
are not cached. Each service gives its own cookie names, headers and refusal
text; Starlette loads only when a service imports this module (never on a robot)::

    app.add_middleware(CrossSiteGuard, cookies=("rc_session",), headers=HEADERS, refused=TEXT)
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["CrossSiteGuard", "refusal"]

logger = logging.getLogger(__name__)

_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if bytes(key).lower() == name:
            return bytes(value).decode("latin-1")
    return None


def refusal(scope: Scope, cookies: Sequence[str]) -> str | None:
    """Why a state-changing request must be refused as cross-site, or None to let it through;
    ``cookies`` are the names of the service's session cookies."""
    unsafe = scope.get("type") == "http" and scope.get("method", "GET") in _UNSAFE
    if not unsafe or not str(scope.get("path", "")).startswith("/api/"):
        return None
    fetch_site = _header(scope, b"sec-fetch-site")
    if fetch_site is not None:
        if fetch_site.lower() in ("same-origin", "none"):
            return None
        return f"Sec-Fetch-Site is {fetch_site}"
    origin = _header(scope, b"origin")
    if origin is not None:
        host = _header(scope, b"host") or ""
        own = f"{scope.get('scheme', 'http')}://{host}".lower()
        return None if origin.lower() == own else f"Origin {origin} is not {own}"
    sent = _header(scope, b"cookie") or ""
    if not _header(scope, b"authorization") and any(f"{name}=" in sent for name in cookies):
        return "a cookie without Origin or Sec-Fetch-Site"
    return None  # a script with a bearer token (or no credential at all)


class CrossSiteGuard:
    """ASGI middleware: refuses cross-site state changes (403, ``refused`` as its detail) and
    adds ``headers`` to every answer (``Cache-Control: no-store`` too under ``/api/``)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        cookies: Sequence[str],
        headers: Sequence[tuple[bytes, bytes]],
        refused: str,
    ) -> None:
        self.app = app
        self.cookies, self.headers, self.refused = tuple(cookies), list(headers), refused

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        reason = refusal(scope, self.cookies)
        if reason is not None:
            logger.warning(
                "refused %s %s from %s: %s",
                scope.get("method"),
                scope.get("path"),
                (scope.get("client") or ("?",))[0],
                reason,
            )
            body = json.dumps({"detail": self.refused}, ensure_ascii=False).encode()
            start = [
                (b"content-type", b"application/json; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                *self.headers,
            ]
            await send({"type": "http.response.start", "status": 403, "headers": start})
            await send({"type": "http.response.body", "body": body})
            return
        api = str(scope.get("path", "")).startswith("/api/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers: list[Any] = list(message.get("headers", []))
                present = {bytes(k).lower() for k, _ in headers}
                headers += [(k, v) for k, v in self.headers if k not in present]
                if api and b"cache-control" not in present:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)
