"""Results across schools: ``/api/v1/results`` and the progress views.

Every route takes the same filters (school, lesson, grade_band, class,
challenge, since, until). No route ever answers with a student's name:
the district has none (docs/security.md).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from district.api.deps import Staff, StoreDep
from district.records import ResultFilter
from district.results import MAX_LIST

__all__ = ["ResultQuery", "result_filter", "router"]

router = APIRouter(prefix="/api/v1", tags=["results"])


def result_filter(
    school: str | None = None,
    lesson: str | None = None,
    grade_band: str | None = None,
    class_: Annotated[
        str | None, Query(alias="class", description="the class at its school")
    ] = None,
    challenge: str | None = None,
    since: Annotated[
        float | None, Query(description="received at or after (s since the epoch)")
    ] = None,
    until: Annotated[float | None, Query(description="received before (s since the epoch)")] = None,
) -> ResultFilter:
    """The filters every results route takes."""
    return ResultFilter(school, lesson, grade_band, class_, challenge, since, until)


ResultQuery = Annotated[ResultFilter, Depends(result_filter)]


@router.get("/results")
def results(
    where: ResultQuery,
    store: StoreDep,
    _who: Staff,
    limit: Annotated[int, Query(ge=1, le=MAX_LIST)] = 1000,
) -> dict[str, Any]:
    """Pseudonymous results, oldest received first, and how many match in all."""
    found = store.results.list(where, limit=limit)
    return {"total": store.results.count(where), "results": [r.to_json() for r in found]}


@router.get("/progress/schools")
def by_school(where: ResultQuery, store: StoreDep, _who: Staff) -> list[dict[str, Any]]:
    """Per school: results, students, lessons, succeeded, mean score."""
    return [p.to_json() for p in store.results.by_school(where)]


@router.get("/progress/classes")
def by_class(where: ResultQuery, store: StoreDep, _who: Staff) -> list[dict[str, Any]]:
    """Per class of each school (filter by ``school`` for one school's classes)."""
    return [p.to_json() for p in store.results.by_class(where)]


@router.get("/progress/lessons")
def by_lesson(where: ResultQuery, store: StoreDep, _who: Staff) -> list[dict[str, Any]]:
    """Per lesson and grade band across schools."""
    return store.results.by_lesson(where)
