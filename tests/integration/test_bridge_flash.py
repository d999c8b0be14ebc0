"""`roboclass bridge flash`: avrdude's command line, one log per board, the HELLO check.

avrdude itself is replaced by a recording script (no bootloader runs under
simavr here); the HELLO check after "flashing" talks to the real firmware
under simavr.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from firmware_bridge.flash import avrdude_command, flash_one
from firmware_bridge.simboard import SimBoard
from roboclass.cli import cli
from tests.integration.test_bridge_firmware import built

pytestmark = pytest.mark.integration

FAKE_AVRDUDE = """#!/bin/sh
echo "$@" >> "{record}"
echo "avrdude: reading input file"
if [ -n "{fail}" ]; then echo "avrdude: stk500_recv(): programmer is not responding"; exit 1; fi
echo "avrdude: 13114 bytes of flash verified"
"""


def fake_avrdude(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fail: bool = False) -> Path:
    record = tmp_path / "avrdude-args.txt"
    script = tmp_path / "avrdude"
    script.write_text(FAKE_AVRDUDE.format(record=record, fail="yes" if fail else ""))
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("ROBOCLASS_AVRDUDE", str(script))
    return record


def test_avrdude_command_line() -> None:
    cmd = avrdude_command("/dev/ttyUSB0", Path("fw.hex"), bootloader="old", avrdude="avrdude")
    assert cmd == [
        "avrdude", "-p", "atmega328p", "-c", "arduino", "-P", "/dev/ttyUSB0",
        "-b", "57600", "-D", "-U", "flash:w:fw.hex:i",
    ]  # fmt: skip


def test_flash_then_hello_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, isolated_dirs: Path
) -> None:
    record = fake_avrdude(tmp_path, monkeypatch)
    hexfile = built("roboclass_firmware.hex")
    with SimBoard(built("roboclass_firmware.elf")) as board:
        result = CliRunner().invoke(cli, ["bridge", "flash", "--port", board.port, "--json"])
    assert result.exit_code == 0, result.output
    (report,) = json.loads(result.output)
    assert report["ok"] and report["firmware"] == "1.0.0"
    assert f"-P {board.port}" in record.read_text()
    assert f"flash:w:{hexfile}:i" in record.read_text()
    log = Path(report["log"])
    assert log.is_relative_to(isolated_dirs) and "bytes of flash verified" in log.read_text()


def test_a_failing_avrdude_is_reported_with_advice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, isolated_dirs: Path
) -> None:
    fake_avrdude(tmp_path, monkeypatch, fail=True)
    built("roboclass_firmware.hex")
    result = flash_one("/dev/ttyUSB9", log_dir=tmp_path)
    assert not result.ok
    assert "programmer is not responding" in result.error
    assert "--bootloader old" in result.error


def test_a_board_still_on_old_firmware_fails_the_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, isolated_dirs: Path
) -> None:
    fake_avrdude(tmp_path, monkeypatch)
    built("roboclass_firmware.hex")
    with SimBoard(built("roboclass_firmware_v0.elf")) as board:
        result = CliRunner().invoke(cli, ["bridge", "flash", "--port", board.port, "--json"])
    assert result.exit_code == 1
    (report,) = json.loads(result.output)
    assert not report["ok"]
    assert "HELLO check failed" in report["error"] and "0.9.0" in report["error"]
