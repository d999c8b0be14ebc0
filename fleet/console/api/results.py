"""Results: the list, its CSV and xAPI exports, and the console's counters.

Every list takes the same filters (:func:`fleet.console.api.deps.result_filter`):
``device``, ``student`` (the display name), ``student_id`` (the pseudonym),
``roster`` (the class), ``lesson``, ``status``, ``since`` and ``until``.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from fleet.console.api.deps import ConsoleDep, ResultQuery, Teacher
from fleet.console.api.models import Stats
from fleet.console.store import Result
from fleet.console.web import xapi_statements

__all__ = ["CSV_COLUMNS", "router"]

router = APIRouter(prefix="/api/v1", tags=["results"])

#: The CSV export's header row.
CSV_COLUMNS = (
    "received",
    "device",
    "student",
    "student_id",
    "class",
    "lesson",
    "status",
    "score",
    "job",
    "result_id",
)


@router.get("/results")
def results(console: ConsoleDep, _user: Teacher, where: ResultQuery) -> list[Result]:
    """Results, oldest first, with each student's display name, pseudonym and class."""
    return console.db.results.matching(where)


@router.get("/results.csv", response_class=PlainTextResponse)
def results_csv(console: ConsoleDep, _user: Teacher, where: ResultQuery) -> PlainTextResponse:
    """The results as CSV, for the teacher and the school office: the display name next to
    the pseudonym."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for r in console.db.results.matching(where):
        writer.writerow(
            [
                datetime.fromtimestamp(r.received, UTC).isoformat(timespec="seconds"),
                r.device,
                r.student or "",
                r.student_id or "",
                r.roster or "",
                r.lesson_id or "",
                r.status.value,
                "" if r.score is None else r.score,
                r.job,
                r.result_id,
            ]
        )
    return PlainTextResponse(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="results.csv"'},
    )


@router.get("/results.xapi")
def results_xapi(
    request: Request, console: ConsoleDep, _user: Teacher, where: ResultQuery
) -> JSONResponse:
    """The results as xAPI statements for a school's learning-record store (a download)."""
    base = str(request.base_url).rstrip("/")
    return JSONResponse(
        xapi_statements(console.db.results.matching(where), base),
        headers={"Content-Disposition": 'attachment; filename="results-xapi.json"'},
    )


@router.get("/stats")
def stats(console: ConsoleDep, _user: Teacher) -> Stats:
    """Messages dropped on receipt, and results stored once or received again."""
    return Stats(
        dropped=console.drops.snapshot(),
        results_stored=console.results_stored,
        results_duplicate=console.results_duplicate,
    )
