"""ESP32 boards with esptool, run as a separate program: one process per board.

>>> esptool_command(["esptool"], "/dev/ttyUSB0", Path("robot.bin"))       # doctest: +NORMALIZE_WHITESPACE
['esptool', '--chip', 'auto', '--port', '/dev/ttyUSB0', '--baud', '460800',
 '--before', 'default-reset', '--after', 'hard-reset', 'write-flash', '0x0', 'robot.bin']

esptool is GPL-2.0-or-later. RoboClass (Apache-2.0) never imports it: it
runs the ``esptool`` program (the optional extra ``roboclass[esp32]``
installs it, pinned) as a subprocess, one per board, which also keeps its
global logging and state apart for boards flashed in parallel. Its output
goes to the board's log; "Writing at 0x... 42.0%" lines drive the progress
display, and its errors are turned into advice (``Failed to connect`` ->
hold BOOT). The image is written at 0x0, so it must be a merged image
(``esptool merge-bin``: bootloader, partition table and application).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from firmware_bridge.flashing.base import Job, Outcome, Problem
from firmware_bridge.flashing.checks import permission_message
from rcbase.i18n import Text

__all__ = [
    "classify_esptool",
    "esptool_command",
    "esptool_program",
    "esptool_progress",
    "esptool_version",
    "flash_esptool",
]

BAUD = 460800
QUIET = {"NO_COLOR": "1", "COLUMNS": "200", "TERM": "dumb"}  # plain, unwrapped lines for the log


def esptool_program() -> list[str] | None:
    """How to run esptool: ``ROBOCLASS_ESPTOOL``, the venv's, PATH's; None when absent."""
    given = os.environ.get("ROBOCLASS_ESPTOOL")
    if given:
        return [given]
    beside = Path(sys.executable).parent / "esptool"  # installed by roboclass[esp32]
    if beside.exists():
        return [str(beside)]
    for name in ("esptool", "esptool.py"):
        found = shutil.which(name)
        if found:
            return [found]
    return None


def esptool_version(program: list[str], timeout: float = 30.0) -> str | None:
    """esptool's version (``esptool version``, a separate process), or None."""
    try:
        done = subprocess.run(
            [*program, "version"],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env={**os.environ, **QUIET},
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    found = re.findall(r"\b(\d+\.\d+(?:\.\d+)?(?:[.-]?\w+)?)\b", done.stdout)
    return found[-1] if done.returncode == 0 and found else None


def esptool_command(
    program: list[str],
    port: str,
    image: Path,
    *,
    baud: int = BAUD,
    chip: str = "auto",
    offset: int = 0x0,
    legacy: bool = False,
    connect_attempts: int | None = None,
) -> list[str]:
    """The esptool command line writing ``image`` at ``offset`` (``legacy``: esptool 4's spelling)."""
    dash = "_" if legacy else "-"
    tries = ["--connect-attempts", str(connect_attempts)] if connect_attempts else []
    return [
        *program,
        "--chip", chip,
        "--port", port,
        "--baud", str(baud),
        *tries,
        "--before", f"default{dash}reset",
        "--after", f"hard{dash}reset",
        f"write{dash}flash",
        f"{offset:#x}",
        str(image),
    ]  # fmt: skip


_WRITING = re.compile(r"Writing at 0x[0-9a-fA-F]+[^%\n]*?(\d{1,3}(?:\.\d+)?)\s*%")


def esptool_progress(output: str) -> float | None:
    """Share written, from esptool 4's ``(42 %)`` or esptool 5's ``42.0%``; 1.0 once verified."""
    if "Hash of data verified" in output:
        return 1.0
    found = _WRITING.findall(output)
    return float(found[-1]) / 100 if found else None


_HOLD_BOOT = Text(
    "{port}: the ESP32 did not enter its download mode ({last}): hold the BOOT (IO0) button, "
    "press and release EN/RESET, release BOOT, and flash again; check the cable carries data",
    "{port}：ESP32 没有进入下载模式（{last}）：按住 BOOT（IO0）键，按一下 EN/RESET 键再松开，"
    "然后松开 BOOT 键，再刷写；确认数据线能传数据",
)

# esptool's output -> (problem, advice). First match wins.
_PATTERNS: list[tuple[Problem, re.Pattern[str], Text | None]] = [
    (Problem.PERMISSION, re.compile(r"(Errno 13|permission denied)", re.I), None),
    (
        Problem.PORT_BUSY,
        re.compile(r"(Errno 16|resource busy|port is busy)", re.I),
        Text(
            "{port} is busy or gone ({last}): close the program using it (a serial monitor, "
            "the Arduino IDE, ModemManager) and flash again",
            "{port} 被占用或不存在（{last}）：关闭占用它的程序（串口监视器、Arduino IDE、"
            "ModemManager）后再刷写",
        ),
    ),
    (
        Problem.NO_BOOTLOADER,
        re.compile(r"(Failed to connect|Wrong boot mode|No serial data received)", re.I),
        _HOLD_BOOT,
    ),
    (
        Problem.WRONG_BOARD,
        re.compile(r"(This chip is \S+,? not|Wrong --chip|Unexpected chip)", re.I),
        Text(
            "{port}: not the chip expected ({last}): is it an ESP32 board? choose the right --board",
            "{port}：芯片不对（{last}）：这是 ESP32 板吗？用 --board 选对板子类型",
        ),
    ),
    (
        Problem.VERIFY_FAILED,
        re.compile(r"(MD5 of file does not match|does not match data in flash|written flash region is empty)", re.I),
        Text(
            "{port}: the flash did not verify ({last}): flash again, then try another cable",
            "{port}：写入后校验失败（{last}）：再刷一次，仍失败就换一根线",
        ),
    ),
    (
        Problem.LOST,
        re.compile(r"(Timed out waiting for packet|Lost connection|Invalid head of packet|Serial data stream stopped)", re.I),
        Text(
            "{port}: the ESP32 stopped answering in the middle ({last}): use a shorter cable or "
            "a powered hub, and flash again",
            "{port}：ESP32 中途停止应答（{last}）：换一根短一些的线或使用带电源的集线器，然后再刷写",
        ),
    ),
]  # fmt: skip


def _last(output: str) -> str:
    lines = [x.strip() for x in output.splitlines() if x.strip()]
    fatal = [x for x in lines if "error" in x.lower()]
    return (fatal or lines or [""])[-1].removeprefix("A fatal error occurred: ")


def classify_esptool(output: str, port: str) -> tuple[Problem, Text]:
    """What a failed esptool run's output says went wrong, and what to do."""
    last = _last(output)
    for problem, pattern, advice in _PATTERNS:
        if pattern.search(output):
            if advice is None:
                return problem, permission_message(port)
            return problem, advice.format(port=port, last=last)
    return Problem.TOOL, Text(
        f"esptool failed on {port}: {last}", f"esptool 在 {port} 上失败：{last}"
    )


def flash_esptool(job: Job) -> str:
    """Flash an ESP32 with ``esptool write-flash`` at 0x0; the port (it stays the same)."""
    program = job.env.esptool
    if program is None:
        raise Outcome(
            Problem.TOOL_MISSING,
            Text(
                "esptool is not installed: pip install 'roboclass[esp32]' (RoboClass runs it as "
                "a separate program)",
                "没有安装 esptool：pip install 'roboclass[esp32]'（RoboClass 把它作为独立程序运行）",
            ),
        )
    job.status("esptool write-flash")
    ok, output = job.run(
        esptool_command(program, job.port, job.firmware), esptool_progress, env=QUIET
    )
    if not ok:
        raise Outcome(*classify_esptool(output, job.port))
    return job.port
