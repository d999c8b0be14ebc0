"""The teacher's side of the student workspace: class periods, their QR code, students' PINs,
the class at work.

``POST /api/v1/periods`` starts a period for a class: a join code, and the
address students open (``/s/``, the code in it; ``qr.svg`` draws it). PINs
are set per student or for the whole class at once, which answers the class
sheet to print: the only time a PIN is shown (the console keeps a hash).
``GET /api/v1/rosters/{roster}/work`` is the class view: each student's
lesson, latest code, last run and hand-ins. ``PUT
/api/v1/rosters/{roster}/camera`` turns the class's camera panel on or off
(audited; off also ends the previews its students turned on); the
teacher's own previews are not affected.
"""

from __future__ import annotations

import io
import logging
import secrets
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response

from fleet.console.api.classmodels import (
    CameraPanel,
    CameraSwitch,
    ClassWorkRow,
    Ended,
    LessonPick,
    NewPeriod,
    PeriodView,
    PinSet,
    PinSheetRow,
)
from fleet.console.api.deps import ConsoleDep, Teacher, simruns
from fleet.console.console import Console
from fleet.console.store import AuditAction, CodeVersion, HandIn, Period, PinKind, Student

__all__ = ["join_url", "router"]

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1", tags=["classes"])


def join_url(console: Console, request: Request, code: str | None = None) -> str:
    """The address students open: the console's advertised address (what robots reach),
    else the one this request came to."""
    base = (console.config.url or str(request.base_url)).rstrip("/")
    return f"{base}/s/" + (f"?code={code}" if code else "")


def _view(console: Console, request: Request, period: Period) -> PeriodView:
    return PeriodView(**period.to_json(), join_url=join_url(console, request, period.code))


def _period(console: Console, period_id: str) -> Period:
    found = console.db.classes.period(period_id)
    if found is None:
        raise HTTPException(404, f"no period {period_id!r}")
    return found


@router.post("/periods")
def start_period(
    body: NewPeriod, request: Request, console: ConsoleDep, user: Teacher
) -> PeriodView:
    """Start a class period (the class's open period, if any, ends): its code and address."""
    if not console.db.rosters.exists(body.roster):
        raise HTTPException(404, f"no class {body.roster!r}: add its students first")
    period = console.db.classes.start_period(
        body.roster, user, lesson_id=body.lesson_id, minutes=body.minutes
    )
    _warm(request, body.lesson_id)
    return _view(console, request, period)


def _warm(request: Request, lesson_id: str | None) -> None:
    """Get the simulator's workers ready for the period's lesson before the class presses Run."""
    if lesson_id is None:
        return
    from fleet.console.api.student import find_lesson  # noqa: PLC0415

    try:
        simruns(request.app).warm(find_lesson(lesson_id))
    except HTTPException:
        logger.warning("period lesson %s is not a lesson here: nothing to warm", lesson_id)


@router.get("/periods")
def periods(request: Request, console: ConsoleDep, _user: Teacher) -> list[PeriodView]:
    """The periods open now, newest first."""
    return [_view(console, request, p) for p in console.db.classes.periods()]


@router.post("/periods/{period_id}/end")
def end_period(period_id: str, console: ConsoleDep, _user: Teacher) -> Ended:
    """End a period: its code stops working, its students are signed out."""
    _period(console, period_id)
    return Ended(ended=console.db.classes.end_period(period_id))


@router.put("/periods/{period_id}/lesson")
def set_lesson(
    period_id: str, body: LessonPick, request: Request, console: ConsoleDep, _user: Teacher
) -> PeriodView:
    """Change the lesson the period's students open."""
    if not console.db.classes.set_lesson(period_id, body.lesson_id):
        raise HTTPException(404, f"no open period {period_id!r}")
    _warm(request, body.lesson_id)
    return _view(console, request, _period(console, period_id))


@router.get(
    "/periods/{period_id}/qr.svg",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}, "description": "the QR code"}},
)
def qr(period_id: str, request: Request, console: ConsoleDep, _user: Teacher) -> Response:
    """The QR code of the period's join address (drawn here: nothing from the internet)."""
    import segno  # noqa: PLC0415 - only when a teacher shows the code

    period = _period(console, period_id)
    svg = io.BytesIO()  # a whole SVG document (with its xmlns), so an <img> can show it
    segno.make(join_url(console, request, period.code), error="m").save(
        svg, kind="svg", xmldecl=False, scale=8, border=2, dark="#000", light="#fff"
    )
    return Response(svg.getvalue(), media_type="image/svg+xml")


@router.get("/rosters/{roster}/camera")
def camera(roster: str, console: ConsoleDep, _user: Teacher) -> CameraPanel:
    """Whether the class's students may see a robot's camera on their page."""
    if not console.db.rosters.exists(roster):
        raise HTTPException(404, f"no class {roster!r} / 没有班级 {roster!r}")
    return CameraPanel(roster=roster, camera_panel=console.db.classes.camera_panel(roster))


