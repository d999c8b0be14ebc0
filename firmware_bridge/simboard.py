"""The reference firmware running under simavr, its UART on a pty.

>>> with SimBoard() as board:                       # doctest: +SKIP
...     with Bridge.open(board.port) as bridge:
...         bridge.arm(); bridge.drive(0.5, 0.5)
...         board.wait_output(5, lambda duty: duty > 0)

The harness (``firmware_bridge/simboard/simboard.c``, built by ``make
firmware``) prints what the MCU's pins do; this class keeps the latest value
and the history of every pin, and sends the harness its commands (reset,
drive an input, an ultrasonic echo, encoder pulses, ADC millivolts).
"""

from __future__ import annotations

import logging
import os
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from firmware_bridge.errors import BridgeTimeout, FirmwareMissing, NoBoard
from rcbase.closeable import Closeable
from rcbase.threads import join_thread

__all__ = ["ATMEGABOOT", "SimBoard", "artifact", "build_dir", "optiboot"]

logger = logging.getLogger(__name__)

PACKAGE = Path(__file__).resolve().parent
BOOTLOADERS = Path("/usr/share/arduino/hardware/arduino/avr/bootloaders")
# The old Nano's bootloader (57600 baud), as Debian's arduino-core-avr ships it.
ATMEGABOOT = BOOTLOADERS / "atmega" / "ATmegaBOOT_168_atmega328.hex"


def build_dir() -> Path:
    """Where ``make firmware`` put the binaries (``ROBOCLASS_FIRMWARE_BUILD`` overrides)."""
    env = os.environ.get("ROBOCLASS_FIRMWARE_BUILD")
    return Path(env) if env else PACKAGE.parent / "build" / "firmware"


def optiboot() -> Path:
    """The UNO's bootloader (optiboot, 115200 baud), built by ``make firmware``.

    Built from the source arduino-core-avr ships: its prebuilt
    ``optiboot_atmega328.hex`` is 532 bytes and does not fit the flash.
    """
    return artifact("optiboot_atmega328.hex")


def artifact(name: str) -> Path:
    """A built file (``roboclass_firmware.elf``, ``simboard``, ...) or FirmwareMissing."""
    path = build_dir() / name
    if not path.exists():
        raise FirmwareMissing(
            f"{path} is missing: build it with `make firmware` in the RoboClass source folder "
            "(needs the Debian packages from scripts/system-deps.sh)"
        )
    return path


