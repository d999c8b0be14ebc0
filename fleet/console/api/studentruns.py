"""A student's runs: in the simulator on the console, or on their own robot.

``POST /api/v1/student/runs`` starts one (the code is saved first); its
events (``GET /api/v1/student/runs/{run}/events``, Server-Sent Events) go
to that student only, while the page is open:

- on the robot, the run is a job signed for the robot bound to the student
  (only that robot): ``status`` as it moves, ``output`` lines of its log,
  ``end`` with the graded result;
- in the simulator, :mod:`fleet.console.simruns` runs it in the sandbox in
  real time: ``world``, ``pose``, ``output``, ``camera``, ``end``.

``POST .../stop`` stops the student's own run; the teacher's STOP ALL wins
over everything (the e-stop reaches the robot whatever the student does).
With ``camera`` the student's robot's preview is on for the run (the
frames it sends come in ``camera`` events) and off when the run ends; a
class whose teacher turned its camera panel off is refused (403).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import StreamingResponse

from fleet.console.api.classmodels import RunStart, RunStarted, RunStopped
from fleet.console.api.deps import ConsoleDep, Student, simruns, student_session
from fleet.console.api.simstream import simrun_events
from fleet.console.api.streams import EVENT_STREAM, event_stream, sse
from fleet.console.api.student import CAMERA_OFF, find_lesson, push_for
from fleet.console.console import Console
from fleet.console.sensors import PREFIX, SEQ
from fleet.console.store import Place, StudentSession
from fleet.core.errors import FleetError, PreviewError, SimRunError
from fleet.core.protocol import TERMINAL

__all__ = ["router"]

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1/student", tags=["student"])

_TICK_S = 0.2
#: How often a stream asks whether the page is still there and the student still signed in.
_LOOK_S = 2.0
_HEARTBEAT_S = 15.0
_TERMINAL = {s.value for s in TERMINAL}
#: A job's final status can come before its result is stored (the writer stores results in
#: batches): the stream waits this long for the result before it ends without one.
_RESULT_GRACE_S = 5.0


def _note_run(request: Request, me: StudentSession, **fields: Any) -> None:
    """What the teacher's class view shows as the student's last run."""
    runs: dict[str, dict[str, Any]] = request.app.state.last_runs
    runs[me.student_id] = {**runs.get(me.student_id, {}), **fields, "when": time.time()}


def _own_job(console: Console, me: StudentSession, run: str) -> Any:
    job = console.db.jobs.get(run)
    if job is None or job.student_id != me.student_id:
        raise HTTPException(404, "no such run / 没有这次运行")
    return job


@router.post("/runs")
def start_run(body: RunStart, request: Request, me: Student, console: ConsoleDep) -> RunStarted:
    """Run the student's code in the simulator or on their robot; answers the run's id."""
    if body.camera and not me.camera_panel:
        raise HTTPException(403, CAMERA_OFF)
    lesson = find_lesson(body.lesson_id)
    console.db.work.save_code(me.student_id, body.lesson_id, body.code)
    if body.place is Place.ROBOT:
        run = push_for(console, me, lesson, body.code)
        if body.camera and me.device is not None:
            try:
                console.preview_on(me.device, f"student:{me.student_id}")
            except PreviewError:
                logger.info("no camera preview for %s: too many are on", me.student_id)
    else:
        try:
            run = (
                simruns(request.app)
                .start(me.student_id, lesson, body.code, want_camera=body.camera)
                .id
            )
        except SimRunError as exc:
            raise HTTPException(exc.status, str(exc)) from exc
    _note_run(
        request,
        me,
        run=run,
        lesson_id=lesson.id,
        place=body.place.value,
        status="running",
        error=None,
    )
    return RunStarted(run=run, place=body.place)


@router.post("/runs/{run}/stop")
def stop_run(run: str, request: Request, me: Student, console: ConsoleDep) -> RunStopped:
    """Stop the student's own run."""
    if run.startswith("j"):
        _own_job(console, me, run)
        try:
            console.cancel(run)
        except FleetError as exc:
            raise HTTPException(404, str(exc)) from exc
        return RunStopped(stopped=True)
    runs = simruns(request.app)
    found = runs.get(run)
    if found is None or found.owner != me.student_id:
        raise HTTPException(404, "no such run / 没有这次运行")
    return RunStopped(stopped=runs.stop(run))


