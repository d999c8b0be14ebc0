"""Scripted boards for the flashing backends' tests: ports that come and go, UF2 drives.

A :class:`FakeHub` is a computer with boards plugged in. Its :meth:`FakeHub.env`
is a :class:`~firmware_bridge.flashing.env.FlashEnv` whose port lister,
serial opener (the 1200-baud touch), drive finder and HELLO transport are the
hub's; each time a backend waits (``env.tick()``) the boards take one step.

>>> hub = FakeHub()
>>> leo = hub.add(FakeLeonardo(app="/dev/ttyACM0", boot="/dev/ttyACM1", location="1-1.2:1.0"))
>>> [p.device for p in hub.ports()]
['/dev/ttyACM0']
>>> hub.open_serial("/dev/ttyACM0", 1200).close()       # the touch
>>> hub.step(); hub.step()
>>> [(p.device, f"{p.pid:04x}") for p in hub.ports()]    # the bootloader: a new port
[('/dev/ttyACM1', '0036')]

:mod:`.fake_pty` has the same Leonardo on real ptys, for the real avrdude.

None of this is a board: the integration tests run real bootloaders under
simavr; these cover what simavr cannot (native USB re-enumeration, drives).
"""

from __future__ import annotations

import os
import struct
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import serial

from firmware_bridge.client import SerialLike
from firmware_bridge.fake import FakeBoard
from firmware_bridge.flashing.base import Problem
from firmware_bridge.flashing.env import FlashEnv
from firmware_bridge.flashing.touch import PortClaims, socket_of
from firmware_bridge.flashing.uf2 import (
    FLAG_FAMILY_ID,
    INFO,
    MAGIC_END,
    MAGIC_START0,
    MAGIC_START1,
    RP2040_FAMILY,
    Drive,
    check_uf2,
)
from firmware_bridge.ports import PortInfo
from rcbase.i18n import Text

__all__ = [
    "FakeESP32",
    "FakeHub",
    "FakeLeonardo",
    "FakeRP2040",
    "intel_hex",
    "uf2_image",
]


def intel_hex(data: bytes, base: int = 0) -> str:
    """``data`` as an Intel HEX file (16-byte data records, then the end record)."""
    lines = []
    for off in range(0, len(data), 16):
        chunk = data[off : off + 16]
        addr = base + off
        record = bytes([len(chunk), (addr >> 8) & 0xFF, addr & 0xFF, 0]) + chunk
        lines.append(":" + record.hex().upper() + f"{-sum(record) & 0xFF:02X}")
    return "\n".join([*lines, ":00000001FF"]) + "\n"


def uf2_image(data: bytes, *, base: int = 0x10000000, family: int | None = RP2040_FAMILY) -> bytes:
    """``data`` as a UF2 file: 256 bytes per 512-byte block, marked with ``family``."""
    chunks = [data[i : i + 256] for i in range(0, len(data), 256)] or [b""]
    out = bytearray()
    flags = FLAG_FAMILY_ID if family is not None else 0
    for n, chunk in enumerate(chunks):
        head = struct.pack(
            "<8I", MAGIC_START0, MAGIC_START1, flags, base + 256 * n, 256, n, len(chunks),
            family or 0,
        )  # fmt: skip
        out += head + chunk.ljust(476, b"\0") + struct.pack("<I", MAGIC_END)
    return bytes(out)


def port_info(device: str, vid: int, pid: int, location: str | None, serial_number: str | None,
              kind: str) -> PortInfo:  # fmt: skip
    """A PortInfo as :func:`firmware_bridge.ports.describe` makes them."""
    return PortInfo(device, vid, pid, serial_number, location, "fake", f"fake {kind}", "", kind)


class FakeTouchPort:
    """What the touch opens: records the baud rate and DTR, tells the hub on close."""

    def __init__(self, hub: FakeHub, device: str, baud: int) -> None:
        self.hub, self.device, self.baud = hub, device, baud
        self._dtr = True

    @property
    def dtr(self) -> bool:
        return self._dtr

    @dtr.setter
    def dtr(self, value: bool) -> None:
        self._dtr = value
        self.hub.serial_log.append(("dtr", self.device, int(value)))

    def close(self) -> None:
        self.hub.serial_log.append(("close", self.device, self.baud))
        for board in self.hub.boards:
            board.port_closed(self.device, self.baud, self._dtr)


