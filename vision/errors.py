"""Errors of :mod:`vision`::

    VisionError
    ├── FrameError (also ValueError)       a frame that is not an image (shape, dtype)
    ├── StaleFrameError (also TimeoutError) no new frame came in time
    └── RunnerClosedError (also RuntimeError) the model or pipeline was closed

Errors about model files come from :mod:`models` (``ModelError`` and its leaves).
"""

from __future__ import annotations

__all__ = ["FrameError", "RunnerClosedError", "StaleFrameError", "VisionError"]


class VisionError(Exception):
    """Root of the errors raised by :mod:`vision`."""


class FrameError(VisionError, ValueError):
    """The frame is not an image this model can take."""


class StaleFrameError(VisionError, TimeoutError):
    """No new frame arrived in time (is the camera still running?)."""


class RunnerClosedError(VisionError, RuntimeError):
    """The model or the pipeline was already closed."""
