"""The 1200-baud touch and the port switch (Leonardo / Pro Micro), on the package's fakes.

The scripted boards (firmware_bridge.flashing.fake) play the USB side:
the touch moves a board to its bootloader's new port, avrdude is a
recording script, the HELLO check talks to a FakeBoard. One test touches a
real pty and reads its line speed back with termios.
"""

from __future__ import annotations

import os
import stat
import termios
from pathlib import Path

import pytest

from firmware_bridge.flash import flash_many, flash_one
from firmware_bridge.flashing.base import Outcome, Problem
from firmware_bridge.flashing.fake import FakeHub, FakeLeonardo, intel_hex, port_info
from firmware_bridge.flashing.touch import (
    PortClaims,
    new_port,
    open_touch,
    port_back,
    socket_of,
    touch_1200,
)

FAKE_AVRDUDE = """#!/bin/sh
echo "$@" >> "{record}"
echo "avrdude: device signature = 0x1e9587 (probably m32u4)"
printf 'Writing | '; for i in $(seq 50); do printf '#'; done; echo ' | 100% 0.10s'
printf 'Reading | '; for i in $(seq 50); do printf '#'; done; echo ' | 100% 0.10s'
echo "avrdude: 2560 bytes of flash verified"
"""

LEO_IDS = frozenset({(0x2341, 0x0036)})


@pytest.fixture
def avrdude(tmp_path: Path) -> tuple[str, Path]:
    record = tmp_path / "avrdude-args.txt"
    script = tmp_path / "avrdude"
    script.write_text(FAKE_AVRDUDE.format(record=record))
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(script), record


@pytest.fixture
def hexfile(tmp_path: Path) -> Path:
    path = tmp_path / "robot32u4.hex"
    path.write_text(intel_hex(bytes(range(256)) * 4))
    path.with_suffix(".version").write_text("1.1.0\n")
    return path


def test_the_touch_opens_at_1200_drops_dtr_and_closes() -> None:
    hub = FakeHub()
    hub.add(FakeLeonardo())
    touch_1200("/dev/ttyACM0", hub.open_serial)
    assert hub.serial_log == [
        ("open", "/dev/ttyACM0", 1200),
        ("dtr", "/dev/ttyACM0", 0),
        ("close", "/dev/ttyACM0", 1200),
    ]


def test_the_touch_really_sets_1200_baud_on_a_pty() -> None:
    master, slave = os.openpty()
    try:
        device = os.ttyname(slave)
        os.close(slave)
        assert termios.tcgetattr(master)[5] != termios.B1200
        touch_1200(device, open_touch)  # a pty has no DTR line: not an error
        # the slave's settings, seen from the master
        ispeed, ospeed = termios.tcgetattr(master)[4:6]
        assert ispeed == ospeed == termios.B1200
    finally:
        os.close(master)


def test_a_port_that_cannot_be_opened_is_a_clear_failure() -> None:
    with pytest.raises(Outcome) as caught:
        touch_1200("/dev/ttyACM9", FakeHub().open_serial)
    assert caught.value.problem is Problem.NO_PORT and "1200-baud touch" in caught.value.error


def test_new_port_matches_the_board_by_its_hub_socket() -> None:
    a = port_info("/dev/ttyACM0", 0x2341, 0x8036, "1-2.1:1.0", None, "leonardo")
    b = port_info("/dev/ttyACM1", 0x2341, 0x8036, "1-2.2:1.0", None, "leonardo")
    # both touched at once: B's bootloader shows up first, and A's reuses A's device name
    b_boot = port_info("/dev/ttyACM2", 0x2341, 0x0036, "1-2.2:1.0", None, "leonardo")
    a_boot = port_info("/dev/ttyACM0", 0x2341, 0x0036, "1-2.1:1.0", None, "leonardo")
    claims = PortClaims()
    assert new_port([a, b], [b_boot], origin=a, claims=claims) is None
    assert new_port([a, b], [b_boot, a_boot], origin=a, claims=claims) == a_boot
    assert new_port([a, b], [b_boot, a_boot], origin=b, claims=claims) == b_boot
    assert new_port([a, b], [a, b], origin=a, claims=claims) is None  # nothing new yet
    assert socket_of("1-2.1:1.0") == "1-2.1" and socket_of(None) is None


def test_without_a_location_new_ports_are_told_apart_by_ids_and_claims() -> None:
    pty = port_info("/dev/pts/7", 0x2341, 0x8036, None, None, "leonardo")
    other = port_info("/dev/ttyUSB3", 0x1A86, 0x7523, None, None, "nano")  # plugged in meanwhile
    boot = port_info("/dev/pts/9", 0x2341, 0x0036, None, None, "leonardo")
    claims = PortClaims()
    assert new_port([pty], [other, boot], origin=pty, claims=claims, ids=LEO_IDS) == boot
    assert new_port([pty], [other, boot], origin=pty, claims=claims, ids=LEO_IDS) is None  # taken
    claims.release(boot.device)
    assert new_port([pty], [other, boot], origin=pty, claims=claims, ids=LEO_IDS) == boot