class SimBoard(Closeable):
    """One simulated ATmega328P running ``firmware`` in real time (``realtime=False``: flat out).

    ``bootloader``: an Intel HEX (:func:`optiboot`, :data:`ATMEGABOOT`) loaded
    at its address and started at every reset like a programmed BOOTRST fuse;
    after :meth:`reset` it waits for avrdude as a real UNO's does. With a
    bootloader the board also resets whenever a program opens the port (an
    UNO's DTR auto-reset; ``auto_reset``) and garbles bytes sent at another
    baud rate than the MCU's UART (``strict_baud``), so avrdude at the wrong
    speed fails as it would on a real board.

    ``speed`` < 1 runs real time in slow motion (simulated seconds per second):
    the MCU's own timeouts (a bootloader's ~1 s) then stretch for a host short
    of CPU. ``instance_id``: the id the board keeps in EEPROM (by default the
    firmware makes one at first boot, the same on every simulated board).

    ``link``: a symlink kept pointing at the current pty, like a
    /dev/serial/by-id path; :meth:`unplug` and :meth:`replug` then act like
    pulling and re-inserting the USB cable (a new pty, a freshly booted MCU).
    """

    def __init__(
        self,
        firmware: str | Path | None = None,
        *,
        realtime: bool = True,
        link: str | Path | None = None,
        bootloader: str | Path | None = None,
        auto_reset: bool | None = None,
        strict_baud: bool | None = None,
        speed: float = 1.0,
        instance_id: int | None = None,
        start_timeout: float = 10.0,
    ) -> None:
        self.firmware = Path(firmware) if firmware else artifact("roboclass_firmware.elf")
        self.realtime = realtime
        self.link = Path(link) if link else None
        self.bootloader = Path(bootloader) if bootloader else None
        self.auto_reset = self.bootloader is not None if auto_reset is None else auto_reset
        self.strict_baud = self.bootloader is not None if strict_baud is None else strict_baud
        self.speed = speed
        self.instance_id = instance_id
        self.start_timeout = start_timeout
        self.pty = ""
        self.history: list[tuple[int, int, int]] = []  # (sim us, pin, value) of every output change
        self.edges: list[tuple[int, int, int]] = []  # (sim us, pin, level) of watched pins
        self.resets = 0
        self._outputs: dict[int, int] = {}
        self._now: list[int] = []
        self._cond = threading.Condition()
        self._proc: subprocess.Popen[str] | None = None
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close(); see stderr()
        self._reader: threading.Thread | None = None
        try:
            self._start()
        except BaseException:
            self.close()
            raise

    # --- lifecycle ----------------------------------------------------------------

    @property
    def port(self) -> str:
        """The path to open: the stable link if there is one, else the pty."""
        return str(self.link) if self.link else self.pty

    def _close(self) -> None:
        """Stop the simulator (its reader thread joined), remove the link."""
        self._stop_process()
        self._stderr.close()
        if self.link is not None:
            self.link.unlink(missing_ok=True)

    def unplug(self) -> None:
        """Like pulling the USB cable: the MCU loses power and the port disappears."""
        self._stop_process()
        if self.link is not None:
            self.link.unlink(missing_ok=True)

    def replug(self) -> None:
        """Like plugging it back in: a new port (same link), a freshly booted MCU."""
        self._stop_process()
        self._start()

    # --- the MCU ------------------------------------------------------------------

    def output(self, pin: int) -> int | None:
        """Latest output of an Arduino pin: 0..255 (PWM duty, or 0/255), -1 input, None unknown."""
        with self._cond:
            return self._outputs.get(pin)

    def wait_output(self, pin: int, predicate: Callable[[int], bool], timeout: float = 5.0) -> int:
        """Simulated time (us) from which ``pin``'s output satisfies ``predicate``: now or later.

        If the output already satisfies it, that is the time of its last change.
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            current = self._outputs.get(pin)
            if current is not None and predicate(current):
                return max((t for t, p, _ in self.history if p == pin), default=0)
            seen = len(self.history)
            while True:
                for t, p, v in self.history[seen:]:
                    if p == pin and predicate(v):
                        return t
                seen = len(self.history)
                left = deadline - time.monotonic()
                if left <= 0:
                    raise BridgeTimeout(
                        f"pin {pin} never matched within {timeout} s (now {self._outputs.get(pin)})"
                    )
                self._cond.wait(left)

    def now_us(self, timeout: float = 2.0) -> int:
        """The simulated time now, in microseconds."""
        with self._cond:
            count = len(self._now)
            self.command("now")
            if not self._cond.wait_for(lambda: len(self._now) > count, timeout):
                raise BridgeTimeout("the simulator did not answer `now`")
            return self._now[-1]

    def reset(self) -> None:
        """Press the reset button."""
        self.command("reset")

    def drive_pin(self, pin: int, level: bool) -> None:
        """Drive an input pin from outside."""
        self.command(f"pin {pin} {int(level)}")

    def set_adc(self, channel: int, millivolts: int) -> None:
        self.command(f"adc {channel} {millivolts}")

    def set_distance(self, trigger: int, echo: int, metres: float | None) -> None:
        """An HC-SR04 on these pins sees an object at ``metres`` (None: no echo)."""
        self.command(f"sonar {trigger} {echo} {metres}" if metres else "sonar off")

    def pulse(self, pin: int, count: int, period_us: int = 1000) -> None:
        """``count`` rising edges on ``pin`` (an encoder turning)."""
        self.command(f"pulse {pin} {count} {period_us}")

    def set_imu(self, rates: tuple[float, float, float] | None, address: int = 0x68) -> None:
        """An MPU-6050 at ``address`` turning at ``rates`` (deg/s, x y z); None: no IMU."""
        self.command(f"imu {address} {rates[0]} {rates[1]} {rates[2]}" if rates else "imu off")

    def watch(self, pin: int) -> None:
        """Record every edge of ``pin`` in :attr:`edges` with exact timing."""
        self.command(f"watch {pin}")

    def stderr(self) -> str:
        """What the harness wrote on stderr so far (why it stopped, simavr's messages)."""
        if self._stderr.closed:
            return ""
        self._stderr.seek(0)
        return self._stderr.read().decode("utf-8", "replace")

    def command(self, line: str) -> None:
        proc = self._proc
        if proc is None or proc.stdin is None or proc.poll() is not None:
            raise NoBoard("the simulator is not running (unplugged or closed)")
        proc.stdin.write(line + "\n")
        proc.stdin.flush()

    # --- internals ----------------------------------------------------------------

    def _start(self) -> None:
        harness = artifact("simboard")
        cmd = [str(harness), str(self.firmware)] + ([] if self.realtime else ["--fast"])
        if self.bootloader is not None:
            cmd += ["--bootloader", str(self.bootloader)]
        cmd += ["--auto-reset"] if self.auto_reset else []
        cmd += ["--strict-baud"] if self.strict_baud else []
        cmd += ["--speed", str(self.speed)] if self.speed != 1.0 else []
        cmd += ["--instance-id", f"{self.instance_id:x}"] if self.instance_id else []
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            bufsize=1,
        )
        self._proc = proc
        assert proc.stdout is not None  # noqa: S101 - Popen with PIPE
        ready = threading.Event()
        self._reader = threading.Thread(
            target=self._read, args=(proc, ready), name="simboard-reader", daemon=True
        )
        self._reader.start()
        if not ready.wait(self.start_timeout) or not self.pty:
            self._stop_process()
            raise NoBoard(f"the simulator did not start: run `{' '.join(cmd)}` to see why")
        if self.link is not None:
            tmp = self.link.with_name(self.link.name + ".tmp")
            tmp.unlink(missing_ok=True)
            tmp.symlink_to(self.pty)
            tmp.replace(self.link)

    def _read(self, proc: subprocess.Popen[str], ready: threading.Event) -> None:
        assert proc.stdout is not None  # noqa: S101 - Popen with PIPE
        for line in proc.stdout:
            kind, _, rest = line.strip().partition(" ")
            fields = rest.split()
            if kind == "PTY":
                self.pty = rest.strip()
                ready.set()
                continue
            try:
                numbers = [int(f) for f in fields]
            except ValueError:
                continue
            with self._cond:
                if kind == "O" and len(numbers) == 3:
                    self._outputs[numbers[1]] = numbers[2]
                    self.history.append((numbers[0], numbers[1], numbers[2]))
                elif kind == "E" and len(numbers) == 3:
                    self.edges.append((numbers[0], numbers[1], numbers[2]))
                elif kind == "R":
                    self.resets += 1
                elif kind == "N" and numbers:
                    self._now.append(numbers[0])
                self._cond.notify_all()
        ready.set()

    def _stop_process(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            if proc.stdin is not None and proc.poll() is None:
                proc.stdin.write("quit\n")
                proc.stdin.flush()
            proc.wait(timeout=3)
        except (OSError, subprocess.TimeoutExpired):
            proc.kill()
            proc.wait(timeout=3)
        join_thread(self._reader, timeout=3)  # it ends at the harness's end of output
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                stream.close()
