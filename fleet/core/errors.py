"""Errors raised by ``fleet``.

::

    FleetError
     ├── BrokerError (also RuntimeError)
     │    └── PortInUseError
     ├── JobError (also RuntimeError): a job could not be fetched or run
     │    └── JobRejected: what the job names failed a check (sha256, size, manifest)
     ├── ModelPushError (also ValueError): a model the teacher pushes is refused
     ├── PreviewError (also RuntimeError): a camera preview cannot start or send
     ├── SimRunError (also RuntimeError): a student's run in the simulator cannot start
     ├── DistrictLibError (also RuntimeError): the district's library is unreachable or refused
     └── ConsoleApiError (also RuntimeError): the console's API said no
"""

from __future__ import annotations

from rcbase.i18n import Text

__all__ = [
    "BrokerError",
    "ConsoleApiError",
    "DistrictLibError",
    "FleetError",
    "JobError",
    "JobRejected",
    "ModelPushError",
    "PortInUseError",
    "PreviewError",
    "SimRunError",
    "StoreError",
]


class FleetError(Exception):
    """Root of every error ``fleet`` raises."""


class BrokerError(FleetError, RuntimeError):
    """The MQTT broker could not be started, reached or configured."""


class PortInUseError(BrokerError):
    """Another program already listens on the broker's port."""


class JobError(FleetError, RuntimeError):
    """A job's bundle could not be fetched or verified, or the job could not run."""


class JobRejected(JobError):
    """A bundle or model the job names does not match its sha256, is too large or is
    malformed: the device answers REJECTED (not FAILED) and keeps nothing of it."""


class ModelPushError(FleetError, ValueError):
    """The console refuses a model: ``status`` is the HTTP status the API answers with.

    The message is in English and Chinese (``"... / ..."``), for the teacher's screen.
    """

    def __init__(self, status: int, en: str, zh: str) -> None:
        super().__init__(f"{en} / {zh}")
        self.status = status


class PreviewError(FleetError, RuntimeError):
    """A camera preview cannot start (too many on) or a frame cannot be sent."""


class SimRunError(FleetError, RuntimeError):
    """A student's run in the simulator cannot start: ``status`` is the HTTP status the API
    answers with, ``text`` what to do next in English and Chinese."""

    def __init__(self, status: int, text: Text) -> None:
        super().__init__(f"{text.en} / {text.zh}")
        self.status = status
        self.text = text


class DistrictLibError(FleetError, RuntimeError):
    """The district's lesson library cannot be reached, or what it sent failed a check (a
    signature, a sha256): ``status`` is the HTTP status the console's API answers with,
    ``text`` what to do next in English and Chinese."""

    def __init__(self, status: int, text: Text) -> None:
        super().__init__(f"{text.en} / {text.zh}")
        self.status = status
        self.text = text


class ConsoleApiError(FleetError, RuntimeError):
    """The console's JSON API refused a request or could not be reached."""


class StoreError(FleetError, RuntimeError):
    """The console's database cannot be used here (an SQLite too old, say)."""
