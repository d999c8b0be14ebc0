"""Put the reference firmware on boards with avrdude, then check each one answers HELLO.

>>> results = flash_many(["/dev/ttyUSB0", "/dev/ttyUSB1"])     # doctest: +SKIP
>>> [(r.port, r.ok, r.version, r.problem) for r in results]     # doctest: +SKIP
[('/dev/ttyUSB0', True, '1.0.0', ''), ('/dev/ttyUSB1', False, None, 'port_busy')]

One worker per board; a board's failure never stops the others. Each board
gets one log file (every avrdude run and the HELLO check). Before avrdude
runs, the port is checked (exists, we may open it, no other process holds
it); avrdude tries the board kind's bootloader baud rates in order (115200
for optiboot, then 57600 for an old Nano); afterwards a HELLO handshake
proves the new firmware runs and reports the expected version.

Only AVR boards with the Arduino bootloader (``-c arduino``) can be flashed
in this release: RP2040 (UF2) and ESP32 (esptool) are reported as
``unsupported`` until their firmware exists.
"""

from __future__ import annotations

import grp
import logging
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from firmware_bridge.boards import KINDS, BoardKind
from firmware_bridge.client import Bridge
from firmware_bridge.exc import BridgeError, FirmwareMissing, VersionMismatch
from firmware_bridge.messages import Capability
from firmware_bridge.ports import PortInfo, identify
from firmware_bridge.simboard import artifact
from rcbase.paths import paths

__all__ = [
    "FlashResult",
    "Problem",
    "avrdude_command",
    "classify_avrdude",
    "expected_version",
    "flash_many",
    "flash_one",
    "port_problem",
]

logger = logging.getLogger(__name__)

HELLO_TRIES = 3  # opening the port again resets most boards: a fresh start each time

# Unknown USB adapters and simulator ptys: optiboot first, then the old bootloader.
AUTO = BoardKind("auto", "unknown ATmega328P board", "m328p", "arduino", (115200, 57600))


class Problem(StrEnum):
    """Why a board failed (``FlashResult.problem``)."""

    NO_PORT = "no_port"
    PERMISSION = "permission"
    PORT_BUSY = "port_busy"
    UNSUPPORTED = "unsupported"
    NO_BOOTLOADER = "no_bootloader"
    WRONG_BOARD = "wrong_board"
    VERIFY_FAILED = "verify_failed"
    LOST = "lost_connection"
    TIMEOUT = "timeout"
    AVRDUDE = "avrdude"
    HELLO_FAILED = "hello_failed"
    WRONG_VERSION = "wrong_version"
    NAME_FAILED = "name_failed"


@dataclass(frozen=True)
class FlashResult:
    """What happened to one board."""

    port: str
    ok: bool
    seconds: float
    version: str | None  # what the board reports after flashing
    log: str  # path of this board's log
    error: str = ""  # what went wrong and what to do next
    problem: str = ""  # a Problem value, "" when ok
    kind: str = ""  # the board kind used
    baud: int | None = None  # the bootloader baud rate that answered
    identity: dict[str, Any] = field(default_factory=dict)  # USB IDs, serial, location, instance id
    name: str | None = None  # from --name-pattern / the inventory

    def as_dict(self) -> dict[str, Any]:
        return {
            "port": self.port,
            "result": "ok" if self.ok else "failed",
            "ok": self.ok,
            "version": self.version,
            "name": self.name,
            "duration_s": self.seconds,
            "kind": self.kind,
            "baud": self.baud,
            "identity": self.identity,
            "problem": self.problem or None,
            "error": self.error or None,
            "log": self.log,
        }


def avrdude_program() -> str:
    """avrdude to run: ``ROBOCLASS_AVRDUDE``, else the one on PATH."""
    found = os.environ.get("ROBOCLASS_AVRDUDE") or shutil.which("avrdude")
    if not found:
        raise FirmwareMissing("avrdude is not installed: sudo apt-get install avrdude")
    return found


