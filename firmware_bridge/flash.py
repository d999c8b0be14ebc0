"""Put the reference firmware on AVR boards with avrdude, then check it answers HELLO.

``roboclass bridge flash --port /dev/ttyUSB0 [--port ...]`` flashes boards in
parallel, one log file each, and proves each one afterwards with a handshake
(the version the board reports must be the one this RoboClass speaks).

Only the AVR path (UNO/Nano with the Arduino bootloader, ``-c arduino``)
exists in this release; ESP32 (esptool) and RP2040 (UF2) come with their
firmware.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

from firmware_bridge.client import Bridge
from firmware_bridge.exc import BridgeError, FirmwareMissing
from firmware_bridge.simboard import artifact
from rcbase.paths import paths

__all__ = ["FlashResult", "avrdude_command", "flash_many", "flash_one"]

logger = logging.getLogger(__name__)

BOOTLOADER_BAUD = {"optiboot": 115200, "old": 57600}  # UNO / new Nano; old Nano bootloader


@dataclass(frozen=True)
class FlashResult:
    """What happened to one board."""

    port: str
    ok: bool
    seconds: float
    firmware: str | None  # what the board reports after flashing
    log: str  # path of the avrdude log
    error: str = ""

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def avrdude_program() -> str:
    """avrdude to run: ``ROBOCLASS_AVRDUDE``, else the one on PATH."""
    found = os.environ.get("ROBOCLASS_AVRDUDE") or shutil.which("avrdude")
    if not found:
        raise FirmwareMissing("avrdude is not installed: sudo apt-get install avrdude")
    return found


def avrdude_command(
    port: str, hexfile: Path, *, bootloader: str = "optiboot", avrdude: str = "avrdude"
) -> list[str]:
    """The avrdude command line for an ATmega328P with the Arduino bootloader."""
    return [
        avrdude,
        "-p",
        "atmega328p",
        "-c",
        "arduino",
        "-P",
        port,
        "-b",
        str(BOOTLOADER_BAUD[bootloader]),
        "-D",  # the bootloader erases page by page
        "-U",
        f"flash:w:{hexfile}:i",
    ]


def _log_dir() -> Path:
    folder = paths().cache / "flash-logs"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def flash_one(
    port: str,
    hexfile: Path | None = None,
    *,
    bootloader: str = "optiboot",
    timeout: float = 120.0,
    log_dir: Path | None = None,
) -> FlashResult:
    """Flash one board and check it with HELLO. Never raises for a board problem: see ``ok``."""
    start = time.monotonic()
    hexfile = hexfile or artifact("roboclass_firmware.hex")
    log = (log_dir or _log_dir()) / f"{Path(port).name}-{time.strftime('%Y%m%d-%H%M%S')}.log"
    cmd = avrdude_command(port, hexfile, bootloader=bootloader, avrdude=avrdude_program())

    def result(ok: bool, firmware: str | None = None, error: str = "") -> FlashResult:
        return FlashResult(port, ok, round(time.monotonic() - start, 2), firmware, str(log), error)

    with log.open("w", encoding="utf-8") as out:
        out.write("$ " + " ".join(cmd) + "\n")
        out.flush()
        try:
            proc = subprocess.run(
                cmd, stdout=out, stderr=subprocess.STDOUT, timeout=timeout, check=False
            )
        except subprocess.TimeoutExpired:
            return result(False, error=f"avrdude did not finish in {timeout:.0f} s (log: {log})")
    if proc.returncode != 0:
        lines = [x.strip() for x in log.read_text(encoding="utf-8", errors="replace").splitlines()]
        last = next((x for x in reversed(lines) if x), "")
        hint = (
            "an old Nano needs --bootloader old"
            if bootloader == "optiboot"
            else "try --bootloader optiboot"
        )
        return result(
            False,
            error=f"avrdude failed on {port}: {last}. Check the cable and the port; {hint} (log: {log})",
        )
    try:
        with Bridge.open(port, timeout=5, setpoint_hz=0, reconnect=False) as board:
            firmware = board.hello.firmware
    except BridgeError as e:
        return result(False, error=f"flashed, but the HELLO check failed: {e}")
    return result(True, firmware)


def flash_many(
    ports: Sequence[str],
    hexfile: Path | None = None,
    *,
    bootloader: str = "optiboot",
    jobs: int = 4,
    on_done: Callable[[FlashResult], None] | None = None,
) -> list[FlashResult]:
    """Flash several boards, ``jobs`` at a time; results in the order of ``ports``."""
    hexfile = hexfile or artifact("roboclass_firmware.hex")
    log_dir = _log_dir()

    def one(port: str) -> FlashResult:
        r = flash_one(port, hexfile, bootloader=bootloader, log_dir=log_dir)
        if on_done is not None:
            on_done(r)
        return r

    with ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="flash") as pool:
        return list(pool.map(one, ports))