class FakeBoardBase:
    """A board on the hub: ``ports()`` it shows now, ``step()`` on each tick."""

    hub: FakeHub
    app_board: FakeBoard  # answers the HELLO check on the application port

    def ports(self) -> list[PortInfo]:
        return []

    def drives(self) -> list[Drive]:
        return []

    def step(self) -> None:
        pass

    def port_closed(self, device: str, baud: int, dtr: bool) -> None:
        """Someone closed ``device``, opened at ``baud``, with DTR ``dtr`` (the touch)."""

    def app_device(self) -> str | None:
        return None


@dataclass
class FakeHub:
    """A computer with scripted boards; ``env()`` is its FlashEnv."""

    boards: list[FakeBoardBase] = field(default_factory=list)
    serial_log: list[tuple[str, str, int]] = field(default_factory=list)
    ticks: int = 0
    claims: PortClaims = field(default_factory=PortClaims)  # the env's: what jobs have taken
    _lock: threading.RLock = field(default_factory=threading.RLock)

    def add(self, board: Any) -> Any:
        board.hub = self
        self.boards.append(board)
        return board

    def ports(self) -> list[PortInfo]:
        with self._lock:
            return [p for b in self.boards for p in b.ports()]

    def drives(self) -> list[Drive]:
        with self._lock:
            return [d for b in self.boards for d in b.drives()]

    def step(self) -> None:
        with self._lock:
            self.ticks += 1
            for board in self.boards:
                board.step()

    def open_serial(self, device: str, baud: int) -> FakeTouchPort:
        if device not in {p.device for p in self.ports()}:
            raise serial.SerialException(f"[Errno 2] could not open port {device}: No such file")
        self.serial_log.append(("open", device, baud))
        return FakeTouchPort(self, device, baud)

    def transport(self, device: str, baud: int) -> SerialLike:
        for board in self.boards:
            if board.app_device() == device:
                return board.app_board.transport(device, baud)
        raise serial.SerialException(f"could not open port {device}: No such file or directory")

    def port_check(self, device: str) -> tuple[Problem, Text] | None:
        if device in {p.device for p in self.ports()} or os.path.exists(device):
            return None
        return Problem.NO_PORT, Text(f"{device} does not exist", f"{device} 不存在")

    def env(self, **kwargs: Any) -> FakeEnv:
        options: dict[str, Any] = {
            "list_ports": self.ports,
            "open_serial": self.open_serial,
            "drives": self.drives,
            "transport": self.transport,
            "port_check": self.port_check,
            "esptool": None,
            "picotool": None,
            "poll": 0.0,
            "claims": self.claims,
        }
        options.update(kwargs)
        return FakeEnv(hub=self, **options)


@dataclass
class FakeEnv(FlashEnv):
    """A FlashEnv whose waits step the hub's boards instead of the clock."""

    hub: FakeHub = field(default_factory=FakeHub)

    def tick(self) -> None:
        self.hub.step()
        if self.poll:
            self.stop.wait(self.poll)


@dataclass
class FakeLeonardo(FakeBoardBase):
    """An ATmega32U4 board: a touch at 1200 baud moves it to its bootloader's port.

    ``boot_after`` ticks later the bootloader port (product id 0x0036) is there;
    the first tick after a job has taken that port (it runs avrdude) it leaves,
    and ``app_after`` ticks later the application port is back (as
    ``app_again``, default ``app``). Ticks count whichever job waits, so with
    several jobs a bootloader must not leave before its own job has seen it.
    ``dead``: no bootloader ever comes.
    """

    app: str = "/dev/ttyACM0"
    boot: str = "/dev/ttyACM1"
    location: str | None = "1-1.2:1.0"
    serial_number: str | None = None
    app_again: str | None = None
    boot_after: int = 2
    app_after: int = 2
    dead: bool = False
    app_board: FakeBoard = field(default_factory=lambda: FakeBoard(firmware=(1, 1, 0)))
    mode: str = "app"  # app, touched, boot, leaving
    _count: int = 0

    def app_device(self) -> str | None:
        return self.app if self.mode == "app" else None

    def ports(self) -> list[PortInfo]:
        if self.mode == "app":
            return [
                port_info(self.app, 0x2341, 0x8036, self.location, self.serial_number, "leonardo")
            ]
        if self.mode == "boot":
            return [port_info(self.boot, 0x2341, 0x0036, self.location, None, "leonardo")]
        return []

    def port_closed(self, device: str, baud: int, dtr: bool) -> None:
        if device == self.app and self.mode == "app" and baud == 1200:
            self.mode, self._count = "touched", 0

    def step(self) -> None:
        self._count += 1
        if self.mode == "touched" and not self.dead and self._count >= self.boot_after:
            self.mode, self._count = "boot", 0
        elif self.mode == "boot" and self.boot in self.hub.claims:
            self.mode, self._count = "leaving", 0
        elif self.mode == "leaving" and self._count >= self.app_after:
            self.mode = "app"
            self.app = self.app_again or self.app


