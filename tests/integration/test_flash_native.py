"""Native-USB and ESP32 boards with the real tools, no hardware.

A Leonardo on ptys (firmware_bridge.flashing.fake_pty.PtyLeonardo): the real
1200-baud touch (pyserial) is seen in the pty's termios; the bootloader's
new port is a second pty where Caterina's avr109 protocol answers; the real
avrdude (-c avr109 -p m32u4 -b 57600) writes and verifies through it; the
board's own port comes back and the HELLO check runs there. Then the real
esptool (the optional `esp32` extra, run as a separate process): its
version, and a run against a pty with no chip behind it, whose error is
turned into the "hold BOOT" advice.
"""

from __future__ import annotations

import os
import termios
from collections.abc import Iterator
from pathlib import Path

import pytest

from firmware_bridge.flash import flash_one
from firmware_bridge.flashing.base import Problem, run_logged
from firmware_bridge.flashing.checks import port_problem
from firmware_bridge.flashing.esp import (
    classify_esptool,
    esptool_command,
    esptool_program,
    esptool_version,
)
from firmware_bridge.flashing.fake import FakeHub, intel_hex
from firmware_bridge.flashing.fake_pty import PtyLeonardo
from firmware_bridge.flashing.touch import open_touch
from tests.conftest import missing, system_part

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]


@pytest.fixture
def leonardo() -> Iterator[tuple[FakeHub, PtyLeonardo]]:
    hub = FakeHub()
    board = hub.add(PtyLeonardo())
    yield hub, board
    board.close()


def test_a_leonardo_on_ptys_is_touched_and_flashed_by_the_real_avrdude(
    leonardo: tuple[FakeHub, PtyLeonardo], tmp_path: Path
) -> None:
    avrdude = str(system_part("avrdude"))
    hub, board = leonardo
    data = os.urandom(3000)
    hexfile = tmp_path / "robot32u4.hex"
    hexfile.write_text(intel_hex(data))
    hexfile.with_suffix(".version").write_text("1.1.0")
    app = board.app
    env = hub.env(open_serial=open_touch, port_check=port_problem, avrdude=avrdude, poll=0.01)
    result = flash_one(app, firmware=[("leonardo", hexfile)], log_dir=tmp_path, env=env)
    log = Path(result.log).read_text()
    assert result.ok, result.error + "\n" + log
    # the touch really set 1200 baud on the application's pty
    assert board.speeds[-1] == termios.B1200
    # the bootloader (a new pty, product id 0x0036) got the image, avrdude verified it
    assert board.caterina is not None and board.caterina.done.is_set()
    assert bytes(board.caterina.flash[: len(data)]) == data
    assert f"-c avr109 -P {board.caterina.device} -b 57600" in log
    assert "bytes of flash verified" in log
    # the board came back on a new port and answered HELLO there
    assert result.now_at == board.app != app and result.version == "1.1.0"
    assert result.baud == 57600


def test_the_real_esptool_runs_as_a_separate_program(tmp_path: Path) -> None:
    program = esptool_program()
    if program is None:
        missing("esptool is not installed (pip install 'roboclass[esp32]'; the dev extra has it)")
    version = esptool_version(program)
    assert version is not None and version.split(".")[0].isdigit(), version
    master, slave = os.openpty()  # a port with no ESP32 behind it
    try:
        port = os.ttyname(slave)
        image = tmp_path / "robot.bin"
        image.write_bytes(b"\xe9" + bytes(4095))
        cmd = esptool_command(program, port, image, connect_attempts=1)
        code, output = run_logged(cmd, tmp_path / "esptool.log", timeout=120)
    finally:
        os.close(slave)
        os.close(master)
    assert code != 0
    problem, advice = classify_esptool(output, port)
    assert problem is Problem.NO_BOOTLOADER, output
    assert "hold the BOOT (IO0) button" in advice.en
    assert "Failed to connect" in (tmp_path / "esptool.log").read_text()
