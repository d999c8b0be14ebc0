"""The teacher's console in the browser: static pages, first-run set-up, live room events.

The pages are hand-written HTML, CSS and JS in ``fleet/console/static/`` (no build
step, nothing fetched from the internet). They use the JSON API of
:mod:`fleet.console.api` plus the routes added here:

- ``POST /api/v1/setup``: the first teacher account, only while there is none
  (no default password), and only with the one-time set-up code that
  ``roboclass console serve`` prints on the console's own screen (a student
  on the LAN who finds a fresh console cannot claim it); answers with a
  login token. Wrong codes count as failed logins (429 after 5 a minute).
- ``GET /api/v1/room``: the room at a glance (devices with their student,
  battery, current job and last result, and the e-stop).
- ``GET /api/v1/events``: the same snapshot as Server-Sent Events, sent again
  whenever the console sees a change (``event: room``).
- ``GET /api/v1/library``: the built-in lessons with zh/en titles, summaries
  and steps.
- ``GET /api/v1/results.xapi``: results as xAPI statements (JSON), with the
  filters of ``/api/v1/results``.
- ``GET /api/v1/devices/{device}/log/events``: a robot's log lines as
  Server-Sent Events (``event: lines``), the kept ones first.
- ``POST /api/v1/devices/{device}/preview`` (``{"on": true|false}``): a live
  camera preview of one robot, off by default, for at most 2 minutes after it
  was turned on (again); audited. ``GET /api/v1/devices/{device}/preview/events``:
  its newest thumbnail as Server-Sent Events (``event: preview``), ``event:
  off`` when it ends. Thumbnails live only in memory (:mod:`fleet.console.preview`).
- ``GET /api/v1/jobs/{job}/log`` and ``/api/v1/jobs/{job}/log/events``: one
  job's kept lines (in memory, the newest 500), then each new batch.

::

    app = create_app(console)      # fleet.console.api calls mount_web(app, _teacher)
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import secrets
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field

from fleet.console.console import Console
from fleet.console.store import AuditAction, Job, Result
from fleet.console.websecurity import set_session_cookie
from fleet.core.errors import PreviewError
from fleet.core.limits import FailureLimiter
from fleet.core.protocol import Status

__all__ = ["STATIC", "library", "mount_web", "new_setup_code", "room_snapshot", "xapi_statements"]

logger = logging.getLogger(__name__)

STATIC = Path(__file__).with_name("static")
#: At most this many snapshots a second per browser, however busy the room is.
_MIN_INTERVAL_S = 0.25
#: A comment line this often keeps proxies and the browser from giving up.
_HEARTBEAT_S = 15.0
_MIN_PASSWORD = 8
_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def new_setup_code() -> str:
    """Eight letters and digits to read off a screen, e.g. ``K7QM-3XPA`` (about 40 bits)."""
    text = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(8))
    return f"{text[:4]}-{text[4:]}"


def _same_code(typed: str, code: str) -> bool:
    def norm(text: str) -> str:
        return "".join(c for c in text.upper() if c.isalnum())

    return hmac.compare_digest(norm(typed).encode(), norm(code).encode())


class PreviewSwitch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    on: bool


class Setup(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=64, pattern=r"^[^\s:]+$")
    password: str = Field(min_length=_MIN_PASSWORD, max_length=256)
    code: str = Field(default="", max_length=32, description="the one-time set-up code")
    #: ``cookie``: the browser's page; the token goes into an HttpOnly cookie, not the answer.
    session: Literal["token", "cookie"] = "token"


def room_snapshot(console: Console) -> dict[str, Any]:
    """Every device with its student, battery, current job and last result; the e-stop."""
    db = console.db
    latest_job: dict[str, Job] = {}
    for row in db.jobs.list():  # oldest first: the last one per device wins
        latest_job[row.device] = row
    last_result: dict[str, Result] = {}
    watching = console.previews.watching()
    results = db.results.list()
    for found in results:
        last_result[found.device] = found
    devices = []
    for d in db.devices.list():
        telemetry = console.telemetry.get(d.device) or {}
        battery = telemetry.get("battery_v", d.battery)
        job = latest_job.get(d.device)
        result = last_result.get(d.device)
        devices.append(
            {
                "device": d.device,
                "student": d.student,
                "student_id": d.student_id,
                "roster": d.roster,
                "online": d.online,
                "estopped": d.estopped,
                "kit": d.kit,
                "battery_v": battery if isinstance(battery, int | float) else None,
                "preflight": d.preflight,
                "preview": watching.get(d.device),
                "job": None
                if job is None
                else {
                    "job": job.job,
                    "lesson_id": job.lesson_id,
                    "status": job.status,
                    "reason": job.reason,
                    "updated": job.updated,
                },
                "last_result": None
                if result is None
                else {
                    "lesson_id": result.lesson_id,
                    "status": result.status,
                    "score": result.score,
                    "passed": result.result.get("status") == "passed",
                },
            }
        )
    return {"estop": db.estop.get().to_json(), "devices": devices, "results": len(results)}


def library() -> list[dict[str, Any]]:
    """The built-in lessons as the lessons page shows them; a broken one is logged and left out."""
    # only when a teacher opens the page: the console does not need lessons to start
    from lessons import LessonError, load_lesson  # noqa: PLC0415
    from lessons.library import BAND_ORDER, LIBRARY  # noqa: PLC0415

    found = []
    for path in sorted(LIBRARY.glob("*/lesson.yaml")):
        try:
            found.append(load_lesson(path.parent))
        except LessonError as exc:
            logger.warning("lesson %s left out of the library page: %s", path.parent.name, exc)
    found.sort(key=lambda lesson: (BAND_ORDER[lesson.model.band], lesson.id))
    out = []
    for lesson in found:
        entry = lesson.summary()
        entry.pop("title_local", None)
        entry["steps"] = [
            {"title": s.title.model_dump(), "body": s.body.model_dump()} for s in lesson.model.steps
        ]
        out.append(entry)
    return out


def xapi_statements(results: list[Result], base: str) -> list[dict[str, Any]]:
    """Results as xAPI 1.0.3 statements for a school's learning-record store.

    The actor is an account on this console (``homePage`` is the console's
    URL): its name is the student's pseudonymous id (``s-...``), never the
    display name or an e-mail, so the learning-record store holds no names;
    the school matches ids to pupils with the CSV export, which has both.
    When no student is bound the robot's name stands in. The object is the
    lesson; the verb is passed / failed (graded) or attempted.
    """
    verbs = {
        "passed": ("http://adlnet.gov/expapi/verbs/passed", "passed", "通过"),
        "failed": ("http://adlnet.gov/expapi/verbs/failed", "failed", "未通过"),
    }
    out = []
    for r in results:
        graded = r.result.get("status")
        verb_id, en, zh = verbs.get(
            str(graded), ("http://adlnet.gov/expapi/verbs/attempted", "attempted", "尝试")
        )
        result: dict[str, Any] = {"completion": r.status == Status.SUCCEEDED}
        if graded in verbs:
            result["success"] = graded == "passed"
        if isinstance(r.score, int | float):
            result["score"] = {
                "raw": r.score,
                "min": 0,
                "max": 100,
                "scaled": round(max(0.0, min(1.0, r.score / 100)), 4),
            }
        seconds = r.result.get("wall_seconds")
        if isinstance(seconds, int | float):
            result["duration"] = f"PT{seconds:.1f}S"
        lesson = r.lesson_id or "unknown"
        out.append(
            {
                "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{base}/results/{r.result_id}")),
                "actor": {
                    "objectType": "Agent",
                    "account": {"homePage": base, "name": r.student_id or r.device},
                },
                "verb": {"id": verb_id, "display": {"en-US": en, "zh-CN": zh}},
                "object": {
                    "objectType": "Activity",
                    "id": f"{base}/lessons/{lesson}",
                    "definition": {"type": "http://adlnet.gov/expapi/activities/lesson"},
                },
                "result": result,
                "context": {"platform": "RoboClass", "extensions": {f"{base}/robot": r.device}},
                "timestamp": datetime.fromtimestamp(r.received, UTC).isoformat(),
            }
        )
    return out


def _sse(event: str, data: Any) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


def _event_stream(events: AsyncIterator[bytes]) -> StreamingResponse:
    return StreamingResponse(
        events,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _room_events(
    console: Console, request: Request, closing: threading.Event
) -> AsyncIterator[bytes]:
    """A room snapshot now and after every change (at most 4 a second); heartbeats between."""
    sent: dict[str, Any] | None = None
    seen = -1
    beat = looked = time.monotonic()
    yield b"retry: 2000\n\n"
    while not closing.is_set() and not console.closed:
        if await request.is_disconnected():
            return
        now = time.monotonic()
        # API calls (bind, push) change the store without a message: look each second too
        if console.changes != seen or now - looked > 1.0:
            seen, looked = console.changes, now
            snapshot = room_snapshot(console)
            if snapshot != sent:
                sent = snapshot
                beat = now
                yield _sse("room", snapshot)
        elif now - beat > _HEARTBEAT_S:
            beat = now
            yield b": still here\n\n"
        await asyncio.sleep(_MIN_INTERVAL_S)


async def _line_events(
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
        if await request.is_disconnected():
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
                yield _sse("lines", kept[start:])
        if now - beat > _HEARTBEAT_S:
            beat = now
            yield b": still here\n\n"
        await asyncio.sleep(_MIN_INTERVAL_S)


async def _preview_events(
    console: Console, device: str, request: Request, closing: threading.Event
) -> AsyncIterator[bytes]:
    """The device's newest thumbnail whenever it changes; ``off`` and the end when it stops."""
    version = -1
    beat = time.monotonic()
    yield b"retry: 2000\n\n"
    while not closing.is_set() and not console.closed:
        if await request.is_disconnected():
            return
        now = time.monotonic()
        latest = console.previews.latest(device)
        if latest is None:
            yield _sse("off", {"device": device})
            return
        if latest[0] != version:
            version, beat = latest[0], now
            yield _sse("preview", latest[1])
        elif now - beat > _HEARTBEAT_S:
            beat = now
            yield b": still here\n\n"
        await asyncio.sleep(_MIN_INTERVAL_S / 2)


