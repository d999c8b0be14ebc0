"""Every error ``firmware_bridge`` raises.

::

    BridgeError                                   root: catch this for any bridge problem
     +-- CorruptFrame(BridgeError, ValueError)    a frame failed COBS, length or CRC checks
     +-- BridgeClosed(BridgeError, RuntimeError)  the Bridge was closed
     +-- BridgeTimeout(BridgeError, TimeoutError) the board did not answer in time
     +-- NoBoard(BridgeError, OSError)            the port cannot be opened / nothing answers HELLO
     +-- VersionMismatch(BridgeError, RuntimeError)  the firmware speaks another protocol major
     +-- CommandRefused(BridgeError, RuntimeError)   the board answered NAK (has .code)
     +-- NotArmed(CommandRefused)                    an output while the board is not armed
     +-- FirmwareMissing(BridgeError, FileNotFoundError)  the built firmware / harness is absent
     +-- BadFirmware(BridgeError, ValueError)       a firmware file is not the image a board takes

Messages say what to do next.
"""

from __future__ import annotations

__all__ = [
    "BadFirmware",
    "BridgeClosed",
    "BridgeError",
    "BridgeTimeout",
    "CommandRefused",
    "CorruptFrame",
    "FirmwareMissing",
    "NoBoard",
    "NotArmed",
    "VersionMismatch",
]


class BridgeError(Exception):
    """Root of every firmware_bridge error."""


class CorruptFrame(BridgeError, ValueError):
    """A frame failed its COBS, length or CRC check."""


class BridgeClosed(BridgeError, RuntimeError):
    """The Bridge is closed; open a new one."""


class BridgeTimeout(BridgeError, TimeoutError):
    """The board did not answer in time."""


class NoBoard(BridgeError, OSError):
    """Nothing usable on that port."""


class VersionMismatch(BridgeError, RuntimeError):
    """The firmware speaks a protocol major version this host does not."""

    def __init__(self, message: str, *, board_major: int, host_major: int, firmware: str) -> None:
        super().__init__(message)
        self.board_major = board_major
        self.host_major = host_major
        self.firmware = firmware


class CommandRefused(BridgeError, RuntimeError):
    """The board refused a command with NAK; ``code`` is the ErrorCode value."""

    def __init__(self, message: str, *, code: int) -> None:
        super().__init__(message)
        self.code = code


class NotArmed(CommandRefused):
    """An output command while the board is not armed (after boot or a fail-safe)."""


class FirmwareMissing(BridgeError, FileNotFoundError):
    """The firmware or the simulator harness has not been built."""


class BadFirmware(BridgeError, ValueError):
    """A firmware file is damaged or for another chip (a UF2 for another family, ...)."""
