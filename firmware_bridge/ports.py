"""Serial ports that may hold a board, and finding the same board again after a replug."""

from __future__ import annotations

import logging
import os
from dataclasses import asdict, dataclass
from typing import Any

from serial.tools import list_ports

from firmware_bridge.boards import USB_IDS

__all__ = ["PortInfo", "describe", "find_again", "list_boards"]

logger = logging.getLogger(__name__)

# (vid, pid) -> (board guess, note), from the table of board kinds
KNOWN: dict[tuple[int, int], tuple[str, str]] = {
    ids: (board, note) for ids, (_, board, note) in USB_IDS.items()
}


@dataclass(frozen=True)
class PortInfo:
    """One serial port and what we can tell about it."""

    device: str
    vid: int | None
    pid: int | None
    serial_number: str | None
    location: str | None
    description: str
    board: str
    note: str
    kind: str = ""  # a key of firmware_bridge.boards.KINDS, "" when unknown

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["vid"] = None if self.vid is None else f"{self.vid:04x}"
        out["pid"] = None if self.pid is None else f"{self.pid:04x}"
        return out


def describe(port: Any) -> PortInfo:
    """A PortInfo from a pyserial ListPortInfo."""
    board, note = KNOWN.get((port.vid, port.pid), ("", ""))
    if port.vid is not None and not board:
        board = "unknown USB serial device"
    if port.vid is not None and not port.serial_number and not note:
        note = "no serial number, identified by USB location"
    return PortInfo(
        device=port.device,
        vid=port.vid,
        pid=port.pid,
        serial_number=port.serial_number or None,
        location=port.location or None,
        description=port.description or "",
        board=board,
        note=note,
        kind=USB_IDS.get((port.vid, port.pid), ("", "", ""))[0],
    )


def list_boards(include_all: bool = False) -> list[PortInfo]:
    """USB serial ports (all serial ports with ``include_all``), sorted by device."""
    ports = [describe(p) for p in list_ports.comports(include_links=False)]
    if not include_all:
        ports = [p for p in ports if p.vid is not None]
    return sorted(ports, key=lambda p: p.device)


def find_again(device: str, identity: PortInfo | None) -> str:
    """Where the board once at ``device`` is now (same serial number, else same USB location).

    A board that re-enumerates after a replug may come back as another
    /dev/ttyUSBn; a path that is not a USB port (a pty, a by-id link) is
    returned unchanged.
    """
    if identity is None or identity.vid is None:
        return device
    for port in list_ports.comports():
        if (port.vid, port.pid) != (identity.vid, identity.pid):
            continue
        if identity.serial_number and port.serial_number == identity.serial_number:
            return str(port.device)
        if not identity.serial_number and identity.location and port.location == identity.location:
            return str(port.device)
    return device


def identify(device: str) -> PortInfo | None:
    """The PortInfo of ``device`` if it is a USB serial port, else None."""
    real = os.path.realpath(device)
    for port in list_ports.comports():
        if port.device in (device, real):
            return describe(port)
    return None
