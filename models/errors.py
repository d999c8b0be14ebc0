"""What can go wrong with a model, as one tree of errors::

ModelError
├── ModelNotFoundError (also LookupError)   no model of that name or path
├── ManifestError (also ValueError)         the manifest is wrong; names file:line
└── ModelFileError (also ValueError)        the .onnx is missing, changed (sha256) or
                                            does not match its manifest
"""

from __future__ import annotations

from rcbase import ConfigError, Lang, Text

__all__ = ["ManifestError", "ModelError", "ModelFileError", "ModelNotFoundError"]


class ModelError(Exception):
    """Something is wrong with a model; ``text(lang)`` says what in English or Chinese."""

    def __init__(self, message: Text) -> None:
        self.message = message
        super().__init__(message.en)

    def text(self, lang: Lang) -> str:
        return self.message(lang)


class ModelNotFoundError(ModelError, LookupError):
    """No model of that name (or no file at that path)."""


class ManifestError(ModelError, ValueError):
    """A manifest could not be read; ``config_error`` lists every line that is wrong."""

    def __init__(self, config_error: ConfigError) -> None:
        self.config_error = config_error
        super().__init__(Text(config_error.text("en"), config_error.text("zh")))


class ModelFileError(ModelError, ValueError):
    """The model file is missing, has changed since its manifest was written, or does not
    match what the manifest says (input size, number of labels)."""
