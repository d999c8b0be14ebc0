"""What the student side's stores answer: class periods, student sessions, code, hand-ins.

Frozen records like :mod:`fleet.console.store.records` (``to_json()`` for the API).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from fleet.console.store.records import Record

__all__ = ["CodeVersion", "HandIn", "Period", "PinKind", "Place", "StudentSession"]


class PinKind(StrEnum):
    """How a student proves who they are: 4-6 digits, or 3 of 9 pictures (grades 1-3)."""

    DIGITS = "digits"
    PICTURES = "pictures"


class Place(StrEnum):
    """Where a program runs or a hand-in is graded."""

    SIM = "sim"
    ROBOT = "robot"


@dataclass(frozen=True, slots=True)
class Period(Record):
    """A class period: students of ``roster`` join it with ``code`` until it ends."""

    id: str
    roster: str
    code: str
    lesson_id: str | None
    started: float
    ends: float
    ended: float | None
    teacher: str


@dataclass(frozen=True, slots=True)
class StudentSession(Record):
    """A student signed in to a period: who they are, and the robot bound to them."""

    student_id: str
    name: str
    roster: str
    period_id: str
    lesson_id: str | None
    expires: float
    #: The robot bound to the student (the first, when a teacher bound several).
    device: str | None
    #: Whether the class may see a robot's camera on the student's page (the teacher's switch).
    camera_panel: bool = True


@dataclass(frozen=True, slots=True)
class CodeVersion(Record):
    """One saved version of a student's program for a lesson."""

    student_id: str
    lesson_id: str
    version: int
    code: str
    saved: float
    #: The block program that made ``code`` (Blockly's JSON), for a lesson done in blocks.
    blocks: str | None = None


@dataclass(frozen=True, slots=True)
class HandIn(Record):
    """A program a student handed in, byte for byte, and the result it earned (once graded)."""

    id: str
    student_id: str
    lesson_id: str
    place: Place
    job: str
    code_sha256: str
    code: str
    created: float
    #: The stored result's status and score (``None`` until the grade arrives).
    status: str | None
    score: float | None
    #: The grader's report: outcome, rubric, feedback (``None`` until graded).
    result: dict[str, object] | None
