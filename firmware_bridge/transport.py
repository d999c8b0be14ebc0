"""What the link needs from a serial port, and the real one (pyserial).

Tests pass another ``transport`` (:meth:`firmware_bridge.FakeBoard.transport`):
a function of ``(device, baud)`` that returns a :class:`SerialLike`.
"""

from __future__ import annotations

from typing import Protocol

import serial

__all__ = ["DEFAULT_BAUD", "READ_TIMEOUT", "SerialLike", "open_serial"]

DEFAULT_BAUD = 115200
READ_TIMEOUT = 0.02  # seconds a read waits; bounds how fast the reader notices close()
WRITE_TIMEOUT = 0.5


class SerialLike(Protocol):
    """What the connection needs from a port (pyserial's Serial has it)."""

    @property
    def in_waiting(self) -> int: ...
    def read(self, size: int = 1) -> bytes: ...
    def write(self, data: bytes, /) -> int | None: ...
    def close(self) -> None: ...


def open_serial(device: str, baud: int) -> SerialLike:
    """pyserial, with timeouts so no call can block for ever."""
    port = serial.Serial(device, baud, timeout=READ_TIMEOUT, write_timeout=WRITE_TIMEOUT)
    return port  # type: ignore[no-any-return]
