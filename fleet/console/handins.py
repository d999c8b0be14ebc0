"""Grading a student's hand-in in the simulator on the console, a few at a time.

The run is the one every lesson run is (:func:`lessons.runner.run_lesson`:
the program in the sandbox, simulated time, the grader here from the
lesson's own folder), so the score is the one a robot's runner would give
the same code in the same world, and nothing the program does reaches the
grader or the store. At most :data:`AT_ONCE` grade at once (one per core);
the others wait their turn.

::

    grader = SimGrader()
    outcome = grader.grade(lesson, code)      # LessonResult.as_dict()
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lessons.model import Lesson

__all__ = ["AT_ONCE", "SimGrader"]

logger = logging.getLogger(__name__)

#: Hand-ins graded at once: one per core.
AT_ONCE = max(1, os.cpu_count() or 1)


class SimGrader:
    """Grades programs against a lesson in the simulator, at most ``at_once`` together."""

    def __init__(self, at_once: int = AT_ONCE) -> None:
        self._slots = threading.BoundedSemaphore(at_once)

    def grade(self, lesson: Lesson, code: str) -> dict[str, Any]:
        """Run ``code`` for ``lesson`` in the sandbox and grade it: the result as stored."""
        from lessons.runner import run_lesson  # noqa: PLC0415 - the simulator, only when grading

        with self._slots, tempfile.TemporaryDirectory(prefix="roboclass-handin-") as folder:
            program = Path(folder) / lesson.model.entry
            program.write_text(code, encoding="utf-8")
            result = run_lesson(lesson, code=program, backend="sim")
        logger.info("graded a hand-in of %s: %s %d", lesson.id, result.status, result.score)
        return result.as_dict()