def avrdude_command(
    port: str,
    hexfile: Path,
    *,
    baud: int = 115200,
    kind: BoardKind = AUTO,
    avrdude: str = "avrdude",
    attempts: int = 3,
) -> list[str]:
    """The avrdude command line for one board at one bootloader baud rate."""
    return [
        avrdude,
        "-p",
        kind.mcu or "m328p",
        "-c",
        kind.programmer or "arduino",
        "-P",
        port,
        "-b",
        str(baud),
        "-x",
        f"attempts={attempts}",  # sync tries (10 by default, ~5 s each)
        "-D",  # the bootloader erases page by page
        "-U",
        f"flash:w:{hexfile}:i",
    ]


def expected_version(hexfile: Path) -> str | None:
    """The version a board must report after flashing ``hexfile`` (``NAME.version`` beside it)."""
    side = hexfile.with_suffix(".version")
    if side.exists():
        return side.read_text(encoding="utf-8").strip() or None
    return None


def _holders(device: str) -> list[tuple[int, str]]:
    """Processes that have ``device`` open (pid, command), like ``fuser``."""
    real = os.path.realpath(device)
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fds = list((entry / "fd").iterdir())
            comm = (entry / "comm").read_text(encoding="utf-8").strip()
        except OSError:
            continue
        if comm == "simboard":  # the simulator holds its own pty: that is the board, not a user
            continue
        for fd in fds:
            try:
                if os.readlink(fd) == real:
                    found.append((int(entry.name), comm))
                    break
            except OSError:
                continue
    return found


def port_problem(device: str) -> tuple[Problem, str] | None:
    """Why ``device`` cannot be flashed before trying: missing, no permission, in use."""
    if not os.path.exists(device):
        return Problem.NO_PORT, (
            f"{device} does not exist: is the board plugged in (with a data cable)? "
            "`roboclass bridge ports` lists the boards"
        )
    if not os.access(device, os.R_OK | os.W_OK):
        return Problem.PERMISSION, _permission_message(device)
    holders = _holders(device)
    if holders:
        who = ", ".join(f"{comm} (pid {pid})" for pid, comm in holders)
        return Problem.PORT_BUSY, (
            f"{device} is in use by {who}: close it (a serial monitor, the Arduino IDE, a "
            "running robot program, ModemManager or brltty) and flash again"
        )
    return None


def _permission_message(device: str) -> str:
    try:
        group = grp.getgrgid(os.stat(device).st_gid).gr_name
    except (KeyError, OSError):
        group = "dialout"
    return (
        f"permission denied on {device}: join the `{group}` group "
        f"(sudo usermod -aG {group} $USER), then log out and in again"
    )


# avrdude's output -> what happened. First match wins.
_AVRDUDE_PATTERNS: list[tuple[Problem, re.Pattern[str]]] = [
    (Problem.PERMISSION, re.compile(r"permission denied", re.I)),
    (Problem.PORT_BUSY, re.compile(r"device or resource busy", re.I)),
    (Problem.NO_PORT, re.compile(r"can(no|')t open (port|device).*no such file", re.I)),
    (Problem.WRONG_BOARD, re.compile(r"(invalid device signature|expected signature)", re.I)),
    (Problem.VERIFY_FAILED, re.compile(r"(verification error|verify error|mismatch at)", re.I)),
    (Problem.NO_BOOTLOADER, re.compile(r"(not in sync|not responding|protocol e)", re.I)),
]
_SYNCED = re.compile(r"(device initialized|device signature =)", re.I)


def classify_avrdude(output: str) -> Problem:
    """What a failed avrdude run's output says went wrong."""
    # it answered (signature read, or no "not in sync"), then went quiet
    synced = bool(_SYNCED.search(output)) or not re.search(r"not in sync", output, re.I)
    for problem, pattern in _AVRDUDE_PATTERNS:
        if problem is Problem.NO_BOOTLOADER and synced and pattern.search(output):
            return Problem.LOST  # it answered, then went quiet
        if pattern.search(output):
            return problem
    return Problem.AVRDUDE