async def _gone(request: Request, me: StudentSession) -> bool:
    if await request.is_disconnected():
        return True
    now = student_session(request)
    return now is None or now.student_id != me.student_id


def _sensors(console: Console, device: str) -> tuple[int, dict[str, Any]]:
    """The robot's newest live sensor values (its job's, kept by the console) and how many
    sets have come (a new set counts even when its values are the same)."""
    values = console.telemetry.get(device) or {}
    found = {k[len(PREFIX) :]: v for k, v in values.items() if k.startswith(PREFIX)}
    return int(values.get(SEQ, 0)), found


def _job_news(
    console: Console, job: str, status: str | None, sent: int
) -> tuple[list[bytes], str | None, int]:
    """What is new in the job: its status, if it changed, and its log lines after ``sent``."""
    news = []
    row = console.db.jobs.get(job)
    if row is not None and row.status != status:
        status = row.status
        news.append(sse("status", {"status": status, "reason": row.reason}))
    lines = console.job_log(job) or []
    for line in lines[sent:]:
        news.append(sse("output", {"stream": line.get("stream"), "line": line.get("line")}))
    return news, status, max(sent, len(lines))


async def robot_events(
    console: Console, job: str, me: StudentSession, request: Request, closing: threading.Event
) -> AsyncIterator[bytes]:
    """A job of the student's robot: ``status`` changes, ``output`` lines, ``sensors`` (the
    newest values, as the robot sends them), ``camera`` (while its preview is on), ``end``."""
    status: str | None = None
    device = me.device or ""
    sent = 0
    seen = -1
    shown = _sensors(console, device)[0]  # sets from before this run are not shown
    picture = -1
    result = None
    finished: float | None = None  # when the job's status became final
    beat = looked = time.monotonic()
    yield b"retry: 2000\n\n"
    while not closing.is_set() and not console.closed:
        now = time.monotonic()
        if now - looked > _LOOK_S:  # not every tick: asking costs the event loop (simstream.py)
            looked = now
            if await _gone(request, me):
                return
        seq, sensors = _sensors(console, device)
        if sensors and seq != shown:
            shown, beat = seq, now
            yield sse("sensors", sensors)
        latest = console.previews.latest(device)
        if latest is not None and latest[0] != picture and latest[1].get("state") == "frame":
            picture, beat = latest[0], now
            yield sse("camera", {"jpeg": latest[1].get("jpeg")})
        if console.changes != seen:
            seen = console.changes
            news, status, sent = _job_news(console, job, status, sent)
            if news:
                beat = now
                yield b"".join(news)
            result = console.db.results.for_job(job)
            if finished is None and status in _TERMINAL:
                finished = now
        if result is not None or (finished is not None and now - finished > _RESULT_GRACE_S):
            if latest is not None and latest[1].get("by") == f"student:{me.student_id}":
                console.preview_off(device)  # the student's own preview ends with the run
            yield sse("end", {"status": status, **(result.result if result else {})})
            return
        if now - beat > _HEARTBEAT_S:
            beat = now
            yield b": still here\n\n"
        await asyncio.sleep(_TICK_S)


@router.get("/runs/{run}/events", response_class=StreamingResponse, responses=EVENT_STREAM)
async def run_events(
    run: str, request: Request, me: Student, console: ConsoleDep
) -> StreamingResponse:
    """The run's events, to this student only (see the module's list)."""
    closing: threading.Event = request.app.state.closing
    if run.startswith("j"):
        _own_job(console, me, run)
        return event_stream(robot_events(console, run, me, request, closing))
    runs = simruns(request.app)
    found = runs.get(run)
    if found is None or found.owner != me.student_id:
        raise HTTPException(404, "no such run / 没有这次运行")
    return event_stream(simrun_events(runs, run, request))
