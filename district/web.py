"""The district's pages for its staff, the lesson library and the challenges, on the district's
app (:func:`district.app.make_app`)::

    app = make_app(store, ingest=ingest)
    mount_web(app, SigningKey.load_or_create(data / "district-key.pem"))

The pages are hand-written HTML, CSS and ES modules in ``district/static/`` (no
build step, nothing from the internet), served at ``/`` and ``/static``, in
Chinese and English. Every answer carries a strict Content-Security-Policy
(only the district's own files; no inline script or style, no frames); the
app refuses cross-site changes with the staff's cookie
(:mod:`district.api.guard`). A school's console posting a submission or a
challenge's tries sends no cookie, and its signature is what is checked.
"""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from district.api import challenges as challenge_routes
from district.api import library as library_routes
from district.api import pages
from district.challenges import CHALLENGE_MIGRATIONS, Challenges
from district.library import LIBRARY_MIGRATIONS, Library
from district.store import DistrictStore
from fleet.core.signing import SigningKey

__all__ = ["STATIC", "PageHeaders", "mount_web"]

logger = logging.getLogger(__name__)

STATIC = Path(__file__).with_name("static")
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
_HEADERS = [
    (b"content-security-policy", _CSP.encode()),
    (b"cross-origin-opener-policy", b"same-origin"),
]


class PageHeaders:
    """ASGI middleware: every answer gets the pages' Content-Security-Policy (the district's
    app refuses cross-site changes itself: :mod:`district.api.guard`)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {bytes(k).lower() for k, _ in headers}
                headers += [(k, v) for k, v in _HEADERS if k not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


def mount_web(app: FastAPI, key: SigningKey) -> None:
    """Add the library, the challenges and the pages to the district's ``app``; ``key`` is the
    district's own (it signs the library and the challenges)."""
    store: DistrictStore = app.state.store
    store.migrate("library", LIBRARY_MIGRATIONS)
    store.migrate("challenges", CHALLENGE_MIGRATIONS)
    library = Library(store.db.transaction, key)
    app.state.library = library
    app.state.challenges = Challenges(store.db.transaction, key, library)
    for area in (library_routes, challenge_routes, pages):
        app.include_router(area.router)

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    app.mount("/static", StaticFiles(directory=STATIC), name="district-static")
    app.add_middleware(PageHeaders)
    logger.info("district pages, library and challenges mounted (key %s)", key.kid)