_ADVICE = {
    Problem.WRONG_BOARD: "{port} is not an {mcu} board ({last}): choose the right --board",
    Problem.VERIFY_FAILED: (
        "{port}: the flash did not verify ({last}): try again, then another cable or USB port"
    ),
    Problem.PORT_BUSY: "{port} is busy ({last}): close the program using it and flash again",
    Problem.NO_PORT: "{port} disappeared ({last}): was the board unplugged?",
    Problem.LOST: (
        "{port} answered at {baud} baud, then stopped in the middle twice ({last}): "
        "check the cable, use a powered hub, then flash again"
    ),
    Problem.AVRDUDE: "avrdude failed on {port}: {last}. Check the cable and the port",
}


def _advice(
    problem: Problem, port: str, kind: BoardKind, tried: Sequence[int], last: str, baud: int
) -> str:
    if problem is Problem.NO_BOOTLOADER:
        other = "nano-old (57600)" if 57600 not in tried else "uno (115200)"
        bauds = " or ".join(str(b) for b in tried)
        return (
            f"the bootloader on {port} did not answer at {bauds} baud: press the board's reset "
            f"button just as flashing starts (clones without auto-reset), check the cable, "
            f"or try --board {other}"
        )
    if problem is Problem.PERMISSION:
        return _permission_message(port)
    template = _ADVICE.get(problem, _ADVICE[Problem.AVRDUDE])
    return template.format(port=port, mcu=kind.mcu, last=last, baud=baud)


def _log_dir() -> Path:
    folder = paths().cache / "flash-logs"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _identity(port: str, info: PortInfo | None) -> dict[str, Any]:
    if info is None:
        return {"device": port}
    return {
        k: v
        for k, v in info.as_dict().items()
        if k in ("device", "vid", "pid", "serial_number", "location", "board")
    }


class _Outcome(Exception):
    """Ends one board's job early with a problem (internal to flash_one)."""

    def __init__(self, problem: Problem, error: str) -> None:
        super().__init__(error)
        self.problem = problem
        self.error = error