@dataclass
class FakeRP2040(FakeBoardBase):
    """An RP2040: the touch turns its serial port into an ``RPI-RP2`` drive (a folder).

    Once a whole, valid UF2 file is in the folder the board "reboots": the
    folder goes, the serial port comes back (as ``app_again``, default
    ``app``) and :attr:`flashed` holds the file. ``drive_root``: where the
    drive folder is made; ``fixed_drive``: a folder that is the drive (as
    with ``--uf2-drive``: not listed by the drive finder). ``stubborn``: the
    board never takes the file.
    """

    drive_root: Path = Path("/nonexistent")
    app: str = "/dev/ttyACM0"
    location: str | None = "1-1.3:1.0"
    serial_number: str | None = None
    app_again: str | None = None
    fixed_drive: Path | None = None
    stubborn: bool = False
    app_board: FakeBoard = field(default_factory=lambda: FakeBoard(firmware=(1, 1, 0)))
    flashed: bytes | None = None
    mode: str = "app"  # app, touched, drive, back
    _count: int = 0

    @property
    def drive_path(self) -> Path:
        if self.fixed_drive is not None:
            return self.fixed_drive
        return self.drive_root / f"RPI-RP2-{socket_of(self.location) or 'x'}"

    def app_device(self) -> str | None:
        return self.app if self.mode == "app" else None

    def ports(self) -> list[PortInfo]:
        if self.mode != "app":
            return []
        return [port_info(self.app, 0x2E8A, 0x000A, self.location, self.serial_number, "rp2040")]

    def drives(self) -> list[Drive]:
        if self.mode != "drive" or self.fixed_drive is not None:
            return []
        return [Drive(self.drive_path, "/dev/sdz1", socket_of(self.location))]

    def port_closed(self, device: str, baud: int, dtr: bool) -> None:
        if device == self.app and self.mode == "app" and baud == 1200:
            self.mode, self._count = "touched", 0

    def step(self) -> None:
        self._count += 1
        if self.mode == "touched" and self._count >= 2:
            self.drive_path.mkdir(parents=True, exist_ok=True)
            (self.drive_path / INFO).write_text(
                "UF2 Bootloader v3.0\nModel: Raspberry Pi RP2\nBoard-ID: RPI-RP2\n"
            )
            self.mode, self._count = "drive", 0
        elif self.mode == "drive" and not self.stubborn:
            for f in self.drive_path.glob("*.uf2"):
                try:
                    check_uf2(f)
                except (ValueError, OSError):
                    continue  # not all there yet
                self.flashed = f.read_bytes()
                for child in self.drive_path.iterdir():
                    child.unlink()
                if self.fixed_drive is None:
                    self.drive_path.rmdir()
                self.mode, self._count = "back", 0
        elif self.mode == "back" and self._count >= 2:
            self.mode = "app"
            self.app = self.app_again or self.app


@dataclass
class FakeESP32(FakeBoardBase):
    """An ESP32 behind a CP210x: it stays on its port (esptool resets it itself)."""

    app: str = "/dev/ttyUSB0"
    location: str | None = "1-1.4:1.0"
    app_board: FakeBoard = field(default_factory=lambda: FakeBoard(firmware=(1, 1, 0)))

    def app_device(self) -> str | None:
        return self.app

    def ports(self) -> list[PortInfo]:
        return [port_info(self.app, 0x10C4, 0xEA60, self.location, "0001", "esp32")]
