"""Server-Sent Events for the teacher's pages: the room, log lines, a camera preview.

Each stream sends ``retry: 2000`` first, then an event whenever what it
follows changes (at most 4 a second), a comment line every 15 s so proxies
keep it open, and ends when the browser goes, the console closes, the
server shuts down (``closing``) or the login it was opened with ends (logged
out, expired, or revoked by a password reset).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import Request
from fastapi.responses import StreamingResponse

from fleet.console.console import Console
from fleet.console.web import room_snapshot
from fleet.console.websecurity import request_token

__all__ = ["EVENT_STREAM", "event_stream", "line_events", "preview_events", "room_events", "sse"]

#: At most this many snapshots a second per browser, however busy the room is.
_MIN_INTERVAL_S = 0.25
#: A comment line this often keeps proxies and the browser from giving up.
_HEARTBEAT_S = 15.0
#: How /openapi.json describes an event stream's answer.
EVENT_STREAM: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/event-stream": {}}, "description": "Server-Sent Events"}
}


def sse(event: str, data: Any) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


def event_stream(events: AsyncIterator[bytes]) -> StreamingResponse:
    return StreamingResponse(
        events,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _gone(request: Request, console: Console) -> bool:
    """The browser left, or the token the stream was opened with no longer works."""
    if await request.is_disconnected():
        return True
    return console.db.accounts.token_user(request_token(request)[0]) is None


async def room_events(
    console: Console, request: Request, closing: threading.Event
) -> AsyncIterator[bytes]:
    """A room snapshot now and after every change (at most 4 a second); heartbeats between."""
    sent: dict[str, Any] | None = None
    seen = -1
    beat = looked = time.monotonic()
    yield b"retry: 2000\n\n"
    while not closing.is_set() and not console.closed:
        if await _gone(request, console):
            return
        now = time.monotonic()
        # API calls (bind, push) change the store without a message: look each second too
        if console.changes != seen or now - looked > 1.0:
            seen, looked = console.changes, now
            snapshot = room_snapshot(console)
            if snapshot != sent:
                sent = snapshot
                beat = now
                yield sse("room", snapshot)
        elif now - beat > _HEARTBEAT_S:
            beat = now
            yield b": still here\n\n"
        await asyncio.sleep(_MIN_INTERVAL_S)


async def line_events(
    console: Console,
    kept_now: Callable[[], list[dict[str, Any]]],
    request: Request,
    closing: threading.Event,
) -> AsyncIterator[bytes]:
    """The log lines ``kept_now()`` returns so far, then each new batch (``event: lines``)."""
    last: dict[str, Any] | None = None
    seen = -1
    beat = time.monotonic()
    yield b"retry: 2000\n\n"
    while not closing.is_set() and not console.closed:
        if await _gone(request, console):
            return
        now = time.monotonic()
        if console.changes != seen:
            seen = console.changes
            kept = kept_now()
            start = 0
            if last is not None:  # after the last line sent; all of them if it has gone
                start = next((i + 1 for i in range(len(kept) - 1, -1, -1) if kept[i] is last), 0)
            if kept[start:]:
                last, beat = kept[-1], now
                yield sse("lines", kept[start:])
        if now - beat > _HEARTBEAT_S:
            beat = now
            yield b": still here\n\n"
        await asyncio.sleep(_MIN_INTERVAL_S)


async def preview_events(
    console: Console, device: str, request: Request, closing: threading.Event
) -> AsyncIterator[bytes]:
    """The device's newest thumbnail whenever it changes; ``off`` and the end when it stops."""
    version = -1
    beat = time.monotonic()
    yield b"retry: 2000\n\n"
    while not closing.is_set() and not console.closed:
        if await _gone(request, console):
            return
        now = time.monotonic()
        latest = console.previews.latest(device)
        if latest is None:
            yield sse("off", {"device": device})
            return
        if latest[0] != version:
            version, beat = latest[0], now
            yield sse("preview", latest[1])
        elif now - beat > _HEARTBEAT_S:
            beat = now
            yield b": still here\n\n"
        await asyncio.sleep(_MIN_INTERVAL_S / 2)
