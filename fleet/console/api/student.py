"""The student's side: joining a class period, their lesson, their code, their hand-ins.

A student opens ``/s/``, types the class code (or scans the QR code, which
carries it), picks their name and enters their PIN: ``POST /api/v1/join``
sets the ``rc_student`` cookie (HttpOnly, SameSite=Strict). Wrong codes are
limited per client, wrong PINs per student and per client. Everything under
``/api/v1/student/`` answers for that one student: their lesson (the
period's, or one they pick), their code (autosaved, with versions), their
hand-ins; their runs are :mod:`fleet.console.api.studentruns`. Every teacher
route answers 403 to a student's session (:func:`fleet.console.api.deps.teacher`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response

from fleet.console.api.classmodels import (
    CodeSave,
    HandInBody,
    Join,
    Joined,
    JoinInfo,
    JoinStudent,
    Saved,
    SignedOut,
    VersionInfo,
)
from fleet.console.api.deps import ConsoleDep, Student, client_key, simruns
from fleet.console.console import Console
from fleet.console.store import CodeVersion, HandIn, Place, StudentSession
from fleet.console.websecurity import (
    STUDENT_COOKIE,
    clear_session_cookie,
    set_session_cookie,
    student_token,
)
from fleet.core.errors import JobError, SimRunError
from fleet.core.limits import FailureLimiter

__all__ = ["CAMERA_OFF", "CODE_FAILURES", "PIN_FAILURES", "find_lesson", "push_for", "router"]

logger = logging.getLogger(__name__)

#: Wrong class codes allowed per client in a minute.
CODE_FAILURES = 10
#: Wrong PINs allowed per student (from any client) and per client in a minute.
PIN_FAILURES = 5
#: The program's last lines a hand-in's result keeps (as a robot's result does).
OUTPUT_LINES = 400

router = APIRouter(prefix="/api/v1", tags=["student"])

NO_CLASS = (
    "no class has that code: check the code on the board / 没有这个班级代码：请再看看黑板上的代码"
)
WRONG_PIN = "that PIN is not right: try again / PIN 不对：请再试一次"
NO_PIN = "you have no PIN yet: ask your teacher / 你还没有 PIN：请问老师"
WAIT = "too many tries: wait {s} s, then try again / 试的次数太多了：请等 {s} 秒再试"
BUSY_ROBOT = (
    "your robot is still running your last program: press Stop, or wait for it to finish "
    "/ 你的机器人还在运行上一个程序：先按停止，或者等它运行完"
)
#: A student's unfinished job older than this no longer holds their robot (an offline robot).
BUSY_WINDOW_S = 15 * 60.0
#: What a student gets who asks for a camera while the teacher has turned the class's off.
CAMERA_OFF = (
    "your teacher has turned the camera off for your class: run without it "
    "/ 老师关闭了你们班的摄像头：请不显示摄像头运行"
)
NO_ROBOT = (
    "no robot is bound to you yet: ask your teacher, or run in the simulator "
    "/ 还没有机器人分给你：请问老师，或者先在模拟器里运行"
)


def _limited(request: Request, *keys: tuple[str, ...]) -> None:
    codes: FailureLimiter = request.app.state.code_limiter
    pins: FailureLimiter = request.app.state.pin_limiter
    wait = max((codes if k[0] == "code" else pins).retry_after(k) for k in keys)
    if wait > 0:
        seconds = max(1, round(wait))
        raise HTTPException(429, WAIT.format(s=seconds), headers={"Retry-After": str(seconds)})


#: Lessons read before: id -> (their lesson.yaml's mtime, the lesson). A class pressing Run
#: together would otherwise read and check the same lesson.yaml forty times at once.
_LESSONS: dict[str, tuple[int, Any]] = {}
_LESSONS_LOCK = threading.Lock()


def find_lesson(lesson_id: str) -> Any:
    """A lesson by id (the teacher's own first, then the built-in ones), else 404; read again
    when its lesson.yaml changed."""
    from lessons import LessonError  # noqa: PLC0415 - the lessons only when a student asks
    from lessons.library import find_lesson as find  # noqa: PLC0415

    with _LESSONS_LOCK:
        kept = _LESSONS.get(lesson_id)
    if kept is not None:
        with contextlib.suppress(OSError):
            if kept[1].file("lesson.yaml").stat().st_mtime_ns == kept[0]:
                return kept[1]
    try:
        lesson = find(lesson_id)
    except LessonError as exc:
        raise HTTPException(404, f"no lesson {lesson_id!r} / 没有这一课") from exc
    with _LESSONS_LOCK:
        _LESSONS[lesson_id] = (lesson.file("lesson.yaml").stat().st_mtime_ns, lesson)
    return lesson


@router.get("/join/{code}")
def join_info(code: str, request: Request, console: ConsoleDep) -> JoinInfo:
    """Who may join the period with this code: its class's names (to pick one) and PIN kinds."""
    client = client_key(request, "")[2]
    _limited(request, ("code", client))
    period = console.db.classes.open_period(code)
    if period is None:
        request.app.state.code_limiter.failed(("code", client))
        raise HTTPException(404, NO_CLASS)
    pins = console.db.classes.pin_kinds(period.roster)
    students = [
        JoinStudent(id=s.id, name=s.name, pin=pins.get(s.id))
        for s in console.db.rosters.students(period.roster)
    ]
    return JoinInfo(roster=period.roster, lesson_id=period.lesson_id, students=students)


@router.post("/join")
def join(body: Join, request: Request, response: Response, console: ConsoleDep) -> Joined:
    """Sign a student in to the open period: the class code, their id (picked by name), PIN."""
    client = client_key(request, "")[2]
    codes: FailureLimiter = request.app.state.code_limiter
    limiter: FailureLimiter = request.app.state.pin_limiter
    _limited(request, ("code", client), ("pin", body.student_id), ("pin-client", client))
    period = console.db.classes.open_period(body.code)
    if period is None:
        codes.failed(("code", client))
        raise HTTPException(404, NO_CLASS)
    mine = {s.id: s for s in console.db.rosters.students(period.roster)}
    if body.student_id not in mine:
        codes.failed(("code", client))
        raise HTTPException(404, "pick your name from the list / 请在名单里选你的名字")
    if body.student_id not in console.db.classes.pin_kinds(period.roster):
        raise HTTPException(403, NO_PIN)
    if not console.db.classes.check_pin(body.student_id, body.pin):
        limiter.failed(("pin", body.student_id))
        limiter.failed(("pin-client", client))
        raise HTTPException(401, WRONG_PIN)
    limiter.succeeded(("pin", body.student_id))
    token = console.db.classes.open_session(body.student_id, period)
    session = console.db.classes.session(token)
    if session is None:  # the period ended this very moment
        raise HTTPException(404, NO_CLASS)
    set_session_cookie(response, request, token, session.expires - period.started, STUDENT_COOKIE)
    logger.info("student %s joined period %s", body.student_id, period.id)
    return Joined(
        student_id=session.student_id,
        name=session.name,
        roster=session.roster,
        expires=session.expires,
    )


@router.get("/student/me")
def me(me: Student) -> StudentSession:
    """Who this student is, their class, period, lesson and robot, and whether their class
    may see a robot's camera (``camera_panel``: the teacher's switch)."""
    return me


@router.post("/student/logout")
def logout(request: Request, response: Response, console: ConsoleDep) -> SignedOut:
    """Sign out of this browser."""
    clear_session_cookie(response, request, STUDENT_COOKIE)
    token = student_token(request)
    return SignedOut(signed_out=bool(token) and console.db.classes.close_session(token))


def _completions(lesson: Any) -> dict[str, Any]:
    """What the editor completes: the student API for the lesson's kit, from the packages."""
    from lessons.apiref import api_reference  # noqa: PLC0415 - imports the student packages

    kit = lesson.model.hardware.kit
    path = lesson.file(kit) if kit.endswith((".yaml", ".yml")) else None
    return api_reference(str(path) if path is not None else kit)


def _blocks(lesson: Any) -> dict[str, Any] | None:
    """A lesson done with blocks: its toolbox, each step's, and the block starter."""
    m = lesson.model
    if m.blocks is None:
        return None
    starter = json.loads(lesson.file("blocks/starter.json").read_text(encoding="utf-8"))
    return {
        "toolbox": m.blocks.toolbox,
        "steps": [s.toolbox for s in m.steps],
        "starter": starter,
    }


def _lesson_view(lesson: Any, me: StudentSession, console: Console) -> dict[str, Any]:
    m = lesson.model
    saved = console.db.work.code(me.student_id, m.id)
    starter = lesson.file("starter.py").read_text(encoding="utf-8")
    return {
        **{k: v for k, v in lesson.summary().items() if k != "title_local"},
        "steps": [{"title": s.title.model_dump(), "body": s.body.model_dump()} for s in m.steps],
        "starter": starter,
        "code": saved.code if saved else starter,
        "version": saved.version if saved else None,
        "time_limit": m.time_limit,
        "pass_score": m.grading.pass_score,
        "kit": m.hardware.kit,
        "device": me.device,
        "completions": _completions(lesson),
        "blocks": _blocks(lesson),
        "saved_blocks": json.loads(saved.blocks) if saved and saved.blocks else None,
    }


@router.get("/student/lesson")
def lesson(me: Student, console: ConsoleDep, lesson_id: str | None = None) -> dict[str, Any]:
    """The lesson (default: the period's): steps, starter, and this student's saved code."""
    chosen = lesson_id or me.lesson_id
    if chosen is None:
        raise HTTPException(404, "your teacher has not picked a lesson yet / 老师还没有选课")
    return _lesson_view(find_lesson(chosen), me, console)


@router.get("/student/lessons")
def lessons(_me: Student) -> list[dict[str, Any]]:
    """Every lesson a student may open (title, band, hand-in place)."""
    from fleet.console.web import library  # noqa: PLC0415

    return [{k: e[k] for k in ("id", "title", "summary", "band", "hand_in")} for e in library()]


@router.put("/student/code")
def save_code(body: CodeSave, me: Student, console: ConsoleDep) -> Saved:
    """Autosave: the student's code for a lesson (a new version after two quiet minutes)."""
    find_lesson(body.lesson_id)
    if body.blocks is not None:
        try:
            json.loads(body.blocks)
        except ValueError as exc:
            raise HTTPException(
                422, "the blocks could not be read: reload the page / 积木读不出来：请刷新页面"
            ) from exc
    saved = console.db.work.save_code(me.student_id, body.lesson_id, body.code, body.blocks)
    return Saved(lesson_id=saved.lesson_id, version=saved.version, saved=saved.saved)


@router.get("/student/code/history")
def history(lesson_id: str, me: Student, console: ConsoleDep) -> list[VersionInfo]:
    """The kept versions of the student's code for a lesson, newest first (without the code)."""
    return [
        VersionInfo(version=v.version, saved=v.saved, lines=v.code.count("\n") + 1)
        for v in console.db.work.history(me.student_id, lesson_id)
    ]


@router.get("/student/code/{version}")
def version(version: int, lesson_id: str, me: Student, console: ConsoleDep) -> CodeVersion:
    """One kept version of the student's code (to look at or restore)."""
    found = console.db.work.code(me.student_id, lesson_id, version)
    if found is None:
        raise HTTPException(404, f"no version {version} / 没有这个版本")
    return found


@router.post("/student/handins")
def hand_in(body: HandInBody, request: Request, me: Student, console: ConsoleDep) -> HandIn:
    """Hand in: graded now in the simulator, or sent to the student's robot (as the lesson
    says); the exact code is kept with the result."""
    lesson = find_lesson(body.lesson_id)
    console.db.work.save_code(me.student_id, body.lesson_id, body.code)
    if lesson.model.grading.hand_in == "robot":
        job = push_for(console, me, lesson, body.code)
        return console.db.work.add_handin(me.student_id, lesson.id, Place.ROBOT, job, body.code)
    result = _grade_in_sim(request, me, lesson, body.code)
    status = "SUCCEEDED" if result.get("status") in ("passed", "failed") else "FAILED"
    return console.db.work.add_graded(me.student_id, lesson.id, body.code, status, result)


def push_for(console: Console, me: StudentSession, lesson: Any, code: str) -> str:
    """Sign a job with the student's code for their own robot (one at a time): its id."""
    if me.device is None:
        raise HTTPException(409, NO_ROBOT)
    if console.db.jobs.unfinished(me.device, me.student_id, time.time() - BUSY_WINDOW_S):
        raise HTTPException(409, BUSY_ROBOT)
    from lessons import pack_bundle  # noqa: PLC0415 - only when a program goes to a robot

    try:
        # the lesson the student sees: the teacher's own or imported one, else the built-in one
        sha = console.bundles.put(pack_bundle(lesson.path))
        jobs = console.push(
            sha, lesson.id, [me.device], code=code, time_limit_s=lesson.model.time_limit
        )
    except JobError as exc:
        raise HTTPException(404, str(exc)) from exc
    return jobs[0]["job"]


def _grade_in_sim(request: Request, me: StudentSession, lesson: Any, code: str) -> dict[str, Any]:
    """The lesson's grade for ``code`` in the simulator, from a worker (in turn with the
    class's other hand-ins), with the tail of what the program printed."""
    try:
        run = simruns(request.app).hand_in(me.student_id, lesson, code)
    except SimRunError as exc:
        raise HTTPException(exc.status, str(exc)) from exc
    lines: list[str] = []
    with run.subscribe() as events:  # the output so far, then each line, then the end
        lines.extend(e.data["line"] for e in events if e.kind == "output")
    return {**(run.result or {"status": "error"}), "output": "\n".join(lines[-OUTPUT_LINES:])}


@router.get("/student/handins")
def handins(me: Student, console: ConsoleDep) -> list[HandIn]:
    """The student's hand-ins, newest first: a portfolio (each with its code and result)."""
    return console.db.work.handins(me.student_id)


@router.get("/student/handins/{handin_id}")
def one_handin(handin_id: str, me: Student, console: ConsoleDep) -> HandIn:
    """One of the student's own hand-ins (another student's answers 404)."""
    found = console.db.work.handin(handin_id)
    if found is None or found.student_id != me.student_id:
        raise HTTPException(404, "no such hand-in / 没有这份作业")
    return found