def _live_routes(
    auth: APIRouter, console: Console, closing: threading.Event, teacher: Callable[..., str]
) -> None:
    """A job's log, and a robot's camera preview."""

    @auth.get("/jobs/{job}/log")
    def job_log(job: str) -> dict[str, Any]:
        row = console.db.jobs.get(job)
        if row is None:
            raise HTTPException(404, f"no job {job}")
        lines = console.job_log(job)
        return {
            "job": job,
            "device": row.device,
            "kept": lines is not None,
            "lines": lines or [],
        }

    @auth.get("/jobs/{job}/log/events")
    async def job_log_events(job: str, request: Request) -> StreamingResponse:
        if console.db.jobs.get(job) is None:
            raise HTTPException(404, f"no job {job}")
        return _event_stream(
            _line_events(console, lambda: console.job_log(job) or [], request, closing)
        )

    @auth.post("/devices/{device}/preview")
    def preview(device: str, body: PreviewSwitch, request: Request) -> dict[str, Any]:
        user = teacher(request)
        if console.db.devices.get(device) is None:
            raise HTTPException(404, f"no device {device}")
        if not body.on:
            was_on = console.preview_off(device)
            if was_on:
                console.db.audit.add(user, AuditAction.PREVIEW, device=device, on=False)
            return {"device": device, "on": False}
        try:
            watch = console.preview_on(device, user)
        except PreviewError as exc:
            raise HTTPException(409, str(exc)) from exc
        console.db.audit.add(user, AuditAction.PREVIEW, device=device, on=True)
        return {**watch, "on": True}

    @auth.get("/devices/{device}/preview/events")
    async def preview_events(device: str, request: Request) -> StreamingResponse:
        return _event_stream(_preview_events(console, device, request, closing))


