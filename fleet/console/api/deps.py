"""What the console's routes depend on: the console, the teacher or the student, the result
filters.

A request with a student's session and no teacher's login gets 403 from every teacher
route (not 401: logging in again would not help); a teacher's login is not a student.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, HTTPException, Query, Request

from fleet.console.console import Console
from fleet.console.simruns import SimRuns
from fleet.console.store import ResultFilter, StudentSession
from fleet.console.websecurity import request_token, student_token

__all__ = [
    "ConsoleDep",
    "ResultQuery",
    "Student",
    "Teacher",
    "client_key",
    "get_console",
    "result_filter",
    "simruns",
    "student",
    "teacher",
]

#: What a student's session gets from a teacher's route.
TEACHERS_ONLY = "this is for teachers: your workspace is at /s/ / 这是老师用的：你的学习空间在 /s/"


def get_console(request: Request) -> Console:
    """The console the app serves (``app.state.console``)."""
    console: Console = request.app.state.console
    return console


def teacher(request: Request) -> str:
    """The teacher a bearer token (or the page's session cookie) belongs to, else 401."""
    token, _kind = request_token(request)
    user = get_console(request).db.accounts.token_user(token) if token else None
    if user is None:
        if student_session(request) is not None:
            raise HTTPException(403, TEACHERS_ONLY)
        raise HTTPException(
            401,
            "log in first: POST /api/v1/login, or pass an API token",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return user


def student_session(request: Request) -> StudentSession | None:
    """The student's live session this request carries, if any."""
    token = student_token(request)
    return get_console(request).db.classes.session(token) if token else None


def student(request: Request) -> StudentSession:
    """The student whose session cookie this request carries, else 401."""
    found = student_session(request)
    if found is None:
        raise HTTPException(401, "join your class first: open /s/ / 请先加入你的班级：打开 /s/")
    return found


def simruns(app: Any) -> SimRuns:
    """The console's simulator runs (:mod:`fleet.console.simruns`), made the first time a
    class period or a Run needs them (their worker processes then start);
    :class:`~fleet.console.api.server.ApiServer` closes them."""
    with app.state.simruns_lock:
        if app.state.simruns is None:
            app.state.simruns = SimRuns()
        runs: SimRuns = app.state.simruns
        return runs


def result_filter(
    device: str | None = None,
    student: Annotated[str | None, Query(description="the student's display name")] = None,
    lesson: str | None = None,
    status: str | None = None,
    since: Annotated[
        float | None, Query(description="received at or after (s since the epoch)")
    ] = None,
    student_id: Annotated[str | None, Query(description="the student's pseudonym")] = None,
    roster: Annotated[str | None, Query(description="the class")] = None,
    until: Annotated[float | None, Query(description="received before (s since the epoch)")] = None,
) -> ResultFilter:
    """The filters of ``/api/v1/results``, its CSV and xAPI exports (and the page's charts)."""
    return ResultFilter(device, student, lesson, status, since, student_id, roster, until)


def client_key(request: Request, name: str) -> tuple[str, str, str]:
    """What failed logins are counted by: the name tried and the client's address."""
    return ("login", name, request.client.host if request.client else "?")


# Module level: FastAPI resolves these annotations by name (postponed evaluation).
ConsoleDep = Annotated[Console, Depends(get_console)]
Teacher = Annotated[str, Depends(teacher)]
Student = Annotated[StudentSession, Depends(student)]
ResultQuery = Annotated[ResultFilter, Depends(result_filter)]