def test_port_back_finds_the_application_again() -> None:
    claims = PortClaims()
    serial = port_info("/dev/ttyACM0", 0x2341, 0x8036, "1-2.1:1.0", "8573", "leonardo")
    moved = port_info("/dev/ttyACM4", 0x2341, 0x8036, "1-3:1.0", "8573", "leonardo")
    boot = port_info("/dev/ttyACM0", 0x2341, 0x0036, "1-2.1:1.0", None, "leonardo")
    # the bootloader still listed under the same name is not the answer
    assert (
        port_back([boot], [boot], origin=serial, device="/dev/ttyACM0", claims=claims, boot=boot)
        is None
    )
    # by serial number, even in another socket
    assert port_back([boot], [moved], origin=serial, device="/dev/ttyACM0", claims=claims) == moved
    # by socket (no serial number)
    nosn = port_info("/dev/ttyACM0", 0x2341, 0x8036, "1-2.1:1.0", None, "leonardo")
    back = port_info("/dev/ttyACM5", 0x2341, 0x8036, "1-2.1:1.0", None, "leonardo")
    assert (
        port_back(
            [boot], [boot, back], origin=nosn, device="/dev/ttyACM0", claims=claims, boot=boot
        )
        == back
    )
    # no USB identity (a pty): the old name, else a port that is new
    pty = port_info("/dev/pts/3", 0x2341, 0x8036, None, None, "leonardo")
    fresh = port_info("/dev/pts/8", 0x2341, 0x8036, None, None, "leonardo")
    assert port_back([], [fresh], origin=pty, device="/dev/pts/3", claims=claims) == fresh
    assert port_back([fresh], [fresh], origin=pty, device="/dev/pts/3", claims=claims) is None


def test_a_leonardo_is_touched_flashed_on_its_bootloader_port_and_checked(
    tmp_path: Path, avrdude: tuple[str, Path], hexfile: Path
) -> None:
    hub = FakeHub()
    leo = hub.add(FakeLeonardo(app_again="/dev/ttyACM2"))  # comes back under another name
    shares: list[float] = []
    result = flash_one(
        "/dev/ttyACM0",
        firmware=[("leonardo", hexfile)],
        log_dir=tmp_path,
        env=hub.env(avrdude=avrdude[0]),
        on_progress=lambda port, share: shares.append(share),
    )
    assert result.ok, result.error
    assert result.kind == "leonardo" and result.version == "1.1.0" and result.baud == 57600
    assert result.now_at == "/dev/ttyACM2" and leo.mode == "app"
    args = avrdude[1].read_text().split()
    assert args[:8] == ["-p", "m32u4", "-c", "avr109", "-P", "/dev/ttyACM1", "-b", "57600"]
    assert "-x" not in args and f"flash:w:{hexfile}:i" in args
    assert ("open", "/dev/ttyACM0", 1200) in hub.serial_log
    assert shares == sorted(shares) and shares[-1] == 1.0 and 0.5 in shares
    log = Path(result.log).read_text()
    assert "# bootloader on /dev/ttyACM1 (2341:0036)" in log and "# HELLO on /dev/ttyACM2" in log
    # no serial number: known by its USB location and the instance id the firmware keeps
    assert (
        result.identity["location"] == "1-1.2:1.0" and result.identity["instance_id"] == "fa4e0001"
    )
    assert result.as_dict()["result"] == "ok" and result.as_dict()["duration_s"] >= 0


def test_a_board_whose_bootloader_never_comes_says_what_to_do(
    tmp_path: Path, avrdude: tuple[str, Path], hexfile: Path
) -> None:
    hub = FakeHub()
    hub.add(FakeLeonardo(dead=True))
    env = hub.env(avrdude=avrdude[0], poll=0.001)
    result = flash_one(
        "/dev/ttyACM0", firmware=[("leonardo", hexfile)], log_dir=tmp_path, env=env, timeout=0.5
    )
    assert result.problem == "no_bootloader"
    assert "press the reset button twice" in result.error and "复位键" in result.error_zh
    assert not avrdude[1].exists()  # avrdude never ran


def test_leonardos_flashed_together_each_use_their_own_bootloader(
    tmp_path: Path, avrdude: tuple[str, Path], hexfile: Path
) -> None:
    hub = FakeHub()
    boards = [
        hub.add(
            FakeLeonardo(
                app=f"/dev/ttyACM{i}",
                boot=f"/dev/ttyACM{i + 4}",
                location=f"1-2.{i}:1.0",
                boot_after=1 + i,
            )
        )
        for i in range(3)
    ]
    results = flash_many(
        [b.app for b in boards], firmware=[("leonardo", hexfile)], log_dir=tmp_path,
        env=hub.env(avrdude=avrdude[0]),
    )  # fmt: skip
    assert [r.ok for r in results] == [True, True, True], [r.error for r in results]
    used = sorted(line.split()[5] for line in avrdude[1].read_text().splitlines())
    assert used == ["/dev/ttyACM4", "/dev/ttyACM5", "/dev/ttyACM6"]


def test_a_leonardo_gets_no_uno_firmware_by_accident(tmp_path: Path, hexfile: Path) -> None:
    hub = FakeHub()
    hub.add(FakeLeonardo())
    plain = flash_one("/dev/ttyACM0", hexfile, log_dir=tmp_path, env=hub.env())
    assert plain.problem == "no_firmware"
    assert "no RoboClass firmware for this board yet" in plain.error
    assert "--firmware leonardo=FILE.hex" in plain.error
    assert "RoboClass 还没有这种板子的固件" in plain.error_zh
    assert hub.serial_log == []  # nothing was touched
