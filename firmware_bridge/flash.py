"""Put firmware on boards, then check each one answers HELLO.

>>> results = flash_many(["/dev/ttyUSB0", "/dev/ttyUSB1"])     # doctest: +SKIP
>>> [(r.port, r.ok, r.version, r.problem) for r in results]     # doctest: +SKIP
[('/dev/ttyUSB0', True, '1.1.0', ''), ('/dev/ttyUSB1', False, None, 'port_busy')]

One worker per board; a board's failure never stops the others. Each board
gets one log file (every tool run, every wait, the HELLO check). For each
board: its kind (from the USB IDs, or ``board=``), the firmware file for
that kind (:func:`firmware_bridge.flashing.firmware.choose_firmware`), checks
of the file and of the port (exists, we may open it, no other process holds
it), the kind's backend (:mod:`firmware_bridge.flashing`: avrdude, avr109
after a 1200-baud touch, a UF2 copy, esptool), then a HELLO handshake on the
port the board is on afterwards that proves the new firmware runs and
reports the expected version.

RoboClass ships firmware for ATmega328P boards only: Leonardo, RP2040 and
ESP32 boards are flashed only with a ``--firmware`` file for them, and
otherwise fail with ``no_firmware`` saying so (in English and Chinese).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from firmware_bridge.boards import KINDS
from firmware_bridge.client import Bridge
from firmware_bridge.errors import BridgeError, FirmwareMissing, VersionMismatch
from firmware_bridge.flashing.avr import (
    AUTO,
    avrdude_command,
    classify_avrdude,
    flash_avr109,
    flash_avrdude,
)
from firmware_bridge.flashing.base import Job, Outcome, Problem
from firmware_bridge.flashing.checks import permission_message, port_problem
from firmware_bridge.flashing.env import FlashEnv
from firmware_bridge.flashing.esp import flash_esptool
from firmware_bridge.flashing.firmware import check_format, choose_firmware, expected_version
from firmware_bridge.flashing.uf2 import flash_uf2
from firmware_bridge.messages import Capability
from firmware_bridge.ports import PortInfo
from rcbase.i18n import Text
from rcbase.paths import paths

__all__ = [
    "BACKENDS",
    "FlashEnv",
    "FlashResult",
    "Problem",
    "avrdude_command",
    "classify_avrdude",
    "expected_version",
    "flash_many",
    "flash_one",
    "name_many",
    "name_one",
    "port_problem",
]

logger = logging.getLogger(__name__)

HELLO_TRIES = 3  # opening the port again resets most boards: a fresh start each time

# BoardKind.backend -> the function that flashes it and returns the port the board is on after
BACKENDS: dict[str, Callable[[Job], str]] = {
    "avrdude": flash_avrdude,
    "avr109": flash_avr109,
    "uf2": flash_uf2,
    "esptool": flash_esptool,
}


@dataclass(frozen=True)
class FlashResult:
    """What happened to one board."""

    port: str
    ok: bool
    seconds: float
    version: str | None  # what the board reports after flashing
    log: str  # path of this board's log
    error: str = ""  # what went wrong and what to do next (English)
    problem: str = ""  # a Problem value, "" when ok
    kind: str = ""  # the board kind used
    baud: int | None = None  # the bootloader baud rate that answered
    identity: dict[str, Any] = field(default_factory=dict)  # USB IDs, serial, location, instance id
    name: str | None = None  # from --name-pattern / the inventory
    error_zh: str = ""  # the same advice in Chinese
    firmware: str = ""  # the file written
    now_at: str = ""  # the port the board answers on afterwards (a Leonardo or RP2040 may move)

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
            "firmware": self.firmware or None,
            "now_at": self.now_at or None,
            "problem": self.problem or None,
            "error": self.error or None,
            "error_zh": self.error_zh or None,
            "log": self.log,
        }

    def message(self, lang: str) -> str:
        """The advice in ``lang`` (``zh`` or ``en``)."""
        return (self.error_zh or self.error) if lang == "zh" else self.error


def _permission_message(device: str) -> str:
    """Kept for callers of the first release: the English advice."""
    return permission_message(device).en


def _log_dir() -> Path:
    folder = paths().cache / "flash-logs"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _identity(port: str, info: PortInfo | None) -> dict[str, Any]:
    """How the board is known: USB IDs, serial number, USB location (+ instance id after HELLO)."""
    if info is None:
        return {"device": port}
    keep = ("device", "vid", "pid", "serial_number", "location", "board")
    return {k: v for k, v in info.as_dict().items() if k in keep}


@dataclass
class _Check:
    """The HELLO check after flashing, and writing the board's name (in one board's log)."""

    port: str
    log: Path
    hello_timeout: float
    transport: Callable[..., Any] | None
    on_status: Callable[[str, str], None] | None
    version: str | None = None  # what the board reported, even when wrong
    name: str | None = None  # the name written to the board (or kept for it)

    def write(self, text: str) -> None:
        with self.log.open("a", encoding="utf-8") as out:
            out.write(text + "\n")

    def hello(self, expect: str | None, name: str | None = None) -> tuple[str, int]:
        """The firmware version and instance id the board reports after flashing.

        With ``name`` the board's name is then written to its EEPROM and read back.
        """
        if self.on_status is not None:
            self.on_status(self.port, "checking")
        options: dict[str, Any] = {"timeout": self.hello_timeout, "setpoint_hz": 0}
        if self.transport is not None:
            options["transport"] = self.transport
        for attempt in range(1, HELLO_TRIES + 1):
            try:
                with Bridge.open(self.port, reconnect=False, **options) as link:
                    hello = link.hello
                    self.write(f"# HELLO on {self.port}: {hello.as_dict()}")
                    self.version = hello.firmware
                    self._check_version(hello.firmware, expect)
                    if name is not None:
                        self._name(link, name)
                break
            except VersionMismatch as e:
                raise Outcome(
                    Problem.WRONG_VERSION,
                    Text(
                        f"flashed, but the board runs another protocol: {e}",
                        f"已刷写，但板子运行的是另一个协议版本：{e}",
                    ),
                ) from None
            except BridgeError as e:  # a board still starting up: open it again (it resets)
                self.write(f"# HELLO check {attempt}/{HELLO_TRIES} failed: {e}")
                if attempt == HELLO_TRIES:
                    raise Outcome(
                        Problem.HELLO_FAILED,
                        Text(
                            f"flashed, but the HELLO check failed: {e}. Press reset and run "
                            f"`roboclass bridge ping {self.port}` (firmware that is not "
                            "RoboClass's: use --skip-hello)",
                            f"已刷写，但 HELLO 检查失败：{e}。按复位键后运行 "
                            f"`roboclass bridge ping {self.port}`（不是 RoboClass 的固件："
                            "加 --skip-hello）",
                        ),
                    ) from None
        return hello.firmware, hello.instance_id

    @staticmethod
    def _check_version(firmware: str, expect: str | None) -> None:
        if expect and firmware != expect:
            raise Outcome(
                Problem.WRONG_VERSION,
                Text(
                    f"flashed, but the board reports firmware {firmware}, not {expect}: "
                    "was --firmware the right file?",
                    f"已刷写，但板子报告的固件版本是 {firmware}，不是 {expect}：--firmware 的文件对吗？",
                ),
            )

    def _name(self, link: Bridge, name: str) -> None:
        """Write the board's name to its EEPROM; set_name reads it back (a new HELLO)."""
        if self.on_status is not None:
            self.on_status(self.port, "naming")
        self.name = name
        if Capability.NAME not in link.hello.capabilities:
            self.write(f"# firmware {link.hello.firmware} cannot store a name: {name} is kept "
                       "in the inventory only")  # fmt: skip
            return
        try:
            link.commands.set_name(name)
        except ValueError as e:
            raise Outcome(Problem.NAME_FAILED, f"flashed, but not named: {e}") from None
        except BridgeError as e:
            raise Outcome(
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
    on_progress: Callable[[str, float], None] | None = None,
    firmware: Sequence[tuple[str, Path]] = (),
    check: bool = True,
    uf2_drive: Path | None = None,
    env: FlashEnv | None = None,
) -> FlashResult:
    """Flash one board and check it with HELLO. Never raises for a board problem: see ``ok``.

    ``board``: a key of :data:`firmware_bridge.boards.KINDS`, or ``auto`` to go by
    the USB IDs (unknown adapters are taken for ATmega328P boards and try
    115200 then 57600). ``hexfile`` / ``firmware``: the file(s) to choose from
    (``(kind, path)`` pairs, kind ``""`` for any board whose format it is);
    default: RoboClass's own build for the kind. ``expect``: the version the
    board must report (default: from the ``.version`` file beside the
    firmware). ``check=False`` skips the HELLO check (firmware that is not
    RoboClass's). ``on_status(port, text)`` hears each step,
    ``on_progress(port, 0..1)`` the write's progress. ``env``: the computer
    (:class:`FlashEnv`; tests pass :mod:`firmware_bridge.flashing.fake`'s).
    """
    start = time.monotonic()
    env = env or FlashEnv()
    log = (log_dir or _log_dir()) / f"{Path(port).name}-{time.strftime('%Y%m%d-%H%M%S')}.log"
    info = env.identify(port)
    identity = _identity(port, info)
    detected = KINDS.get(info.kind) if info is not None and info.kind else None
    kind = KINDS[board] if board != "auto" else (detected or AUTO)
    if detected is not None and not detected.flashable:
        kind = detected  # a Nano Every stays one whatever --board says
    given = list(firmware) + ([("", hexfile)] if hexfile is not None else [])
    job = Job(port, kind, Path(), log, env, info, timeout, on_status, on_progress, uf2_drive)
    hello = _Check(port, log, hello_timeout, env.transport, on_status)
    log.write_text(f"# {port}: {kind.title} ({identity})\n", encoding="utf-8")
    now_at = ""
    try:
        if detected is not None and detected is not kind:
            job.write(f"# the USB IDs say {detected.title}; flashing as {kind.title} (--board)")
        job.firmware = choose_firmware(kind, given, forced=board != "auto", port=port)
        check_format(job.firmware, kind, port)
        expect = expect or expected_version(job.firmware)
        job.write(
            f"# firmware {job.firmware}" + (f", expecting version {expect}" if expect else "")
        )
        found = env.port_check(port)
        if found is not None:
            raise Outcome(*found)
        if kind.backend is None:  # choose_firmware has said so already
            raise Outcome(Problem.UNSUPPORTED, kind.why)
        now_at = BACKENDS[kind.backend](job)
        job.progress(1.0)
        if check:
            hello.port = now_at
            _, instance = hello.hello(expect)
            identity["instance_id"] = f"{instance:08x}"
        else:
            job.write("# HELLO check skipped (--skip-hello)")
        problem, text = None, Text("", "")
    except Outcome as e:
        problem, text = e.problem, e.text
    except FirmwareMissing as e:  # avrdude not installed, the firmware not built
        problem, text = Problem.TOOL_MISSING, Text(str(e), str(e))
    job.write("# ok" if problem is None else f"# FAILED ({problem.value}): {text.en}")
    if on_status is not None:
        on_status(port, "ok" if problem is None else "failed")
    where, where_zh = f" (log: {log})", f"（日志：{log}）"
    return FlashResult(
        port,
        problem is None,
        round(time.monotonic() - start, 2),
        hello.version,
        str(log),
        text.en + where if problem else "",
        "" if problem is None else problem.value,
        kind.name,
        job.baud,
        identity,
        error_zh=text.zh + where_zh if problem else "",
        firmware=str(job.firmware) if job.firmware != Path() else "",
        now_at=now_at,
    )


