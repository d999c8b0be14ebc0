"""Errors of :mod:`vision.teach`::

    TeachError (a VisionError)
    ├── DatasetError (also ValueError)       a dataset that is missing, empty, broken or too small
    └── ExportError (also RuntimeError)      the trained model could not be written as ONNX

Every message says what to do next, in English and Chinese (``.text(lang)``).
"""

from __future__ import annotations

from rcbase import Lang, Text
from vision.errors import VisionError

__all__ = ["DatasetError", "ExportError", "TeachError"]


class TeachError(VisionError):
    """Root of the errors raised while collecting, training or exporting."""

    def __init__(self, message: Text) -> None:
        super().__init__(message.en)
        self.message = message

    def text(self, lang: Lang) -> str:
        return self.message(lang)


class DatasetError(TeachError, ValueError):
    """The dataset is missing, empty, broken, or has too few pictures to train on."""


class ExportError(TeachError, RuntimeError):
    """The trained model could not be turned into an ONNX file."""
