"""Classes and their pseudonymous students; deleting a class's data."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException

from fleet.console.api.deps import ConsoleDep, Teacher
from fleet.console.api.models import Purge
from fleet.console.store import Purged, Roster, Student

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["roster"])


@router.get("/students")
def students(console: ConsoleDep, _user: Teacher, roster: str | None = None) -> list[Student]:
    """Students (of one class, or all) with their robots and how many results they have."""
    return console.db.rosters.students(roster)


@router.get("/rosters")
def rosters(console: ConsoleDep, _user: Teacher) -> list[Roster]:
    """Each class with how many students and results it has."""
    return console.db.rosters.list()


@router.post("/rosters/{roster}/purge")
def purge(roster: str, body: Purge, console: ConsoleDep, user: Teacher) -> Purged:
    """Delete a class: its students' names, results and jobs (the name typed again), their
    teach pictures and models on every robot, and (with the district link on) the district's
    pseudonymous copies of their results; audited."""
    if body.confirm != roster:
        raise HTTPException(400, f"type the class name {roster!r} to confirm")
    if not console.db.rosters.exists(roster):
        raise HTTPException(404, f"no class {roster!r}")
    students = [s.id for s in console.db.rosters.students(roster)]
    purged = console.purge(roster, user)
    console.teach.purge(students)  # every robot deletes their teach pictures and models
    return purged
