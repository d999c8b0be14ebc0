"""The built-in lesson library (``lessons/library/``) and the teacher's own lessons."""

from __future__ import annotations

from pathlib import Path

from lessons.errors import LessonFormatError
from lessons.model import Lesson, load_lesson
from rcbase import paths

__all__ = ["LIBRARY", "builtin_lessons", "find_lesson", "lesson_folders"]

LIBRARY = Path(__file__).with_name("library")
BAND_ORDER = {"perceive": 0, "apply": 1, "create": 2}


def lesson_folders() -> list[Path]:
    """Every folder with a lesson.yaml: the teacher's (data dir) first, then the built-in ones."""
    roots = [paths().data / "lessons", LIBRARY]
    return [p.parent for root in roots if root.is_dir() for p in sorted(root.glob("*/lesson.yaml"))]


def builtin_lessons() -> list[Lesson]:
    """The built-in lessons, by band then id."""
    found = [load_lesson(p.parent) for p in sorted(LIBRARY.glob("*/lesson.yaml"))]
    return sorted(found, key=lambda lesson: (BAND_ORDER[lesson.model.band], lesson.id))


def find_lesson(name_or_path: str | Path) -> Lesson:
    """A lesson by id (teacher's first, then built-in) or by folder path."""
    path = Path(name_or_path)
    if (path / "lesson.yaml").is_file():
        return load_lesson(path)
    for folder in lesson_folders():
        if folder.name == str(name_or_path):
            return load_lesson(folder)
    known = ", ".join(sorted(f.name for f in lesson_folders()))
    raise LessonFormatError(f"no lesson called {str(name_or_path)!r}; known lessons: {known}")