@dataclass
class _Job:
    """One board's flashing: checks, avrdude at each baud rate, the HELLO check."""

    port: str
    hexfile: Path
    kind: BoardKind
    log: Path
    timeout: float
    hello_timeout: float
    on_status: Callable[[str, str], None] | None
    baud: int | None = None
    version: str | None = None  # what the board reported, even when wrong
    name: str | None = None  # the name written to the board (or kept for it)

    def status(self, text: str) -> None:
        if self.on_status is not None:
            self.on_status(self.port, text)

    def write(self, text: str) -> None:
        with self.log.open("a", encoding="utf-8") as out:
            out.write(text + "\n")

    def checks(self, detected: BoardKind | None) -> None:
        for kind in (detected, self.kind):
            if kind is not None and not kind.flashable:
                raise _Outcome(Problem.UNSUPPORTED, f"{self.port}: {kind.title}: {kind.why}")
        found = port_problem(self.port)
        if found is not None:
            raise _Outcome(*found)

    def avrdude(self) -> None:
        """Run avrdude at each of the kind's baud rates until one answers.

        A board that answered and then went quiet mid-way (a bootloader timing
        out, a flaky hub) gets one more run at the same speed.
        """
        deadline = time.monotonic() + self.timeout
        tried: list[int] = []
        for baud in self.kind.bauds:
            tried.append(baud)
            for again in (False, True):
                self.status(f"flashing at {baud}" + (" (again)" if again else ""))
                ok, output = self._run(baud, deadline)
                if ok:
                    self.baud = baud
                    return
                problem = classify_avrdude(output)
                if problem is not Problem.LOST:
                    break  # else it answered at this speed: once more
            if problem is Problem.NO_BOOTLOADER and baud != self.kind.bauds[-1]:
                continue  # maybe the other bootloader
            lines = [x.strip() for x in output.splitlines() if x.strip()]
            last = next(
                (x for x in reversed(lines) if "error" in x.lower()), lines[-1] if lines else ""
            )
            raise _Outcome(problem, _advice(problem, self.port, self.kind, tried, last, baud))

    def _run(self, baud: int, deadline: float) -> tuple[bool, str]:
        """One avrdude run into the log: (succeeded, its output)."""
        cmd = avrdude_command(
            self.port, self.hexfile, baud=baud, kind=self.kind, avrdude=avrdude_program()
        )
        self.write("$ " + " ".join(cmd))
        with self.log.open("a", encoding="utf-8") as out:
            try:
                proc = subprocess.run(
                    cmd,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    timeout=max(1.0, deadline - time.monotonic()),
                    check=False,
                )
            except subprocess.TimeoutExpired:
                raise _Outcome(
                    Problem.TIMEOUT, f"avrdude did not finish in {self.timeout:.0f} s"
                ) from None
        output = self.log.read_text(encoding="utf-8", errors="replace").rsplit("$ ", 1)[-1]
        return proc.returncode == 0, output

    def hello(self, expect: str | None, name: str | None = None) -> tuple[str, int]:
        """The firmware version and instance id the board reports after flashing.

        With ``name`` the board's name is then written to its EEPROM and read back.
        """
        self.status("checking")
        for attempt in range(1, HELLO_TRIES + 1):
            try:
                with Bridge.open(
                    self.port, timeout=self.hello_timeout, setpoint_hz=0, reconnect=False
                ) as link:
                    hello = link.hello
                    self.write(f"# HELLO: {hello.as_dict()}")
                    self.version = hello.firmware
                    self._check_version(hello.firmware, expect)
                    if name is not None:
                        self._name(link, name)
                break
            except VersionMismatch as e:
                raise _Outcome(
                    Problem.WRONG_VERSION, f"flashed, but the board runs another protocol: {e}"
                ) from None
            except BridgeError as e:  # a board still starting up: open it again (it resets)
                self.write(f"# HELLO check {attempt}/{HELLO_TRIES} failed: {e}")
                if attempt == HELLO_TRIES:
                    raise _Outcome(
                        Problem.HELLO_FAILED,
                        f"flashed, but the HELLO check failed: {e}. Press reset and run "
                        f"`roboclass bridge ping {self.port}`",
                    ) from None
        return hello.firmware, hello.instance_id

    @staticmethod
    def _check_version(firmware: str, expect: str | None) -> None:
        if expect and firmware != expect:
            raise _Outcome(
                Problem.WRONG_VERSION,
                f"flashed, but the board reports firmware {firmware}, not {expect}: "
                "was --firmware the right file?",
            )

    def _name(self, link: Bridge, name: str) -> None:
        """Write the board's name to its EEPROM; set_name reads it back (a new HELLO)."""
        self.status("naming")
        self.name = name
        if Capability.NAME not in link.hello.capabilities:
            self.write(f"# firmware {link.hello.firmware} cannot store a name: {name} is kept "
                       "in the inventory only")  # fmt: skip
            return
        try:
            link.set_name(name)
        except ValueError as e:
            raise _Outcome(Problem.NAME_FAILED, f"flashed, but not named: {e}") from None
        except BridgeError as e:
            raise _Outcome(
                Problem.NAME_FAILED,
                f"flashed, but writing the name {name!r} failed: {e}. Try again with "
                f"`roboclass flash {self.port} --name-pattern ...`",
            ) from None
        self.write(f"# named {link.name!r} (read back from the board's EEPROM)")


