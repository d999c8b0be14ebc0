"""ESP32 through esptool (a separate process): its command line, its output, its errors.

The samples are esptool's own words: the progress lines as esptool 5.6's
logger prints them when its output is not a terminal, esptool 4's older
``(42 %)`` lines, and its error messages (the connect failure was recorded
from a real esptool run against a pty with no chip behind it). A recording
script stands in for esptool when a whole board is flashed.
"""

from __future__ import annotations

import ast
import stat
from pathlib import Path

import pytest

from firmware_bridge.flash import flash_one
from firmware_bridge.flashing.base import Problem
from firmware_bridge.flashing.esp import classify_esptool, esptool_command, esptool_progress
from firmware_bridge.flashing.fake import FakeESP32, FakeHub

ROOT = Path(__file__).resolve().parents[2]

V5_OK = """esptool v5.6.0
Connected to ESP32 on /dev/ttyUSB0:
Chip type:          ESP32-D0WD-V3 (revision v3.1)
Features:           Wi-Fi, BT, Dual Core + LP Core, 240MHz, Vref calibration in eFuse, Coding Scheme None
Crystal frequency:  40MHz
MAC:                a0:b7:65:12:34:56

Stub flasher running.
Changing baud rate to 460800...
Changed.

Configuring flash size...
Flash will be erased from 0x00000000 to 0x00001fff...
Writing at 0x00000800 ━━━━━━━╸                        25.0% 2048/8192 [0s]
Writing at 0x00001000 ━━━━━━━━━━━━━━━                 50.0% 4096/8192 [0s]
Writing at 0x00001800 ━━━━━━━━━━━━━━━━━━━━━━╸         75.0% 6144/8192 [0s]
Writing at 0x00002000 ━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━ 100.0% 8192/8192 [0s]
Wrote 8192 bytes (1163 compressed) at 0x00000000 in 0.2 seconds (301.4 kbit/s).
Verifying written data...
Hash of data verified.

Hard resetting via RTS pin...
"""

V4_PROGRESS = """esptool.py v4.7.0
Serial port /dev/ttyUSB0
Connecting....
Chip is ESP32-D0WD-V3 (revision v3.1)
Writing at 0x00010000... (3 %)
Writing at 0x0001c2d1... (42 %)
"""

NO_CHIP = """esptool v5.6.0
Serial port /dev/pts/0:
Connecting.......
WARNING: Chip was NOT reset. Setting RTS/DTR lines is not supported for port '/dev/pts/0'.
ERROR: A fatal error occurred: Failed to connect to Espressif device: No serial data received.
For troubleshooting steps visit: https://docs.espressif.com/projects/esptool/en/latest/troubleshooting.html
"""

FAILURES = [
    (NO_CHIP, Problem.NO_BOOTLOADER, "hold the BOOT (IO0) button"),
    (
        "A fatal error occurred: Failed to connect to ESP32: Wrong boot mode detected (0x13)! "
        "The chip needs to be in download mode.",
        Problem.NO_BOOTLOADER,
        "press and release EN/RESET",
    ),
    (
        "A fatal error occurred: Could not open /dev/ttyUSB0, the port is busy or doesn't exist.\n"
        "([Errno 13] could not open port /dev/ttyUSB0: [Errno 13] Permission denied: '/dev/ttyUSB0')",
        Problem.PERMISSION,
        "join the `dialout` group",
    ),
    (
        "A fatal error occurred: Could not open /dev/ttyUSB0, the port is busy or doesn't exist.\n"
        "([Errno 16] could not open port /dev/ttyUSB0: [Errno 16] Device or resource busy)",
        Problem.PORT_BUSY,
        "close the program using it",
    ),
    (
        "A fatal error occurred: This chip is ESP32-S3, not ESP32. Wrong --chip argument?",
        Problem.WRONG_BOARD,
        "is it an ESP32 board",
    ),
    (
        "Verifying written data...\nInput MD5: 3b5d\nFlash MD5: 9f86\n"
        "A fatal error occurred: MD5 of file does not match data in flash!",
        Problem.VERIFY_FAILED,
        "did not verify (MD5 of file does not match data in flash!)",
    ),
    (
        "A fatal error occurred: Timed out waiting for packet header",
        Problem.LOST,
        "stopped answering in the middle",
    ),
    ("A fatal error occurred: Something new", Problem.TOOL, "esptool failed on /dev/ttyUSB0"),
]


def test_command_line() -> None:
    assert esptool_command(["esptool"], "/dev/ttyUSB0", Path("robot.bin")) == [
        "esptool", "--chip", "auto", "--port", "/dev/ttyUSB0", "--baud", "460800",
        "--before", "default-reset", "--after", "hard-reset", "write-flash", "0x0", "robot.bin",
    ]  # fmt: skip
    legacy = esptool_command(
        ["python3", "-m", "esptool"], "/dev/ttyUSB1", Path("a.bin"), baud=115200, chip="esp32",
        offset=0x10000, legacy=True, connect_attempts=2,
    )  # fmt: skip
    assert legacy == [
        "python3", "-m", "esptool", "--chip", "esp32", "--port", "/dev/ttyUSB1", "--baud",
        "115200", "--connect-attempts", "2", "--before", "default_reset", "--after", "hard_reset",
        "write_flash", "0x10000", "a.bin",
    ]  # fmt: skip


