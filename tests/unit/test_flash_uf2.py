"""RP2040: UF2 checks, finding the RPI-RP2 drive, the copy, the whole flash on a scripted board.

The drive is a temp folder with an INFO_UF2.TXT; the scripted RP2040
(firmware_bridge.flashing.fake.FakeRP2040) makes it appear after the
1200-baud touch and "reboots" once a whole UF2 file is in it.
"""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path

import pytest
from click.testing import CliRunner

from firmware_bridge.errors import BadFirmware
from firmware_bridge.flash import flash_one
from firmware_bridge.flashing.fake import FakeHub, FakeRP2040, intel_hex, uf2_image
from firmware_bridge.flashing.uf2 import (
    MAGIC_END,
    MAGIC_START0,
    MAGIC_START1,
    RP2040_FAMILY,
    MountFinder,
    check_uf2,
    copy_uf2,
    picotool_command,
    picotool_progress,
)
from roboclass.cli import cli

INFO = "UF2 Bootloader v3.0\nModel: Raspberry Pi RP2\nBoard-ID: RPI-RP2\n"


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_the_magic_numbers_are_the_uf2_specification_s() -> None:
    assert (MAGIC_START0, MAGIC_START1, MAGIC_END) == (0x0A324655, 0x9E5D5157, 0x0AB16F30)
    assert RP2040_FAMILY == 0xE48BFF56


def test_a_good_uf2_is_counted(tmp_path: Path) -> None:
    assert check_uf2(write(tmp_path / "ok.uf2", uf2_image(bytes(3000)))) == 12


@pytest.mark.parametrize(
    ("offset", "what"),
    [(0, "0x0a324655"), (4, "0x9e5d5157"), (508, "0x0ab16f30")],
)
def test_each_magic_number_is_checked(tmp_path: Path, offset: int, what: str) -> None:
    data = bytearray(uf2_image(bytes(600)))
    struct.pack_into("<I", data, 512 + offset, 0xDEADBEEF)  # block 1 damaged
    with pytest.raises(BadFirmware, match=f"block 1 has magic numbers.*not.*{what}"):
        check_uf2(write(tmp_path / "bad.uf2", bytes(data)))


def test_a_uf2_for_another_chip_is_named(tmp_path: Path) -> None:
    esp = write(tmp_path / "esp.uf2", uf2_image(bytes(300), family=0xC47E5767))
    with pytest.raises(
        BadFirmware, match=r"for ESP32-S3 \(family 0xc47e5767\), not for the RP2040"
    ):
        check_uf2(esp)
    bare = write(tmp_path / "bare.uf2", uf2_image(bytes(300), family=None))
    with pytest.raises(BadFirmware, match="no family id"):
        check_uf2(bare)


def test_files_that_are_not_uf2_at_all(tmp_path: Path) -> None:
    hexfile = write(tmp_path / "fw.hex", intel_hex(bytes(100)).encode())
    with pytest.raises(BadFirmware, match="not a UF2 file"):
        check_uf2(hexfile)
    cut = write(tmp_path / "cut.uf2", uf2_image(bytes(1000))[:1024])
    with pytest.raises(BadFirmware, match="block 0 says it is block 0 of 4, the file has 2"):
        check_uf2(cut)
    with pytest.raises(BadFirmware, match="not a whole number"):
        check_uf2(write(tmp_path / "empty.uf2", b""))


def test_drives_are_found_by_label_in_proc_mounts(tmp_path: Path) -> None:
    pico = tmp_path / "media" / "RPI RP2"  # a space: written \040 in /proc/mounts
    other = tmp_path / "media" / "CIRCUITPY"
    for drive, board in ((pico, "RPI-RP2"), (other, "Adafruit QT Py")):
        drive.mkdir(parents=True)
        (drive / "INFO_UF2.TXT").write_text(INFO.replace("RPI-RP2", board))
    # sysfs: the block device hangs under USB socket 1-2.3
    usb = tmp_path / "sys/devices/pci0000:00/usb1/1-2/1-2.3/1-2.3:1.0/host6/block/sdb/sdb1"
    usb.mkdir(parents=True)
    (tmp_path / "sys/class/block").mkdir(parents=True)
    os.symlink(usb, tmp_path / "sys/class/block/sdb1")
    mounts = tmp_path / "mounts"
    mounts.write_text(
        "proc /proc proc rw 0 0\n"
        f"/dev/sdb1 {str(pico).replace(' ', chr(92) + '040')} vfat rw,nosuid 0 0\n"
        f"/dev/sdc1 {other} vfat rw 0 0\n"
        f"server:/x {tmp_path} nfs rw 0 0\n"
    )
    (found,) = MountFinder(mounts, sys_block=tmp_path / "sys/class/block")()
    assert found.path == pico and found.device == "/dev/sdb1" and found.location == "1-2.3"
    assert MountFinder(tmp_path / "no-such-file")() == []


