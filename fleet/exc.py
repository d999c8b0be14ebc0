"""Errors raised by ``fleet``.

::

    FleetError
     └── BrokerError (also RuntimeError)
      └── PortInUseError
"""

from __future__ import annotations

__all__ = ["BrokerError", "FleetError", "PortInUseError"]


class FleetError(Exception):
    """Root of every error ``fleet`` raises."""


class BrokerError(FleetError, RuntimeError):
    """The MQTT broker could not be started, reached or configured."""


class PortInUseError(BrokerError):
    """Another program already listens on the broker's port."""
