"""What the district's pages show at a glance, and live: ``/api/v1/overview`` (schools, their
rooms with live counts, their results) and its event stream; :func:`watch`, the one
Server-Sent Events loop the pages' streams share (the overview, a challenge's leaderboard).

A stream sends ``retry: 2000`` first, then an event whenever what it follows
changes (looked at once a second, in a worker thread: the store is
PostgreSQL), a comment every 15 s, and ends when the browser goes, the staff
login ends, or after :data:`STREAM_S` (the page opens it again at once: a
server that is shutting down never waits long for a stream).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from district.api.deps import Staff, StoreDep, get_store, request_token
from district.records import LiveCount
from district.store import DistrictStore

__all__ = ["EVENT_STREAM", "STREAM_S", "overview", "router", "watch"]

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1", tags=["pages"])

#: How often a stream looks for a change (s).
LOOK_S = 1.0
_HEARTBEAT_S = 15.0
#: A stream's longest life (s); the page opens the next one at once.
STREAM_S = 60.0
EVENT_STREAM: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/event-stream": {}}, "description": "Server-Sent Events"}
}


def _sse(event: str, data: Any) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


def watch(request: Request, event: str, compute: Callable[[], Any]) -> StreamingResponse:
    """An event stream of ``compute()``'s answer: now, then each time it changes."""
    store = get_store(request)
    token = request_token(request) or ""

    async def events() -> AsyncIterator[bytes]:
        sent: Any = None
        started = beat = time.monotonic()
        yield b"retry: 2000\n\n"
        while time.monotonic() - started < STREAM_S:
            if await request.is_disconnected():
                return
            if await run_in_threadpool(store.staff.token_user, token) is None:
                return
            now = await run_in_threadpool(compute)
            if now != sent:
                sent, beat = now, time.monotonic()
                yield _sse(event, now)
            elif time.monotonic() - beat > _HEARTBEAT_S:
                beat = time.monotonic()
                yield b": still here\n\n"
            await asyncio.sleep(LOOK_S)

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def _room(room: str, count: LiveCount | None) -> dict[str, Any]:
    return {
        "room": room,
        "robots_online": count.robots_online if count else 0,
        "robots_known": count.robots_known if count else 0,
        "lessons_running": count.lessons_running if count else 0,
        "at": count.at if count else None,
    }


def overview(store: DistrictStore) -> dict[str, Any]:
    """Every school with its rooms' live counts and its results so far; the district's totals."""
    live: dict[tuple[str, str], LiveCount] = {(c.school, c.room): c for c in store.live.list()}
    progress = {p.school: p for p in store.results.by_school()}
    schools: list[dict[str, Any]] = []
    online = running = 0
    for school in store.schools.list():
        names = sorted({*school.rooms, *(room for s, room in live if s == school.id)})
        rooms = [_room(room, live.get((school.id, room))) for room in names]
        online += sum(int(r["robots_online"]) for r in rooms)
        running += sum(int(r["lessons_running"]) for r in rooms)
        done = progress.get(school.id)
        schools.append(
            {
                "id": school.id,
                "name": school.name,
                "rooms": rooms,
                "progress": done.to_json() if done else None,
            }
        )
    return {
        "schools": schools,
        "robots_online": online,
        "lessons_running": running,
        "results": sum(p.results for p in progress.values()),
    }


@router.get("/overview")
def overview_now(store: StoreDep, _who: Staff) -> dict[str, Any]:
    """Schools, their rooms with live counts (robots online, lessons running), their results."""
    return overview(store)


@router.get("/lesson-titles")
def lesson_titles(request: Request, _who: Staff) -> dict[str, dict[str, str]]:
    """Every lesson's title in English and Chinese, by id: RoboClass's built-in lessons and
    the library's (the newest version of each), for the pages to name what results name."""
    from lessons import LessonError, builtin_lessons  # noqa: PLC0415 - only when a page asks

    titles: dict[str, dict[str, str]] = {}
    try:
        for lesson in builtin_lessons():
            titles[lesson.id] = lesson.model.title.model_dump()
    except LessonError as exc:  # a broken built-in lesson: the library's titles still come
        logger.warning("built-in lessons' titles left out: %s", exc)
    for entry in request.app.state.library.entries():
        titles[entry.lesson_id] = entry.title.model_dump()
    return titles


@router.get("/overview/events", response_class=StreamingResponse, responses=EVENT_STREAM)
def overview_events(request: Request, store: StoreDep, _who: Staff) -> StreamingResponse:
    """The overview now and whenever it changes (``event: overview``)."""
    return watch(request, "overview", lambda: overview(store))
