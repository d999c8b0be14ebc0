"""Errors raised by ``lessons``.

::

    LessonError
     ├── LessonFormatError (also ValueError)   lesson.yaml or a lesson file is wrong
     ├── BundleError (also ValueError)         a bundle is unsafe, damaged or too large
     └── RunnerError (also RuntimeError)       the runner could not run the lesson
"""

from __future__ import annotations

__all__ = ["BundleError", "LessonError", "LessonFormatError", "RunnerError"]


class LessonError(Exception):
    """Root of every error ``lessons`` raises."""


class LessonFormatError(LessonError, ValueError):
    """A lesson's files are wrong; the message names the file and line."""


class BundleError(LessonError, ValueError):
    """A bundle is unsafe, damaged or too large."""


class RunnerError(LessonError, RuntimeError):
    """The lesson could not be run."""
