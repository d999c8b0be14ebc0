"""Lessons: the format, bundles, the safe runner, grading, and the built-in library.

For teachers and scripts::

    from lessons import builtin_lessons, run_lesson

    lesson = builtin_lessons()[0]
    result = run_lesson(lesson, code="student.py")    # in the simulator
    print(result.score, result.grade.feedback["zh"])

For students, inside a lesson::

    from lessons import report
    report("laps", 3)
"""

from __future__ import annotations

from lessons.bundle import bundle_sha256, pack_bundle, unpack_bundle
from lessons.errors import (
    BundleError,
    LessonError,
    LessonFormatError,
    ModelMissingError,
    RunnerError,
)
from lessons.grading import Grade, RubricItem, Run, RunStatus, SimTruth, item
from lessons.library import builtin_lessons, find_lesson
from lessons.model import Lesson, LessonModel, load_lesson
from lessons.runner import LessonResult, Outcome, run_lesson
from lessons.student import report

__all__ = [
    "BundleError",
    "Grade",
    "Lesson",
    "LessonError",
    "LessonFormatError",
    "LessonModel",
    "LessonResult",
    "ModelMissingError",
    "Outcome",
    "RubricItem",
    "Run",
    "RunStatus",
    "RunnerError",
    "SimTruth",
    "builtin_lessons",
    "bundle_sha256",
    "find_lesson",
    "item",
    "load_lesson",
    "pack_bundle",
    "report",
    "run_lesson",
    "unpack_bundle",
]
