"""What the link needs from a serial port, and the real one (pyserial).

Tests pass another ``transport`` (:meth:`firmware_bridge.FakeBoard.transport`):
a function of ``(device, baud)`` that returns a :class:`SerialLike`.
"""

from __future__ import annotations

import os
import select
from typing import Protocol

import serial
import serial.serialposix

__all__ = ["DEFAULT_BAUD", "READ_TIMEOUT", "SerialLike", "open_serial", "read_some"]

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


def read_some(port: SerialLike) -> bytes:
    """What has arrived on ``port`` (at least a byte), or b"" after ``READ_TIMEOUT``.

    A POSIX pyserial port is read with one ``select`` and one ``read`` of all
    that is there: half the CPU of pyserial's ``read(in_waiting)`` when the
    bytes come a few at a time (telemetry at the wire's limit from a pty).
    """
    if not isinstance(port, serial.serialposix.Serial):
        return port.read(port.in_waiting or 1)
    fd = port.fd
    if fd is None:
        raise serial.SerialException("the port is closed")
    ready, _, _ = select.select([fd], [], [], READ_TIMEOUT)
    if not ready:
        return b""
    data = os.read(fd, 4096)
    if not data:  # as pyserial: readable but nothing there means the device went away
        raise serial.SerialException("device reports readiness to read but returned no data")
    return data
