"""What the district's store answers: frozen records; ``to_json()`` is what the API sends.

None of them holds a student's name: ``student`` is the school's pseudonym
for the district (``p-`` and 16 hex digits), never the school's own id.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

__all__ = [
    "ClassProgress",
    "LiveCount",
    "Record",
    "ResultFilter",
    "ResultRow",
    "School",
    "SchoolProgress",
    "StoredResult",
]


class Record:
    """A row the store answers with; :meth:`to_json` for the JSON API."""

    __slots__ = ()

    def to_json(self) -> dict[str, Any]:
        """The fields as a plain dict, in field order."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class School(Record):
    """A school the district knows: its consoles' key ids and the rooms seen so far."""

    id: str
    name: str
    added: float
    kids: list[str]
    rooms: list[str]


@dataclass(frozen=True, slots=True)
class ResultRow(Record):
    """One pseudonymous result as ingest stores it (the school's signed message, checked)."""

    result_id: str
    school: str
    room: str
    class_: str
    student: str
    grade_band: str
    lesson_id: str
    score: float | None
    status: str
    at: float
    challenge: str | None = None


@dataclass(frozen=True, slots=True)
class StoredResult(Record):
    """A stored result (``class`` in JSON is ``class_`` here) and when the district got it."""

    result_id: str
    school: str
    room: str
    class_: str
    student: str
    grade_band: str
    lesson_id: str
    score: float | None
    status: str
    at: float
    received: float
    challenge: str | None

    def to_json(self) -> dict[str, Any]:
        data = Record.to_json(self)
        data["class"] = data.pop("class_")
        return data


@dataclass(frozen=True, slots=True)
class ResultFilter:
    """Which results to list or count: every field that is not ``None`` must match."""

    school: str | None = None
    lesson: str | None = None
    grade_band: str | None = None
    class_: str | None = None
    challenge: str | None = None
    since: float | None = None
    until: float | None = None


@dataclass(frozen=True, slots=True)
class SchoolProgress(Record):
    """One school's results (under a filter): how many, by how many students, how well."""

    school: str
    results: int
    students: int
    lessons: int
    succeeded: int
    mean_score: float | None
    last: float | None


@dataclass(frozen=True, slots=True)
class ClassProgress(Record):
    """One class of one school: the same counts as :class:`SchoolProgress`."""

    school: str
    room: str
    class_: str
    results: int
    students: int
    lessons: int
    succeeded: int
    mean_score: float | None
    last: float | None

    def to_json(self) -> dict[str, Any]:
        data = Record.to_json(self)
        data["class"] = data.pop("class_")
        return data


@dataclass(frozen=True, slots=True)
class LiveCount(Record):
    """A room's newest live counts, as its console last sent them."""

    school: str
    room: str
    robots_online: int
    robots_known: int
    lessons_running: int
    at: float
    received: float
