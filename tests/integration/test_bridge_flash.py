"""`roboclass bridge flash` (= `roboclass flash`): avrdude's command line, logs, advice.

avrdude itself is replaced by a recording script here, so these tests are
quick and cover what a real hub would show (failures avrdude prints, the baud
fallback); the HELLO check after "flashing" talks to the real firmware under
simavr. tests/integration/test_flash_sim.py runs the real avrdude against real
bootloaders.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from firmware_bridge.boards import KINDS
from firmware_bridge.flash import Problem, avrdude_command, classify_avrdude, flash_one
from firmware_bridge.simboard import SimBoard
from roboclass.cli import cli
from tests.integration.test_bridge_firmware import built

pytestmark = pytest.mark.integration

FAKE_AVRDUDE = """#!/bin/sh
echo "$@" >> "{record}"
echo "avrdude: reading input file"
if [ -n "{fail}" ]; then echo "avrdude warning: attempt 3 of 3: not in sync: resp=0x00"; exit 1; fi
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
    cmd = avrdude_command("/dev/ttyUSB0", Path("fw.hex"), baud=57600, kind=KINDS["nano-old"])
    assert cmd == [
        "avrdude", "-p", "m328p", "-c", "arduino", "-P", "/dev/ttyUSB0",
        "-b", "57600", "-x", "attempts=3", "-D", "-U", "flash:w:fw.hex:i",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("output", "problem"),
    [
        ("avrdude OS error: cannot open port /dev/ttyUSB0: Permission denied", Problem.PERMISSION),
        ("avrdude OS error: cannot open port /dev/ttyUSB0: Device or resource busy", Problem.PORT_BUSY),
        ("avrdude warning: attempt 3 of 3: not in sync: resp=0x00", Problem.NO_BOOTLOADER),
        ("device signature = 0x1e950f\nprogrammer is not responding", Problem.LOST),
        ("avrdude error: expected signature for ATmega328P is 1E 95 0F", Problem.WRONG_BOARD),
        ("avrdude error: verification mismatch\n  first mismatch at byte 0x0100", Problem.VERIFY_FAILED),
        ("something else", Problem.AVRDUDE),
    ],
)  # fmt: skip
def test_avrdude_output_is_classified(output: str, problem: Problem) -> None:
    assert classify_avrdude(output) is problem


def test_flash_then_hello_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, isolated_dirs: Path
) -> None:
    record = fake_avrdude(tmp_path, monkeypatch)
    hexfile = built("roboclass_firmware.hex")
    with SimBoard(built("roboclass_firmware.elf")) as board:
        result = CliRunner().invoke(cli, ["bridge", "flash", "--port", board.port, "--json"])
    assert result.exit_code == 0, result.output
    (report,) = json.loads(result.output)["boards"]
    assert report["ok"] and report["version"] == "1.0.0" and report["baud"] == 115200
    assert f"-P {board.port}" in record.read_text()
    assert f"flash:w:{hexfile}:i" in record.read_text()
    log = Path(report["log"])
    assert log.is_relative_to(isolated_dirs) and "bytes of flash verified" in log.read_text()


def test_a_failing_avrdude_is_reported_with_advice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, isolated_dirs: Path
) -> None:
    fake_avrdude(tmp_path, monkeypatch, fail=True)
    built("roboclass_firmware.hex")
    port = tmp_path / "ttyUSB9"
    port.touch()  # a port that exists but where no bootloader answers
    result = flash_one(str(port), log_dir=tmp_path)
    assert not result.ok and result.problem == "no_bootloader"
    assert "did not answer at 115200 or 57600 baud" in result.error
    assert "reset button" in result.error
    assert (
        "-b 115200" in Path(result.log).read_text() and "-b 57600" in Path(result.log).read_text()
    )


def test_unsupported_boards_and_bad_ports_fail_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, isolated_dirs: Path
) -> None:
    fake_avrdude(tmp_path, monkeypatch)
    built("roboclass_firmware.hex")
    esp = flash_one(str(tmp_path / "x"), board="esp32", log_dir=tmp_path)
    assert esp.problem == "unsupported" and "not in this release" in esp.error
    gone = flash_one(str(tmp_path / "ttyUSB7"), log_dir=tmp_path)
    assert gone.problem == "no_port" and "plugged in" in gone.error


def test_a_board_still_on_old_firmware_fails_the_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, isolated_dirs: Path
) -> None:
    fake_avrdude(tmp_path, monkeypatch)
    built("roboclass_firmware.hex")
    with SimBoard(built("roboclass_firmware_v0.elf")) as board:
        result = CliRunner().invoke(cli, ["flash", board.port, "--json"])
    assert result.exit_code == 1
    (report,) = json.loads(result.output)["boards"]
    assert not report["ok"] and report["problem"] == "wrong_version"
    assert "another protocol" in report["error"] and "0.9.0" in report["error"]
