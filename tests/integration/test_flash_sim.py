"""`roboclass flash` against simulated UNOs running real bootloaders (issue 12's acceptance).

Each board is simavr running the bootloader shipped by arduino-core-avr
(optiboot at 115200, built from its source by `make firmware`, or the old
Nano's ATmegaBOOT at 57600) with the old firmware (0.9.0) as application,
its UART on a pty. The harness resets the MCU when the pty is opened (an
UNO's DTR auto-reset) and garbles bytes sent at the wrong baud rate, so the
real avrdude talks to the real bootloader exactly as on a hub of boards:
it writes and verifies our firmware, the bootloader starts it, the HELLO
check finds 1.2.0, and each board is given its name (robot-01...), written to
its EEPROM and read back. No wall-clock assumptions: the simulated time only has
to reach the bootloader's own timeouts.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from firmware_bridge.simboard import ATMEGABOOT, SimBoard, optiboot
from roboclass.cli import cli
from tests.conftest import missing, system_part
from tests.integration.test_bridge_firmware import built

# avrdude at 115200 and 57600, five boards on a busy 2-core machine: minutes, not seconds
pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]


def need_tools() -> None:
    built("roboclass_firmware.hex")
    built("optiboot_atmega328.hex")
    if not ATMEGABOOT.exists():
        missing(f"{ATMEGABOOT} is missing (Debian package arduino-core-avr)")
    system_part("avrdude")


@pytest.fixture
def hub() -> Iterator[dict[str, SimBoard]]:
    """Four simulated boards still on the old firmware: three optiboot UNOs, one old Nano."""
    need_tools()
    old = built("roboclass_firmware_v0.elf")
    with ExitStack() as stack:
        boards = {
            f"uno{i}": stack.enter_context(
                SimBoard(old, bootloader=optiboot(), instance_id=0xB0A4D000 + i)
            )
            for i in range(3)
        }
        boards["nano-old"] = stack.enter_context(
            SimBoard(old, bootloader=ATMEGABOOT, instance_id=0xB0A4D0FF)
        )
        yield boards


@pytest.fixture
def holder() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Processes that keep a port open (another program using the board)."""
    procs: list[subprocess.Popen[bytes]] = []
    yield procs
    for proc in procs:
        proc.terminate()
        proc.wait(timeout=5)


def hold(port: str, procs: list[subprocess.Popen[bytes]]) -> int:
    fd = os.open(port, os.O_RDWR | os.O_NOCTTY)
    try:
        proc = subprocess.Popen(["sleep", "600"], stdout=fd)
    finally:
        os.close(fd)
    procs.append(proc)
    return proc.pid


def test_a_hub_of_simulated_boards(
    hub: dict[str, SimBoard],
    holder: list[subprocess.Popen[bytes]],
    tmp_path: Path,
    isolated_dirs: Path,
) -> None:
    busy_pid = hold(hub["uno2"].port, holder)  # e.g. a serial monitor left open
    dead = str(tmp_path / "ttyUSB-unplugged")
    ports = [b.port for b in hub.values()] + [dead]
    result = CliRunner().invoke(cli, ["flash", *ports, "--name-pattern", "robot-{n:02d}", "--json"])
    assert result.exit_code == 1, result.output  # two boards failed
    for name, board in hub.items():  # shown when the test fails
        print(name, board.port, board.stderr())
    report = json.loads(result.output)
    assert (report["ok"], report["failed"]) == (3, 2)
    boards = {b["port"]: b for b in report["boards"]}
    assert list(boards) == ports  # in the order given

    good = [hub[n].port for n in ("uno0", "uno1", "nano-old")]
    for i, port in enumerate(good, start=1):
        board = boards[port]
        assert board["result"] == "ok" and board["ok"], board
        assert board["version"] == "1.2.0"
        assert board["name"] == f"robot-{i:02d}"
        assert board["duration_s"] > 0
        assert board["identity"]["device"] == port
        assert board["identity"]["instance_id"].startswith("b0a4d0")
        log = Path(board["log"]).read_text()
        assert "bytes of flash verified" in log and "# ok" in log
        assert f"# named 'robot-{i:02d}' (read back from the board's EEPROM)" in log
    assert {boards[p]["baud"] for p in good[:2]} == {115200}
    assert boards[hub["nano-old"].port]["baud"] == 57600  # 115200 tried first: no answer
    assert "not in sync" in Path(boards[hub["nano-old"].port]["log"]).read_text()

    busy = boards[hub["uno2"].port]
    assert busy["result"] == "failed" and busy["problem"] == "port_busy"
    assert f"sleep (pid {busy_pid})" in busy["error"] and busy["version"] is None
    gone = boards[dead]
    assert gone["problem"] == "no_port" and "plugged in" in gone["error"]

    # the board runs the new firmware: ping shows its version and its own name (EEPROM)
    # opening the port resets the board (DTR), as on a real UNO: the bootloader runs first
    answer = ping(good[1])
    assert answer["hello"]["firmware"] == "1.2.0"
    assert answer["hello"]["instance_id"] == boards[good[1]]["identity"]["instance_id"]
    assert answer["hello"]["name"] == answer["name"] == "robot-02"

    # the inventory remembers every board; flashing again keeps the names, and the
    # board that was busy gets the next free one once its port is free
    for proc in holder:
        proc.terminate()
        proc.wait(timeout=5)
    holder.clear()
    uno2 = hub["uno2"].port
    again = CliRunner().invoke(
        cli, ["flash", good[0], uno2, dead, "--name-pattern", "robot-{n:02d}"]
    )
    assert again.exit_code == 1
    assert "summary: 2 ok, 1 failed" in again.output
    text = " ".join(again.output.split())  # the console wraps long lines at any width
    assert "robot-01" in text and "robot-04" in text and "does not exist" in text
    assert ping(uno2)["hello"]["name"] == "robot-04"  # written on the fourth board too
    listed = CliRunner().invoke(cli, ["flash", "--inventory", "--json"])
    inventory = json.loads(listed.output)
    names = sorted(b["name"] for b in inventory["boards"] if b["name"])
    assert names == ["robot-01", "robot-02", "robot-03", "robot-04"]
    assert {b["result"] for b in inventory["boards"] if b["name"]} == {"ok"}
    assert Path(inventory["inventory"]).is_relative_to(isolated_dirs)


def test_the_wrong_bootloader_speed_is_explained(tmp_path: Path, isolated_dirs: Path) -> None:
    need_tools()
    with SimBoard(built("roboclass_firmware_v0.elf"), bootloader=ATMEGABOOT) as nano:
        result = CliRunner().invoke(cli, ["flash", nano.port, "--board", "uno", "--json"])
    assert result.exit_code == 1
    (board,) = json.loads(result.output)["boards"]
    assert board["problem"] == "no_bootloader"
    assert "did not answer at 115200 baud" in board["error"]
    assert "reset button" in board["error"] and "--board nano-old" in board["error"]


def ping(port: str) -> dict[str, Any]:
    result = CliRunner().invoke(
        cli, ["bridge", "ping", port, "--count", "2", "--timeout", "10", "--json"]
    )
    assert result.exit_code == 0, result.output
    answer: dict[str, Any] = json.loads(result.output)
    return answer
