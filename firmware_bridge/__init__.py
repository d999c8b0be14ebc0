"""The link to a robot's microcontroller: protocol, host client, firmware, simulated board.

::

    from firmware_bridge import Bridge

    with Bridge.open("/dev/ttyUSB0") as board:   # or SimBoard().port
        board.commands.setup_ultrasonic(trigger=8, echo=12)
        board.arm()
        board.drive(0.4, 0.4)                    # -1..1, streamed at 50 Hz (the heartbeat)
        print(board.wait_telemetry().distance)   # metres

A Bridge owns its connection (``board.link``), its commands
(``board.commands``) and its setpoint streamer (``board.setpoints``).

Imports nothing of ours but ``rcbase``. docs/serial-protocol.md describes the wire.
"""

from __future__ import annotations

from firmware_bridge.client import Bridge, LinkStats, SerialLike
from firmware_bridge.commands import Commands
from firmware_bridge.connection import Connection
from firmware_bridge.errors import (
    BadFirmware,
    BridgeClosed,
    BridgeError,
    BridgeTimeout,
    CommandRefused,
    CorruptFrame,
    FirmwareMissing,
    NoBoard,
    NotArmed,
    VersionMismatch,
)
from firmware_bridge.fake import FakeBoard
from firmware_bridge.messages import Capability, Hello, PinMode, Telemetry
from firmware_bridge.setpoints import SetpointStreamer
from firmware_bridge.simboard import SimBoard

__all__ = [
    "BadFirmware",
    "Bridge",
    "BridgeClosed",
    "BridgeError",
    "BridgeTimeout",
    "Capability",
    "CommandRefused",
    "Commands",
    "Connection",
    "CorruptFrame",
    "FakeBoard",
    "FirmwareMissing",
    "Hello",
    "LinkStats",
    "NoBoard",
    "NotArmed",
    "PinMode",
    "SerialLike",
    "SetpointStreamer",
    "SimBoard",
    "Telemetry",
    "VersionMismatch",
]
