"""A Leonardo on real ptys, for tests that run the real avrdude through the touch.

:class:`PtyLeonardo` is :class:`~firmware_bridge.flashing.fake.FakeLeonardo`
on ptys: the 1200-baud touch is seen in the application pty's line settings
(``termios``, read from the master side), and :class:`Caterina` answers
avrdude's avr109 protocol on the bootloader's pty, keeping a 32 KiB flash.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import termios
import threading
from collections.abc import Callable

from firmware_bridge.fake import FakeBoard
from firmware_bridge.flashing.fake import FakeBoardBase, port_info
from firmware_bridge.ports import PortInfo
from rcbase.closeable import Closeable
from rcbase.threads import join_thread

__all__ = ["Caterina", "PtyLeonardo"]

logger = logging.getLogger(__name__)


class PtyLeonardo(FakeBoardBase, Closeable):
    """A Leonardo on real ptys: the touch is read back from the pty's termios.

    The application port is a pty; a tick that finds its line speed at 1200
    baud (set by whoever opened it) counts as the touch. The bootloader is a
    second pty served by :class:`Caterina` until avrdude says goodbye
    (``E``), then the application port comes back (a new pty).
    """

    def __init__(self, location: str | None = "1-1.5:1.0") -> None:
        self.location = location
        self.app_board = FakeBoard(firmware=(1, 1, 0))
        self.master, slave = os.openpty()
        self.app = os.ttyname(slave)
        os.close(slave)
        self.speeds: list[int] = []  # the app pty's line speed at each tick (termios B-constants)
        self.caterina: Caterina | None = None
        self.mode = "app"
        self.masters = [self.master]

    def app_device(self) -> str | None:
        return self.app if self.mode == "app" else None

    def ports(self) -> list[PortInfo]:
        if self.mode == "app":
            return [port_info(self.app, 0x2341, 0x8036, self.location, None, "leonardo")]
        if self.mode == "boot" and self.caterina is not None:
            return [
                port_info(self.caterina.device, 0x2341, 0x0036, self.location, None, "leonardo")
            ]
        return []

    def step(self) -> None:
        if self.mode == "app":
            speed = termios.tcgetattr(self.master)[5]
            self.speeds.append(speed)
            if speed == termios.B1200:
                self.mode = "boot"
                self.caterina = Caterina()
                self.masters.append(self.caterina.master)
        elif self.mode == "boot" and self.caterina is not None and self.caterina.done.is_set():
            self.mode = "app"
            master, slave = os.openpty()
            self.app = os.ttyname(slave)
            os.close(slave)
            self.masters.append(master)

    def _close(self) -> None:
        if self.caterina is not None:
            self.caterina.close()
        for fd in self.masters:
            with contextlib.suppress(OSError):
                os.close(fd)
        self.masters = []


class Caterina(Closeable):
    """The avr109 side of an ATmega32U4's Caterina bootloader, on a pty (for the real avrdude).

    Keeps a 32 KiB flash in :attr:`flash`; answers the commands avrdude's
    ``-c avr109`` sends (identify, block mode, set address, block write and
    read, leave). Sets :attr:`done` at ``E`` (exit bootloader).
    """

    SIGNATURE = bytes([0x87, 0x95, 0x1E])  # m32u4 (1E 95 87), sent low byte first
    PAGE = 128

    def __init__(self) -> None:
        self.flash = bytearray(b"\xff" * 32768)
        self.done = threading.Event()
        self.master, slave = os.openpty()
        self.device = os.ttyname(slave)
        attrs = termios.tcgetattr(slave)
        attrs[3] &= ~(termios.ECHO | termios.ICANON)  # raw for the bootloader's side
        termios.tcsetattr(slave, termios.TCSANOW, attrs)
        os.close(slave)
        self.commands: list[str] = []
        self._buf = bytearray()
        self._address = 0  # word address
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="fake-caterina", daemon=True)
        self._thread.start()

    def _close(self) -> None:
        self._stop.set()
        join_thread(self._thread, timeout=5)

    def _read(self, n: int) -> bytes:
        while len(self._buf) < n:
            if self._stop.is_set():
                raise EOFError
            try:
                ready, _, _ = select.select([self.master], [], [], 0.1)
                if ready:
                    self._buf += os.read(self.master, 4096)
            except OSError:  # no one has the pty open right now
                self._stop.wait(0.01)
        out, self._buf = bytes(self._buf[:n]), self._buf[n:]
        return out

    def _serve(self) -> None:
        try:
            while not self._stop.is_set():
                self._command(self._read(1))
        except EOFError:
            return

    def _command(self, c: bytes) -> None:  # noqa: PLR0912 - one branch per avr109 command
        send: Callable[[bytes], int] = lambda data: os.write(self.master, data)  # noqa: E731
        cmd = c.decode("latin-1")
        self.commands.append(cmd)
        simple = {"S": b"CATERIN", "V": b"10", "v": b"?", "p": b"S", "a": b"Y", "s": self.SIGNATURE}
        if cmd in simple:
            send(simple[cmd])
        elif cmd == "\x1b":
            pass
        elif cmd == "b":
            send(b"Y" + self.PAGE.to_bytes(2, "big"))
        elif cmd == "t":
            send(b"\x44\x00")
        elif cmd in "TxyY":  # one parameter byte
            self._read(1)
            send(b"\r")
        elif cmd in "PLe":
            send(b"\r")
        elif cmd == "E":
            send(b"\r")
            self.done.set()
        elif cmd == "A":
            self._address = int.from_bytes(self._read(2), "big")
            send(b"\r")
        elif cmd == "B":
            size = int.from_bytes(self._read(2), "big")
            memory = self._read(1)
            data = self._read(size)
            if memory == b"F":
                start = self._address * 2
                self.flash[start : start + size] = data
                self._address += size // 2
            send(b"\r")
        elif cmd == "g":
            size = int.from_bytes(self._read(2), "big")
            memory = self._read(1)
            start = self._address * 2
            send(bytes(self.flash[start : start + size]) if memory == b"F" else b"\xff" * size)
            if memory == b"F":
                self._address += size // 2
        elif cmd in "rFNQ":  # lock and fuse bytes
            send(b"\xff")
        else:
            send(b"?")