def test_the_copy_reports_progress_and_lands_whole(tmp_path: Path) -> None:
    src = write(tmp_path / "robot.uf2", uf2_image(os.urandom(40_000)))
    drive = tmp_path / "drive"
    drive.mkdir()
    shares: list[float] = []
    assert copy_uf2(src, drive, shares.append) == src.stat().st_size
    assert (drive / "robot.uf2").read_bytes() == src.read_bytes()
    assert shares == sorted(shares) and shares[-1] == 1.0 and len(shares) > 1


def test_an_rp2040_is_flashed_through_its_drive(tmp_path: Path) -> None:
    hub = FakeHub()
    pico = hub.add(FakeRP2040(drive_root=tmp_path, app_again="/dev/ttyACM3"))
    firmware = write(tmp_path / "robot.uf2", uf2_image(os.urandom(5000)))
    firmware.with_suffix(".version").write_text("1.1.0")
    (tmp_path / "logs").mkdir()
    result = flash_one(
        "/dev/ttyACM0", firmware=[("", firmware)], log_dir=tmp_path / "logs", env=hub.env()
    )
    assert result.ok, result.error
    assert pico.flashed == firmware.read_bytes()
    assert result.kind == "rp2040" and result.version == "1.1.0" and result.now_at == "/dev/ttyACM3"
    assert ("open", "/dev/ttyACM0", 1200) in hub.serial_log
    assert not pico.drive_path.exists()  # the drive went away
    log = Path(result.log).read_text()
    assert "20 UF2 blocks for the RP2040" in log and "copying to" in log


def test_uf2_drive_names_the_folder(tmp_path: Path) -> None:
    hub = FakeHub()
    drive = tmp_path / "mnt"
    pico = hub.add(FakeRP2040(fixed_drive=drive))
    firmware = write(tmp_path / "robot.uf2", uf2_image(os.urandom(700)))
    result = flash_one(
        "/dev/ttyACM0", firmware=[("rp2040", firmware)], log_dir=tmp_path, env=hub.env(),
        uf2_drive=drive, check=False,
    )  # fmt: skip
    assert result.ok, result.error
    assert (
        pico.flashed == firmware.read_bytes()
        and "HELLO check skipped" in Path(result.log).read_text()
    )


def test_a_wrong_file_fails_before_the_board_is_touched(tmp_path: Path) -> None:
    hub = FakeHub()
    hub.add(FakeRP2040(drive_root=tmp_path))
    esp = write(tmp_path / "esp.uf2", uf2_image(bytes(300), family=0x1C5F21B0))
    result = flash_one("/dev/ttyACM0", firmware=[("rp2040", esp)], log_dir=tmp_path, env=hub.env())
    assert result.problem == "bad_firmware" and "for ESP32" in result.error
    hexfile = write(tmp_path / "fw.hex", intel_hex(bytes(64)).encode())
    wrong = flash_one(
        "/dev/ttyACM0", firmware=[("rp2040", hexfile)], log_dir=tmp_path, env=hub.env()
    )
    assert wrong.problem == "bad_firmware"
    assert "is an Intel HEX file, but a Raspberry Pi Pico / RP2040 needs a UF2 file" in wrong.error
    assert hub.serial_log == []


def test_a_board_that_keeps_its_drive_did_not_take_the_file(tmp_path: Path) -> None:
    hub = FakeHub()
    hub.add(FakeRP2040(drive_root=tmp_path, stubborn=True))
    firmware = write(tmp_path / "robot.uf2", uf2_image(bytes(300)))
    env = hub.env(poll=0.001)
    result = flash_one(
        "/dev/ttyACM0", firmware=[("", firmware)], log_dir=tmp_path, env=env, timeout=1
    )
    assert result.problem == "verify_failed" and "did not take the file" in result.error


def test_picotool_command_and_progress() -> None:
    assert picotool_command("picotool", Path("r.uf2"), "E66138935F2B3A2F") == [
        "picotool", "load", "-v", "-x", "r.uf2", "-t", "uf2", "--ser", "E66138935F2B3A2F", "-f",
    ]  # fmt: skip
    assert picotool_progress("Loading into Flash: [===============               ]  50%") == 0.25
    out = "Loading into Flash: [==============================]  100%\nVerifying Flash:    [===   ]  10%"
    assert picotool_progress(out) == pytest.approx(0.55)
    assert picotool_progress("The device was rebooted") is None


def test_no_rp2040_firmware_is_said_in_both_languages(isolated_dirs: Path) -> None:
    args = ["flash", str(isolated_dirs / "ttyACM0"), "--board", "rp2040", "--json"]
    report = CliRunner().invoke(cli, args)
    assert report.exit_code == 1
    (board,) = json.loads(report.output)["boards"]
    assert board["problem"] == "no_firmware"
    assert "there is no RoboClass firmware for this board yet" in board["error"]
    assert "RoboClass 还没有这种板子的固件" in board["error_zh"]
    # wide enough that the table never wraps the hint (its width follows the tmp path)
    shown = CliRunner(env={"COLUMNS": "300"}).invoke(cli, ["--lang", "zh", *args[:-1]])
    assert "RoboClass 还没有这种板子的固件" in " ".join(shown.output.split())
    assert "--firmware rp2040=文件.uf2" in shown.output.replace("\n", "")