def name_one(
    result: FlashResult,
    name: str,
    *,
    hello_timeout: float = 10.0,
    on_status: Callable[[str, str], None] | None = None,
    env: FlashEnv | None = None,
) -> FlashResult:
    """Write ``name`` into the EEPROM of a board flashed OK, read it back; the updated result.

    Opens the port again (most boards reset: the HELLO check is repeated), sends
    SET_NAME and a new HELLO; appends to the board's log. Never raises for a board
    problem: a board that does not keep the name fails with ``name_failed``.
    """
    start = time.monotonic()
    log = Path(result.log)
    transport = env.transport if env is not None else None
    check = _Check(result.now_at or result.port, log, hello_timeout, transport, on_status)
    try:
        check.hello(result.version, name)
        problem, text = None, Text("", "")
    except Outcome as e:
        problem, text = e.problem, e.text
    check.write("# named, ok" if problem is None else f"# FAILED ({problem.value}): {text.en}")
    if on_status is not None:
        on_status(result.port, "ok" if problem is None else "failed")
    where, where_zh = f" (log: {log})", f"（日志：{log}）"
    return replace(
        result,
        ok=problem is None,
        seconds=round(result.seconds + time.monotonic() - start, 2),
        error=text.en + where if problem else "",
        error_zh=text.zh + where_zh if problem else "",
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
    env: FlashEnv | None = None,
    **kwargs: Any,
) -> list[FlashResult]:
    """Flash several boards, one worker per board (at most ``jobs``); results in ``ports`` order.

    Takes :func:`flash_one`'s keyword arguments; one ``env`` is shared by all
    the workers (so two boards never claim the same new port or drive).
    """
    log_dir = kwargs.pop("log_dir", None) or _log_dir()
    env = env or FlashEnv()

    def one(port: str) -> FlashResult:
        try:
            r = flash_one(
                port, hexfile, board=board, log_dir=log_dir, on_status=on_status, env=env, **kwargs
            )
        except BridgeError as e:  # not a board's problem: still reported per board
            r = FlashResult(port, False, 0.0, None, "", str(e), Problem.TOOL_MISSING.value, board)
        if on_done is not None:
            on_done(r)
        return r

    workers = max(1, min(jobs or len(ports) or 1, len(ports) or 1))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="flash") as pool:
        return list(pool.map(one, ports))
