"""Errors raised by ``fleet``.

::

    FleetError
     ├── BrokerError (also RuntimeError)
     │    └── PortInUseError
     ├── JobError (also RuntimeError): a job could not be fetched or run
     └── ConsoleApiError (also RuntimeError): the console's API said no
"""

from __future__ import annotations

__all__ = ["BrokerError", "ConsoleApiError", "FleetError", "JobError", "PortInUseError"]


class FleetError(Exception):
    """Root of every error ``fleet`` raises."""


class BrokerError(FleetError, RuntimeError):
    """The MQTT broker could not be started, reached or configured."""


class PortInUseError(BrokerError):
    """Another program already listens on the broker's port."""


class JobError(FleetError, RuntimeError):
    """A job's bundle could not be fetched or verified, or the job could not run."""


class ConsoleApiError(FleetError, RuntimeError):
    """The console's JSON API refused a request or could not be reached."""
