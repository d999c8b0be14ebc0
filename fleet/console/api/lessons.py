"""The built-in lessons: their ids for pushing, and the library page."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from fleet.console.api.deps import Teacher
from fleet.console.api.models import LessonItem
from fleet.console.web import library

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["lessons"])


@router.get("/lessons")
def lesson_list(_user: Teacher) -> list[LessonItem]:
    """The built-in lessons' ids and English titles."""
    import lessons  # noqa: PLC0415 - only when a teacher asks: the console starts without them

    builtin = getattr(lessons, "builtin_lessons", None)
    if builtin is None:
        return []
    return [LessonItem(id=lesson.id, title=lesson.model.title.en) for lesson in builtin()]


@router.get("/library")
def lessons_library(_user: Teacher) -> list[dict[str, Any]]:
    """The built-in lessons with zh/en titles, summaries and steps (a broken one is left out)."""
    return library()
