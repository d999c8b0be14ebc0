"""What the page watches live: the room, a robot's log, a job's log.

- ``GET /api/v1/room``: the room at a glance (devices with their student,
  battery, current job and last result, and the e-stop).
- ``GET /api/v1/events``: the same snapshot as Server-Sent Events, sent again
  whenever the console sees a change (``event: room``).
- ``GET /api/v1/devices/{device}/log/events``: a robot's log lines as
  Server-Sent Events (``event: lines``), the kept ones first.
- ``GET /api/v1/jobs/{job}/log`` and ``/api/v1/jobs/{job}/log/events``: one
  job's kept lines (in memory, the newest 500), then each new batch.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import StreamingResponse

from fleet.console.api.deps import ConsoleDep, Teacher
from fleet.console.api.models import JobLog, Room
from fleet.console.api.streams import EVENT_STREAM, event_stream, line_events, room_events
from fleet.console.web import room_snapshot

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["live"])


@router.get("/room")
def room(console: ConsoleDep, _user: Teacher) -> Room:
    """The room at a glance: each robot's student, battery, newest job and last result."""
    return Room.model_validate(room_snapshot(console))


@router.get("/events", response_class=StreamingResponse, responses=EVENT_STREAM)
async def events(request: Request, console: ConsoleDep, _user: Teacher) -> StreamingResponse:
    """The room (``event: room``) now and after every change."""
    return event_stream(room_events(console, request, request.app.state.closing))


@router.get(
    "/devices/{device}/log/events", response_class=StreamingResponse, responses=EVENT_STREAM
)
async def log_events(
    device: str, request: Request, console: ConsoleDep, _user: Teacher
) -> StreamingResponse:
    """A robot's log lines (``event: lines``): the kept ones, then each new batch."""

    def kept() -> list[dict[str, Any]]:
        return list(console.logs.get(device, ()))

    return event_stream(line_events(console, kept, request, request.app.state.closing))


@router.get("/jobs/{job}/log")
def job_log(job: str, console: ConsoleDep, _user: Teacher) -> JobLog:
    """A job's kept lines (in memory: the newest 500 of the newest 200 jobs)."""
    row = console.db.jobs.get(job)
    if row is None:
        raise HTTPException(404, f"no job {job}")
    lines = console.job_log(job)
    return JobLog(job=job, device=row.device, kept=lines is not None, lines=lines or [])


@router.get("/jobs/{job}/log/events", response_class=StreamingResponse, responses=EVENT_STREAM)
async def job_log_events(
    job: str, request: Request, console: ConsoleDep, _user: Teacher
) -> StreamingResponse:
    """A job's lines (``event: lines``): the kept ones, then each new batch."""
    if console.db.jobs.get(job) is None:
        raise HTTPException(404, f"no job {job}")

    def kept() -> list[dict[str, Any]]:
        return console.job_log(job) or []

    return event_stream(line_events(console, kept, request, request.app.state.closing))
