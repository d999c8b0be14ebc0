"""`roboclass bridge flash` (= `roboclass flash`): avrdude's command line, logs, advice.

avrdude itself is replaced by a recording script here, so these tests are
quick and cover what a real hub would show (failures avrdude prints, the baud
fallback); the HELLO check after "flashing" talks to the real firmware under
simavr. tests/integration/test_flash_sim.py runs the real avrdude against real
bootloaders.
"""

from __future__ import annotations

import grp
import json
import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from firmware_bridge.boards import KINDS, kind_for
from firmware_bridge.flash import (
    FlashResult,
    Problem,
    _permission_message,
    avrdude_command,
    classify_avrdude,
    flash_one,
)
from firmware_bridge.inventory import Inventory, check_pattern
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
    assert report["ok"] and report["version"] == "1.2.0" and report["baud"] == 115200
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
    assert esp.problem == "no_firmware" and "no RoboClass firmware for this board yet" in esp.error
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


def test_permission_advice_names_the_group(tmp_path: Path) -> None:
    port = tmp_path / "ttyUSB0"
    port.touch()
    os.chown(port, -1, grp.getgrnam("dialout").gr_gid)
    assert "join the `dialout` group" in _permission_message(str(port))
    assert "usermod -aG dialout" in _permission_message(str(port))


def result(port: str, ok: bool = True, **identity: str) -> FlashResult:
    return FlashResult(port, ok, 1.0, "1.0.0" if ok else None, "", identity=identity)


def test_inventory_names_are_stable_and_keyed_by_identity(tmp_path: Path) -> None:
    with Inventory(tmp_path / "boards.sqlite") as inv:
        first = inv.record(
            [
                result("/dev/ttyUSB0", instance_id="0000beef"),  # a CH340: no serial number
                result("/dev/ttyUSB1", ok=False, location="1-2.3"),  # failed: no name
                result("/dev/ttyACM0", serial_number="8573", vid="2341", pid="0043"),
            ],
            name_pattern="robot-{n:02d}",
        )
        assert [r.name for r in first] == ["robot-01", None, "robot-02"]
        # the CH340 came back on another port: same instance id, same name; a new board
        again = inv.record(
            [
                result("/dev/ttyUSB7", instance_id="0000beef"),
                result("/dev/ttyUSB8", instance_id="1"),
            ],
            name_pattern="robot-{n:02d}",
        )
        assert [r.name for r in again] == ["robot-01", "robot-03"]
        boards = inv.boards()
        assert len(boards) == 4 and boards[0]["port"] == "/dev/ttyUSB8"
        assert {b["key"] for b in boards} >= {"id:0000beef", "location:1-2.3", "usb:2341:0043:8573"}
        assert inv.name_of({"instance_id": "0000beef"}) == "robot-01"
    assert inv.closed
    inv.close()  # twice is fine


@pytest.mark.parametrize("pattern", ["robot", "robot-{m}", "robot-{n:zz}"])
def test_bad_name_patterns_are_refused(pattern: str) -> None:
    with pytest.raises(ValueError, match="robot-"):
        check_pattern(pattern)
    result = CliRunner().invoke(cli, ["flash", "/dev/null", "--name-pattern", pattern])
    assert result.exit_code == 2 and "--name-pattern" in result.output


def test_boards_are_told_apart_by_usb_ids() -> None:
    assert kind_for(0x2341, 0x0043) is KINDS["uno"]
    assert kind_for(0x1A86, 0x7523) is KINDS["nano"] and KINDS["nano"].bauds == (115200, 57600)
    assert KINDS["esp32"].flashable and not KINDS["esp32"].has_firmware
    assert not KINDS["nano-every"].flashable
    assert kind_for(None, None) is None and kind_for(0x1234, 0x5678) is None


def test_flash_names_the_board_in_its_eeprom(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, isolated_dirs: Path
) -> None:
    fake_avrdude(tmp_path, monkeypatch)
    with SimBoard(built("roboclass_firmware.elf")) as board:
        result = CliRunner().invoke(
            cli, ["flash", board.port, "--name-pattern", "class-{n}", "--json"]
        )
        assert result.exit_code == 0, result.output
        (report,) = json.loads(result.output)["boards"]
        assert report["ok"] and report["name"] == "class-1"
        assert "# named 'class-1'" in Path(report["log"]).read_text()
        ping = CliRunner().invoke(cli, ["bridge", "ping", board.port, "--json"])
        answer = json.loads(ping.output)
        assert answer["hello"]["name"] == "class-1"  # from the board, not the inventory
        assert answer["inventory_name"] == "class-1"


def test_a_name_pattern_a_board_cannot_store_is_refused(isolated_dirs: Path) -> None:
    result = CliRunner().invoke(cli, ["flash", "/dev/null", "--name-pattern", "Robot {n}"])
    assert result.exit_code == 2
    assert "a-z, 0-9" in result.output
