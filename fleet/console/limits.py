"""How much a client may send the console: a body-size cap on every route.

An ASGI middleware counts a request's body as it arrives and answers 413 (a
JSON error in English and Chinese) as soon as it passes the route's cap,
before reading more: a 200 MB body to ``/api/v1/login`` costs the console
its cap, not 200 MB. It holds with or without ``Content-Length`` (a declared
length over the cap is refused before the route runs; a chunked body is
counted chunk by chunk)::

    app.add_middleware(BodyLimit, default=JSON_LIMIT, routes={"/api/v1/bundles": 256 * MIB})

The default is sized for the largest JSON a teacher sends: a push with the
student's program inline (``code``: at most 200 000 characters, up to 6
bytes each once JSON-escaped). Uploads (bundles, models) name their own cap
and must read their body as a stream (:meth:`starlette.requests.Request.stream`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["JSON_LIMIT", "MIB", "BodyLimit", "BodyTooLarge", "too_large"]

logger = logging.getLogger(__name__)

MIB = 1024 * 1024
#: Every route without its own cap: the largest push (200 000 characters of code, escaped).
JSON_LIMIT = 2 * MIB


def too_large(limit: int) -> str:
    """The bilingual message of a 413."""
    return (
        f"the request is too large: at most {limit} bytes may be sent here "
        f"/ 请求过大：这里最多只能发送 {limit} 字节"
    )


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` once a body passes its cap; the app answers it as a 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, too_large(limit))
        self.limit = limit


class BodyLimit:
    """ASGI middleware: at most ``default`` bytes of body, or ``routes[path]`` for that path."""

    def __init__(
        self, app: ASGIApp, default: int = JSON_LIMIT, routes: Mapping[str, int] | None = None
    ) -> None:
        self.app = app
        self.default = default
        self.routes = dict(routes or {})

    def limit(self, path: str) -> int:
        return self.routes.get(path.rstrip("/") or "/", self.default)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit(str(scope.get("path", "")))
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            _log(scope, f"Content-Length {declared}", limit)
            await _answer_413(send, limit)
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    _log(scope, f"more than {limit} bytes", limit)
                    raise BodyTooLarge(limit)
            return message

        async def watching_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, watching_send)
        except BodyTooLarge:  # a route that reads its body outside FastAPI's own handling
            if started:
                raise
            await _answer_413(send, limit)


def _content_length(scope: Scope) -> int | None:
    for key, value in scope.get("headers", []):
        if key == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the server refuses a malformed length itself
    return None


def _log(scope: Scope, what: str, limit: int) -> None:
    logger.warning(
        "refused %s %s from %s: %s (the cap is %d bytes)",
        scope.get("method"),
        scope.get("path"),
        (scope.get("client") or ("?",))[0],
        what,
        limit,
    )


async def _answer_413(send: Send, limit: int) -> None:
    body = json.dumps({"detail": too_large(limit)}, ensure_ascii=False).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