def test_progress_from_esptool_5_and_4() -> None:
    lines = V5_OK.splitlines(keepends=True)
    seen = [esptool_progress("".join(lines[: i + 1])) for i in range(len(lines))]
    shares = [s for s in seen if s is not None]
    assert shares[:4] == [0.25, 0.5, 0.75, 1.0] and shares[-1] == 1.0
    assert esptool_progress(V4_PROGRESS) == 0.42
    assert esptool_progress("Connecting....") is None


@pytest.mark.parametrize(("output", "problem", "advice"), FAILURES)
def test_errors_become_advice(output: str, problem: Problem, advice: str) -> None:
    found, text = classify_esptool(output, "/dev/ttyUSB0")
    assert found is problem
    assert advice in text.en and text.zh and text.zh != text.en


def fake_esptool(tmp_path: Path, output: str, code: int) -> list[str]:
    sample = tmp_path / "esptool-output.txt"
    sample.write_text(output)
    script = tmp_path / "esptool"
    script.write_text(
        f'#!/bin/sh\necho "$@" > "{tmp_path}/esptool-args.txt"\ncat "{sample}"\nexit {code}\n'
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return [str(script)]


def image(tmp_path: Path) -> Path:
    path = tmp_path / "robot.bin"
    path.write_bytes(b"\xe9\x03\x02\x20" + bytes(8188))  # an ESP image header at 0x0
    path.with_suffix(".version").write_text("1.1.0")
    return path


def test_an_esp32_is_flashed_by_one_esptool_process(tmp_path: Path) -> None:
    hub = FakeHub()
    hub.add(FakeESP32())
    shares: list[float] = []
    result = flash_one(
        "/dev/ttyUSB0", firmware=[("", image(tmp_path))], log_dir=tmp_path,
        env=hub.env(esptool=fake_esptool(tmp_path, V5_OK, 0)),
        on_progress=lambda port, share: shares.append(share),
    )  # fmt: skip
    assert result.ok, result.error
    assert result.kind == "esp32" and result.version == "1.1.0" and result.now_at == "/dev/ttyUSB0"
    args = (tmp_path / "esptool-args.txt").read_text().split()
    assert args[args.index("write-flash") :] == ["write-flash", "0x0", str(tmp_path / "robot.bin")]
    assert shares and shares[-1] == 1.0 and shares == sorted(shares)
    assert "Hash of data verified." in Path(result.log).read_text()


def test_a_board_not_in_download_mode_is_told_to_hold_boot(tmp_path: Path) -> None:
    hub = FakeHub()
    hub.add(FakeESP32())
    result = flash_one(
        "/dev/ttyUSB0", firmware=[("esp32", image(tmp_path))], log_dir=tmp_path,
        env=hub.env(esptool=fake_esptool(tmp_path, NO_CHIP, 2)),
    )  # fmt: skip
    assert result.problem == "no_bootloader" and "hold the BOOT (IO0) button" in result.error
    assert "按住 BOOT" in result.error_zh


def test_without_esptool_the_extra_is_named(tmp_path: Path) -> None:
    hub = FakeHub()
    hub.add(FakeESP32())
    result = flash_one(
        "/dev/ttyUSB0", firmware=[("esp32", image(tmp_path))], log_dir=tmp_path, env=hub.env()
    )
    assert result.problem == "tool_missing" and "roboclass[esp32]" in result.error


def test_a_file_that_is_no_esp32_image_is_refused(tmp_path: Path) -> None:
    hub = FakeHub()
    hub.add(FakeESP32())
    junk = tmp_path / "notes.bin"
    junk.write_bytes(b"hello")
    result = flash_one(
        "/dev/ttyUSB0", firmware=[("esp32", junk)], log_dir=tmp_path,
        env=hub.env(esptool=fake_esptool(tmp_path, V5_OK, 0)),
    )  # fmt: skip
    assert result.problem == "bad_firmware" and "needs an ESP32 image (.bin)" in result.error
    assert not (tmp_path / "esptool-args.txt").exists()


def test_no_esp32_firmware_yet_is_said_in_both_languages(tmp_path: Path) -> None:
    hub = FakeHub()
    hub.add(FakeESP32())
    result = flash_one("/dev/ttyUSB0", log_dir=tmp_path, env=hub.env())
    assert result.problem == "no_firmware"
    assert (
        "--firmware esp32=FILE.bin" in result.error
        and "--firmware esp32=文件.bin" in result.error_zh
    )


def test_esptool_is_never_imported() -> None:
    """esptool is GPL-2.0: RoboClass only runs it as a separate program."""
    for path in (ROOT / "firmware_bridge").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            assert not any(n.split(".")[0] == "esptool" for n in names), path