def mount_web(app: FastAPI, teacher: Callable[..., str]) -> None:
    """Add the pages at ``/`` and the routes above to the console's ``app``.

    ``teacher`` is the API's dependency that turns a bearer token into a
    teacher (or answers 401). ``app.state.closing`` (a
    :class:`threading.Event`), when set, ends every event stream so the
    server can shut down.
    """
    console: Console = app.state.console
    closing: threading.Event = getattr(app.state, "closing", threading.Event())
    app.state.closing = closing
    setup_lock = threading.Lock()
    app.state.setup_code = new_setup_code()
    limiter = getattr(app.state, "limiter", None) or FailureLimiter()
    auth = APIRouter(prefix="/api/v1", dependencies=[Depends(teacher)])

    @app.post("/api/v1/setup")
    def setup(body: Setup, request: Request, response: Response) -> dict[str, str]:
        key = ("set-up", request.client.host if request.client else "?")
        wait = limiter.retry_after(key)
        if wait > 0:
            seconds = max(1, round(wait))
            raise HTTPException(
                429,
                f"too many wrong codes: wait {seconds} s / 错误次数太多：请等 {seconds} 秒",
                headers={"Retry-After": str(seconds)},
            )
        with setup_lock:
            if console.db.accounts.has_teachers():
                raise HTTPException(409, "this console already has a teacher: log in")
            if not _same_code(body.code, app.state.setup_code):
                limiter.failed(key)
                raise HTTPException(
                    403,
                    "wrong set-up code: `roboclass console serve` prints it on the console's screen",
                )
            console.db.accounts.add_teacher(body.username, body.password)
            app.state.setup_code = new_setup_code()  # used: the next one is new
            console.db.audit.add(body.username, AuditAction.SETUP)
        token = console.db.accounts.login(
            body.username, body.password, console.config.session_ttl_s
        )
        if token is None:  # pragma: no cover - the account was just made
            raise HTTPException(500, "the account was made but logging in failed")
        logger.info("first teacher account %s made from the browser", body.username)
        if body.session == "cookie":
            set_session_cookie(response, request, token, console.config.session_ttl_s)
            return {"username": body.username}
        return {"token": token, "username": body.username}

    @auth.get("/room")
    def room() -> dict[str, Any]:
        return room_snapshot(console)

    @auth.get("/library")
    def lessons_library() -> list[dict[str, Any]]:
        return library()

    @auth.get("/events")
    async def events(request: Request) -> StreamingResponse:
        return _event_stream(_room_events(console, request, closing))

    @auth.get("/results.xapi")
    def results_xapi(
        request: Request,
        lesson: str | None = None,
        student: str | None = None,
        status: str | None = None,
        roster: str | None = None,
    ) -> JSONResponse:
        rows = console.db.results.list(lesson=lesson, student=student, status=status, roster=roster)
        base = str(request.base_url).rstrip("/")
        return JSONResponse(
            xapi_statements(rows, base),
            headers={"Content-Disposition": 'attachment; filename="results-xapi.json"'},
        )

    @auth.get("/devices/{device}/log/events")
    async def log_events(device: str, request: Request) -> StreamingResponse:
        return _event_stream(
            _line_events(console, lambda: list(console.logs.get(device, ())), request, closing)
        )

    _live_routes(auth, console, closing, teacher)
    app.include_router(auth)

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
