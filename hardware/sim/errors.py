"""Errors of the simulator core.

::

    SimError
     ├── UnknownStartError (also KeyError)   a start pose name the world does not have
     ├── UnknownWorldError (also KeyError)   a shipped world name that does not exist
     ├── SimValueError (also ValueError)     a bad argument (NaN motor value, negative step, ...)
     └── TruthFormatError (also ValueError)  a truth record's JSON with an unknown or missing field

World files that cannot be read raise :class:`rcbase.ConfigError`.
"""

from __future__ import annotations

__all__ = [
    "SimError",
    "SimValueError",
    "TruthFormatError",
    "UnknownStartError",
    "UnknownWorldError",
]


class SimError(Exception):
    """Root of the simulator's own errors."""


class UnknownStartError(SimError, KeyError):
    """The world has no start pose of that name."""


class SimValueError(SimError, ValueError):
    """An argument is out of range."""


class UnknownWorldError(SimError, KeyError):
    """No shipped world has that name."""


class TruthFormatError(SimError, ValueError):
    """A truth record's JSON has an unknown field, lacks one, or has one of the wrong shape."""
