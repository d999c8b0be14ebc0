"""The district's pages for its staff, the lesson library and the challenges, on the district's
app (:func:`district.app.make_app`)::

    app = make_app(store, ingest=ingest)
    mount_web(app, SigningKey.load_or_create(data / "district-key.pem"))

The pages are hand-written HTML, CSS and ES modules in ``district/static/`` (no
build step, nothing from the internet), served at ``/`` and ``/static``, in
Chinese and English. Every answer carries a strict Content-Security-Policy
(only the district's own files; no inline script, no frames), and a request
that changes something with the staff cookie must come from the district's own
page (``Sec-Fetch-Site``/``Origin``): the same rule as the console's
(``fleet/console/websecurity.py``; the district may not import the console).
A school's console posting a submission sends no cookie and no browser
headers, and its signature is what is checked.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from district.api import challenges as challenge_routes
from district.api import library as library_routes
from district.api import pages
from district.api.deps import COOKIE
from district.challenges import CHALLENGE_MIGRATIONS, Challenges
from district.library import LIBRARY_MIGRATIONS, Library
from district.migrate import migrate
from district.store import DistrictStore
from fleet.core.signing import SigningKey

__all__ = ["STATIC", "SameOriginGuard", "mount_web"]

logger = logging.getLogger(__name__)

STATIC = Path(__file__).with_name("static")
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
_HEADERS = [
    (b"content-security-policy", _CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_REFUSED = json.dumps(
    {"detail": "cross-site request refused: use the district's own page / 已拒绝跨站请求"},
    ensure_ascii=False,
).encode()


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def cross_site(scope: Scope) -> str | None:
    """Why a state-changing API request must be refused as cross-site, or ``None``."""
    if scope.get("method", "GET") not in _UNSAFE or not str(scope.get("path")).startswith("/api/"):
        return None
    site = _header(scope, b"sec-fetch-site")
    if site is not None:
        return None if site.lower() in ("same-origin", "none") else f"Sec-Fetch-Site {site}"
    origin = _header(scope, b"origin")
    if origin is not None:
        own = f"{scope.get('scheme', 'http')}://{_header(scope, b'host') or ''}".lower()
        return None if origin.lower() == own else f"Origin {origin}"
    if f"{COOKIE}=" in (_header(scope, b"cookie") or "") and not _header(scope, b"authorization"):
        return "a cookie without Origin or Sec-Fetch-Site"
    return None


class SameOriginGuard:
    """ASGI middleware: cross-site state changes get 403; every answer gets the headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        api = str(scope.get("path", "")).startswith("/api/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {bytes(k).lower() for k, _ in headers}
                headers += [(k, v) for k, v in _HEADERS if k not in present]
                if api and b"cache-control" not in present:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        reason = cross_site(scope)
        if reason is None:
            await self.app(scope, receive, with_headers)
            return
        logger.warning("refused %s %s: %s", scope.get("method"), scope.get("path"), reason)
        await with_headers(
            {
                "type": "http.response.start",
                "status": 403,
                "headers": [(b"content-type", b"application/json; charset=utf-8")],
            }
        )
        await send({"type": "http.response.body", "body": _REFUSED})


def mount_web(app: FastAPI, key: SigningKey) -> None:
    """Add the library, the challenges and the pages to the district's ``app``; ``key`` is the
    district's own (it signs the library and the challenges)."""
    store: DistrictStore = app.state.store
    with store.db.lock:
        migrate(store.db.conn, "library", LIBRARY_MIGRATIONS)
        migrate(store.db.conn, "challenges", CHALLENGE_MIGRATIONS)
    library = Library(store.db.transaction, key)
    app.state.library = library
    app.state.challenges = Challenges(store.db.transaction, key, library)
    for area in (library_routes, challenge_routes, pages):
        app.include_router(area.router)

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    app.mount("/static", StaticFiles(directory=STATIC), name="district-static")
    app.add_middleware(SameOriginGuard)
    logger.info("district pages, library and challenges mounted (key %s)", key.kid)
