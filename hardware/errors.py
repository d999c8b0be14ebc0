"""Errors raised by ``hardware``.

Every error is a :class:`HardwareError` and also a standard Python error, so
``except ValueError`` works as a student expects::

    HardwareError
     ├── KitError (also ValueError)            a kit profile is wrong or missing
     ├── MissingPartError (also AttributeError) the kit has no such part
     ├── BadValueError (also ValueError)        e.g. a motor value outside -1..1
     ├── DeviceClosedError (also RuntimeError)  the device was closed
     ├── BackendError (also RuntimeError)       a backend cannot start or lacks a feature
 │    └── BackendOptionError (also TypeError) an option the backend does not understand
     └── SensorError (also OSError)             a sensor gave no reading
"""

from __future__ import annotations

__all__ = [
    "BackendError",
    "BackendOptionError",
    "BadValueError",
    "DeviceClosedError",
    "HardwareError",
    "KitError",
    "MissingPartError",
    "SensorError",
]


class HardwareError(Exception):
    """Root of every error ``hardware`` raises."""


class KitError(HardwareError, ValueError):
    """A kit profile is missing or wrong."""


class MissingPartError(HardwareError, AttributeError):
    """The robot's kit has no such part."""


class BadValueError(HardwareError, ValueError):
    """A value is outside what the device accepts."""


class DeviceClosedError(HardwareError, RuntimeError):
    """The device was closed and cannot be used any more."""


class BackendError(HardwareError, RuntimeError):
    """A backend cannot start, or cannot drive this kind of part."""


class BackendOptionError(BackendError, TypeError):
    """An option (``Robot(realtime=False)``, ...) that the chosen backend does not understand."""


class SensorError(HardwareError, OSError):
    """A sensor gave no reading."""