@router.put("/rosters/{roster}/camera")
def set_camera(roster: str, body: CameraSwitch, console: ConsoleDep, user: Teacher) -> CameraPanel:
    """Turn the class's camera panel on or off; off ends the previews its students turned on."""
    if not console.db.rosters.exists(roster):
        raise HTTPException(404, f"no class {roster!r} / 没有班级 {roster!r}")
    console.db.classes.set_camera_panel(roster, body.on)
    if not body.on:
        students = {f"student:{s.id}" for s in console.db.rosters.students(roster)}
        for device, watch in console.previews.watching().items():
            if watch["by"] in students:
                console.preview_off(device)
    console.db.audit.add(user, AuditAction.CAMERA_PANEL, roster=roster, on=body.on)
    return CameraPanel(roster=roster, camera_panel=body.on)


def _new_pin(kind: PinKind, length: int) -> str:
    if kind is PinKind.PICTURES:  # 3 of the 9 pictures, numbered 1-9
        return "".join(str(secrets.randbelow(9) + 1) for _ in range(3))
    return "".join(str(secrets.randbelow(10)) for _ in range(length))


@router.post("/rosters/{roster}/pins")
def set_pins(roster: str, body: PinSet, console: ConsoleDep, _user: Teacher) -> list[PinSheetRow]:
    """Set PINs (new random ones unless ``pin`` is given for one student): the class sheet.

    The PINs are shown only in this answer; the console keeps their hashes.
    """
    students = {s.name: s for s in console.db.rosters.students(roster)}
    if not students:
        raise HTTPException(404, f"no class {roster!r}")
    names = body.students or sorted(students)
    unknown = [n for n in names if n not in students]
    if unknown:
        raise HTTPException(404, f"not in class {roster!r}: {', '.join(unknown)}")
    if body.pin is not None:
        if len(names) != 1:
            raise HTTPException(400, "a chosen PIN is for one student: name one")
        if (body.kind is PinKind.PICTURES) != (len(body.pin) == 3 and "0" not in body.pin):
            raise HTTPException(400, "a picture PIN is 3 digits 1-9; a PIN is 4-6 digits")
    sheet = []
    for name in names:
        pin = body.pin or _new_pin(body.kind, body.length)
        console.db.classes.set_pin(students[name].id, pin, body.kind)
        sheet.append(
            PinSheetRow(student=name, student_id=students[name].id, kind=body.kind, pin=pin)
        )
    return sheet


def _work_row(
    student: Student,
    pins: dict[str, PinKind],
    code: dict[str, CodeVersion],
    handins: list[HandIn],
    runs: dict[str, dict[str, Any]],
) -> ClassWorkRow:
    mine = [h for h in handins if h.student_id == student.id]
    latest = code.get(student.id)
    return ClassWorkRow(
        student_id=student.id,
        name=student.name,
        devices=student.devices,
        pin=pins.get(student.id),
        lesson_id=latest.lesson_id if latest else None,
        code=latest.code if latest else None,
        saved=latest.saved if latest else None,
        last_run=runs.get(student.id),
        handins=[
            {k: v for k, v in h.to_json().items() if k not in ("code", "result")} for h in mine
        ],
    )


@router.get("/rosters/{roster}/work")
def class_work(
    roster: str, request: Request, console: ConsoleDep, _user: Teacher
) -> list[ClassWorkRow]:
    """The class at work: each student's robot, latest code, last run and hand-ins."""
    students = console.db.rosters.students(roster)
    if not students:
        raise HTTPException(404, f"no class {roster!r}")
    code = console.db.work.latest_code([s.id for s in students])
    handins = console.db.work.handins(roster=roster)
    noted: dict[str, dict[str, Any]] = request.app.state.last_runs
    runs = {s.id: _last_run(request, console, noted[s.id]) for s in students if s.id in noted}
    pins = console.db.classes.pin_kinds(roster)
    return [_work_row(s, pins, code, handins, runs) for s in students]


def _last_run(request: Request, console: Console, noted: dict[str, Any]) -> dict[str, Any]:
    """A student's last run as the class view shows it: where it stands now, and its error."""
    run = str(noted.get("run", ""))
    out = {k: noted.get(k) for k in ("lesson_id", "place", "when")}
    if noted.get("place") == "robot":
        job = console.db.jobs.get(run)
        result = console.db.results.for_job(run)
        graded = result.result if result is not None else {}
        status = graded.get("status") or (job.status.value if job is not None else "unknown")
        return {**out, "status": status, "error": graded.get("error") or graded.get("reason")}
    runs = request.app.state.simruns
    found = None if runs is None else runs.get(run)
    if found is None:
        return {**out, "status": "unknown", "error": None}
    ended = found.result or {}
    status = ended.get("status") or found.state
    return {**out, "status": status, "error": ended.get("error")}


@router.get("/handins/{handin_id}")
def handin(handin_id: str, console: ConsoleDep, _user: Teacher) -> HandIn:
    """One hand-in: the exact code and the result it earned."""
    found = console.db.work.handin(handin_id)
    if found is None:
        raise HTTPException(404, f"no hand-in {handin_id!r}")
    return found