def flash_one(
    port: str,
    hexfile: Path | None = None,
    *,
    board: str = "auto",
    expect: str | None = None,
    timeout: float = 180.0,
    hello_timeout: float = 10.0,
    log_dir: Path | None = None,
    on_status: Callable[[str, str], None] | None = None,
) -> FlashResult:
    """Flash one board and check it with HELLO. Never raises for a board problem: see ``ok``.

    ``board``: a key of :data:`firmware_bridge.boards.KINDS`, or ``auto`` to go by
    the USB IDs (unknown adapters try 115200 then 57600). ``expect``: the
    version the board must report (default: from the ``.version`` file beside
    the hex). ``on_status(port, status)`` hears each step.
    """
    start = time.monotonic()
    hexfile = hexfile or artifact("roboclass_firmware.hex")
    expect = expect or expected_version(hexfile)
    log = (log_dir or _log_dir()) / f"{Path(port).name}-{time.strftime('%Y%m%d-%H%M%S')}.log"
    info = identify(port)
    identity = _identity(port, info)
    detected = KINDS.get(info.kind) if info is not None and info.kind else None
    kind = KINDS[board] if board != "auto" else (detected or AUTO)
    job = _Job(port, hexfile, kind, log, timeout, hello_timeout, on_status)
    log.write_text(f"# {port}: {kind.title}, {hexfile}\n", encoding="utf-8")
    try:
        job.checks(detected)
        job.avrdude()
        _, instance = job.hello(expect)
        identity["instance_id"] = f"{instance:08x}"
        problem, error = None, ""
    except _Outcome as e:
        problem, error = e.problem, f"{e.error} (log: {log})"
    job.write("# ok" if problem is None else f"# FAILED ({problem.value}): {error}")
    job.status("ok" if problem is None else "failed")
    return FlashResult(
        port,
        problem is None,
        round(time.monotonic() - start, 2),
        job.version,
        str(log),
        error,
        "" if problem is None else problem.value,
        kind.name,
        job.baud,
        identity,
    )


def name_one(
    result: FlashResult,
    name: str,
    *,
    hello_timeout: float = 10.0,
    on_status: Callable[[str, str], None] | None = None,
) -> FlashResult:
    """Write ``name`` into the EEPROM of a board flashed OK, read it back; the updated result.

    Opens the port again (most boards reset: the HELLO check is repeated), sends
    SET_NAME and a new HELLO; appends to the board's log. Never raises for a board
    problem: a board that does not keep the name fails with ``name_failed``.
    """
    start = time.monotonic()
    log = Path(result.log)
    kind = KINDS.get(result.kind, AUTO)
    job = _Job(result.port, Path(), kind, log, 0.0, hello_timeout, on_status)
    try:
        job.hello(result.version, name)
        problem, error = None, ""
    except _Outcome as e:
        problem, error = e.problem, f"{e.error} (log: {log})"
    job.write("# named, ok" if problem is None else f"# FAILED ({problem.value}): {error}")
    job.status("ok" if problem is None else "failed")
    return replace(
        result,
        ok=problem is None,
        seconds=round(result.seconds + time.monotonic() - start, 2),
        error=error,
        problem="" if problem is None else problem.value,
        name=name,
    )


def name_many(
    results: Sequence[FlashResult],
    names: dict[str, str],
    *,
    jobs: int | None = None,
    **kwargs: Any,
) -> list[FlashResult]:
    """:func:`name_one` for every result whose port is in ``names`` (in parallel); all results."""
    todo = [r for r in results if r.ok and r.port in names]
    if not todo:
        return list(results)
    workers = max(1, min(jobs or len(todo), len(todo)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="name") as pool:
        named = list(pool.map(lambda r: name_one(r, names[r.port], **kwargs), todo))
    done = {r.port: r for r in named}
    return [done.get(r.port, r) for r in results]


def flash_many(
    ports: Sequence[str],
    hexfile: Path | None = None,
    *,
    board: str = "auto",
    jobs: int | None = None,
    on_done: Callable[[FlashResult], None] | None = None,
    on_status: Callable[[str, str], None] | None = None,
    **kwargs: Any,
) -> list[FlashResult]:
    """Flash several boards, one worker per board (at most ``jobs``); results in ``ports`` order."""
    hexfile = hexfile or artifact("roboclass_firmware.hex")
    log_dir = kwargs.pop("log_dir", None) or _log_dir()

    def one(port: str) -> FlashResult:
        try:
            r = flash_one(
                port, hexfile, board=board, log_dir=log_dir, on_status=on_status, **kwargs
            )
        except BridgeError as e:  # avrdude or the firmware missing: the same for every board
            r = FlashResult(port, False, 0.0, None, "", str(e), Problem.AVRDUDE.value, board)
        if on_done is not None:
            on_done(r)
        return r

    workers = max(1, min(jobs or len(ports) or 1, len(ports) or 1))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="flash") as pool:
        return list(pool.map(one, ports))
