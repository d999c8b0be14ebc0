"""Lessons: the format, bundles, the safe runner, grading, and the built-in library.

For teachers and scripts::

    from lessons import builtin_lessons, run_lesson

    lesson = builtin_lessons()[0]
    result = run_lesson(lesson, code="student.py")    # in the simulator
    print(result.score, result.grade.feedback["zh"])

For students, inside a lesson::

    from lessons import report
    report("laps", 3)

A lesson's grader (``check.py``) takes what it needs from :mod:`lessons.grading`;
the lesson.yaml format itself is :mod:`lessons.model`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lessons.bundle import bundle_sha256, pack_bundle, unpack_bundle
from lessons.errors import (
    BundleError,
    LessonError,
    LessonFormatError,
    ModelMissingError,
    RunnerError,
)
from lessons.grading import Grade
from lessons.library import builtin_lessons, find_lesson
from lessons.model import Lesson, load_lesson
from lessons.runner import LessonResult, run_lesson
from lessons.student import report
from rcbase.deprecation import moved_names as _moved_names

__all__ = [
    "BundleError",
    "Grade",
    "Lesson",
    "LessonError",
    "LessonFormatError",
    "LessonResult",
    "ModelMissingError",
    "RunnerError",
    "builtin_lessons",
    "bundle_sha256",
    "find_lesson",
    "load_lesson",
    "pack_bundle",
    "report",
    "run_lesson",
    "unpack_bundle",
]

# Names this package exported before, and the module each one lives in: they import
# for one more release, with a warning (editors and mypy see only ``__all__``).
_MOVED = {
    "LessonModel": "lessons.model",
    "RubricItem": "lessons.grading",
    "Run": "lessons.grading",
    "item": "lessons.grading",
}

if not TYPE_CHECKING:
    __getattr__ = _moved_names(__name__, _MOVED)
