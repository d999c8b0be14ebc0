"""Errors raised by ``lessons``.

::

    LessonError
     ├── LessonFormatError (also ValueError)   lesson.yaml or a lesson file is wrong
     ├── BundleError (also ValueError)         a bundle is unsafe, damaged or too large
     └── RunnerError (also RuntimeError)       the runner could not run the lesson
          ├── ModelMissingError (also LookupError)  a model the lesson needs is not here
          └── SandboxError                          no sandbox can be made for the program
"""

from __future__ import annotations

from rcbase import Lang, Text

__all__ = [
    "BundleError",
    "LessonError",
    "LessonFormatError",
    "ModelMissingError",
    "RunnerError",
    "SandboxError",
]


class LessonError(Exception):
    """Root of every error ``lessons`` raises."""


class LessonFormatError(LessonError, ValueError):
    """A lesson's files are wrong; the message names the file and line."""


class BundleError(LessonError, ValueError):
    """A bundle is unsafe, damaged or too large."""


class RunnerError(LessonError, RuntimeError):
    """The lesson could not be run."""


class SandboxError(RunnerError):
    """A sandbox for an untrusted program cannot be made here (the message says how to fix it)."""


class ModelMissingError(RunnerError, LookupError):
    """A model the lesson needs (``models``, ``own_model``) is missing or does not fit.

    ``str()`` gives English, then Chinese on the next line; ``text(lang)`` one of them.
    """

    def __init__(self, message: Text) -> None:
        super().__init__(f"{message.en}\n{message.zh}")
        self.message = message

    def text(self, lang: Lang) -> str:
        return self.message(lang)
