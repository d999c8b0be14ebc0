"""RP2040 boards: 1200-baud touch, copy a UF2 file to the ``RPI-RP2`` drive (or picotool).

>>> check_uf2(Path("robot.uf2"))          # doctest: +SKIP
412

The RP2040's boot ROM shows up as a USB drive labelled ``RPI-RP2`` holding
``INFO_UF2.TXT``. Copying a UF2 file onto it writes the flash; once the last
block is in, the board reboots into the new firmware, the drive goes away
and the firmware's serial port comes back. The file is checked first (every
512-byte block's three magic numbers, the RP2040 family id, 256-byte
payloads) so a wrong file fails with a clear message before any board is
touched. With picotool installed and a board that has a USB serial number,
``picotool load -x -f --ser`` is used instead (it reboots the board into
BOOTSEL itself and verifies); ``--uf2-drive`` forces the copy to that folder.

Drives are found in /proc/mounts (:class:`MountFinder`): a FAT mount with an
``INFO_UF2.TXT`` whose ``Board-ID`` is ``RPI-RP2``; its USB socket comes
from sysfs, so each board on a hub gets its own drive.
"""

from __future__ import annotations

import contextlib
import os
import re
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from firmware_bridge.errors import BadFirmware
from firmware_bridge.flashing.base import Job, Outcome, Problem
from firmware_bridge.flashing.touch import port_back, socket_of, touch_1200
from firmware_bridge.ports import PortInfo
from rcbase.i18n import Text

__all__ = [
    "MAGIC_END",
    "MAGIC_START0",
    "MAGIC_START1",
    "RP2040_FAMILY",
    "Drive",
    "MountFinder",
    "check_uf2",
    "copy_uf2",
    "flash_uf2",
    "picotool_command",
    "picotool_progress",
]

MAGIC_START0 = 0x0A324655  # "UF2\n"
MAGIC_START1 = 0x9E5D5157
MAGIC_END = 0x0AB16F30
FLAG_NOT_MAIN_FLASH = 0x00000001
FLAG_FAMILY_ID = 0x00002000
RP2040_FAMILY = 0xE48BFF56
BLOCK = 512
LABEL = "RPI-RP2"
INFO = "INFO_UF2.TXT"

# family ids a wrong file is likely to carry (from Microsoft's uf2 families list)
FAMILIES = {
    0x1C5F21B0: "ESP32",
    0xBFDD4EEE: "ESP32-S2",
    0xC47E5767: "ESP32-S3",
    0xD42BA06C: "ESP32-C3",
    0x68ED2B88: "SAMD21",
    0x55114460: "SAMD51",
    0xADA52840: "nRF52840",
    0xE48BFF57: "RP2XXX absolute",
    0xE48BFF59: "RP2350 (ARM, secure)",
    0xE48BFF5A: "RP2350 (RISC-V)",
    0xE48BFF5B: "RP2350 (ARM, non-secure)",
}

DRIVE_WAIT = 15.0  # s for the drive to appear after the touch
GONE_WAIT = 15.0  # s for the drive to go once the file is in
PORT_WAIT = 15.0  # s for the serial port to come back


def check_uf2(path: Path, family: int = RP2040_FAMILY) -> int:
    """The number of blocks in the UF2 file at ``path``; BadFirmware when it is not one for ``family``."""
    data = path.read_bytes()
    if not data or len(data) % BLOCK:
        raise BadFirmware(
            f"{path} is not a UF2 file: {len(data)} bytes is not a whole number of "
            f"{BLOCK}-byte blocks (a .bin, .hex or .elf? build the .uf2)"
        )
    count = len(data) // BLOCK
    for i in range(count):
        block = data[i * BLOCK : (i + 1) * BLOCK]
        m0, m1, flags, addr, size, number, total, fam = struct.unpack_from("<8I", block, 0)
        (end,) = struct.unpack_from("<I", block, BLOCK - 4)
        if (m0, m1, end) != (MAGIC_START0, MAGIC_START1, MAGIC_END):
            raise BadFirmware(
                f"{path} is not a UF2 file: block {i} has magic numbers "
                f"{m0:#010x} {m1:#010x} {end:#010x}, not {MAGIC_START0:#010x} "
                f"{MAGIC_START1:#010x} {MAGIC_END:#010x} (damaged, or another format)"
            )
        if not flags & FLAG_FAMILY_ID:
            raise BadFirmware(
                f"{path}: block {i} has no family id; the RP2040 only takes blocks marked "
                f"{family:#010x} (build it with the Pico SDK or picotool uf2 convert --family rp2040)"
            )
        if fam != family:
            what = FAMILIES.get(fam, "another chip")
            raise BadFirmware(
                f"{path} is a UF2 file for {what} (family {fam:#010x}), not for the RP2040 "
                f"({family:#010x}): choose the RP2040 build"
            )
        if (number, total) != (i, count):
            raise BadFirmware(
                f"{path}: block {i} says it is block {number} of {total}, the file has {count}: "
                "the file is cut short or joined from two files"
            )
        if not flags & FLAG_NOT_MAIN_FLASH and size != 256:
            raise BadFirmware(
                f"{path}: block {i} carries {size} bytes at {addr:#010x}; the RP2040 boot ROM "
                "only takes 256-byte blocks"
            )
    return count


@dataclass(frozen=True)
class Drive:
    """A mounted UF2 bootloader drive."""

    path: Path
    device: str = ""  # /dev/sdb1
    location: str | None = None  # the USB socket (1-2.3), from sysfs


def _unescape(field: str) -> str:
    """/proc/mounts writes a space as \\040, a tab as \\011, ..."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def board_id(info: Path) -> str | None:
    """The ``Board-ID`` in an INFO_UF2.TXT, or None when it cannot be read."""
    try:
        text = info.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() == "board-id":
            return value.strip()
    return None


class MountFinder:
    """Finds mounted ``RPI-RP2`` drives: call it for the current list.

    ``mounts``, ``sys_block``: where to read (tests pass their own files).
    """

    FS_TYPES = ("vfat", "msdos", "fat", "fuseblk", "exfat")

    def __init__(
        self,
        mounts: Path = Path("/proc/mounts"),
        *,
        label: str = LABEL,
        sys_block: Path = Path("/sys/class/block"),
    ) -> None:
        self.mounts = mounts
        self.label = label
        self.sys_block = sys_block

    def __call__(self) -> list[Drive]:
        try:
            lines = self.mounts.read_text(encoding="utf-8").splitlines()
        except OSError:
            return []
        found = []
        for line in lines:
            fields = line.split()
            if len(fields) < 3 or fields[2] not in self.FS_TYPES:
                continue
            device, where = _unescape(fields[0]), Path(_unescape(fields[1]))
            ident = board_id(where / INFO)
            if ident is None or not ident.startswith(self.label):
                continue
            found.append(Drive(where, device, self.location(device)))
        return found

    def location(self, device: str) -> str | None:
        """The USB socket a block device hangs from (``1-2.3``), from its sysfs path."""
        try:
            real = (self.sys_block / Path(device).name).resolve(strict=True)
        except OSError:
            return None
        sockets = [p for p in real.parts if re.fullmatch(r"\d+-[\d.]+", p)]
        return sockets[-1] if sockets else None


def copy_uf2(src: Path, drive: Path, on_progress: Callable[[float], None] | None = None) -> int:
    """Copy ``src`` onto the drive, flushed and fsynced; the bytes written.

    The board reboots as soon as its last block arrives, so an error after
    every byte was written (the fsync, the close) means it worked; an error
    before that is raised (the drive went away mid-copy).
    """
    data = src.read_bytes()
    written = 0
    fd = os.open(drive / src.name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        step = 32 * BLOCK
        while written < len(data):
            written += os.write(fd, data[written : written + step])
            if on_progress is not None:
                on_progress(written / len(data))
        with contextlib.suppress(OSError):  # the board took the last block and rebooted
            os.fsync(fd)
    finally:
        with contextlib.suppress(OSError):
            os.close(fd)
    return written


def picotool_command(picotool: str, uf2: Path, serial_number: str) -> list[str]:
    """``picotool load``: reboot the board with this serial into BOOTSEL, write, verify, run."""
    return [picotool, "load", "-v", "-x", str(uf2), "-t", "uf2", "--ser", serial_number, "-f"]


_PICOTOOL_BAR = re.compile(r"(Loading|Verifying)[^\[\n]*\[[=> ]*\]\s*(\d+)%")


def picotool_progress(output: str) -> float | None:
    """Share done from picotool's bars: loading is the first half, verifying the second."""
    bars = _PICOTOOL_BAR.findall(output)
    if not bars:
        return None
    label, percent = bars[-1]
    return (0.0 if label == "Loading" else 0.5) + int(percent) / 200


def _bad(job: Job, e: BadFirmware) -> Outcome:
    return Outcome(
        Problem.BAD_FIRMWARE,
        Text(f"{job.port}: {e}", f"{job.port}：固件文件不是 RP2040 的 UF2 文件：{e}"),
    )


def flash_uf2(job: Job) -> str:
    """Flash an RP2040; the port its new firmware answers on."""
    try:
        blocks = check_uf2(job.firmware)
    except BadFirmware as e:
        raise _bad(job, e) from None
    job.write(f"# {job.firmware}: {blocks} UF2 blocks for the RP2040")
    origin = job.info
    env = job.env
    if job.uf2_drive is None and env.picotool and origin is not None and origin.serial_number:
        return _picotool(job, env.picotool, origin.serial_number)

    before = {d.path for d in env.drives()}
    job.status("1200-baud touch")
    touch_1200(job.port, env.open_serial)
    drive = job.wait_for(lambda: _new_drive(job, before), DRIVE_WAIT, what=f"the {LABEL} drive")
    if drive is None:
        raise Outcome(
            Problem.NO_BOOTLOADER,
            Text(
                f"{job.port}: no {LABEL} drive appeared within {DRIVE_WAIT:.0f} s of the "
                "1200-baud touch: hold BOOTSEL while plugging the board in; on a computer "
                "without a desktop the drive is not mounted by itself (mount it and give "
                "--uf2-drive, or install picotool)",
                f"{job.port}：1200 波特复位后 {DRIVE_WAIT:.0f} 秒内没有出现 {LABEL} 盘："
                "按住 BOOTSEL 键再插上板子；没有桌面环境的电脑不会自动挂载这个盘"
                "（手动挂载并用 --uf2-drive 指定，或者安装 picotool）",
            ),
        )
    try:
        while_drive = env.list_ports()
        job.status(f"copying to {drive.path}")
        try:
            copy_uf2(job.firmware, drive.path, job.progress)
        except OSError as e:
            raise Outcome(
                Problem.LOST,
                Text(
                    f"{job.port}: the {LABEL} drive went away while copying ({e}): "
                    "check the cable and flash again",
                    f"{job.port}：复制过程中 {LABEL} 盘消失了（{e}）：检查数据线后再刷写",
                ),
            ) from None
        job.status("waiting for the board to restart")
        gone = job.wait_for(lambda: _gone(job, drive), GONE_WAIT, what="the drive to go away")
        if gone is None:
            raise Outcome(
                Problem.VERIFY_FAILED,
                Text(
                    f"{job.port}: the board did not take the file: the {LABEL} drive is still "
                    f"there after {GONE_WAIT:.0f} s (a UF2 for another chip? a damaged copy?)",
                    f"{job.port}：板子没有接受这个文件：{GONE_WAIT:.0f} 秒后 {LABEL} 盘仍然在"
                    "（是其他芯片的 UF2？复制损坏？）",
                ),
            )
    finally:
        env.claims.release(str(drive.path))
    return _port_back(job, while_drive)


def _new_drive(job: Job, before: set[Path]) -> Drive | None:
    env = job.env
    if job.uf2_drive is not None:  # the maintainer named the drive
        given = job.uf2_drive
        if board_id(given / INFO) is None:
            return None
        return Drive(given) if env.claims.claim(str(given)) else None
    where = socket_of(job.info.location if job.info else None)
    for drive in env.drives():
        if drive.path in before:
            continue
        if where and drive.location and drive.location != where:
            continue  # another board's drive
        if env.claims.claim(str(drive.path)):
            return drive
    return None


def _gone(job: Job, drive: Drive) -> bool | None:
    if job.uf2_drive is not None:
        return True if board_id(drive.path / INFO) is None else None
    return None if any(d.path == drive.path for d in job.env.drives()) else True


def _port_back(job: Job, before: Sequence[PortInfo]) -> str:
    env = job.env
    app = job.wait_for(
        lambda: port_back(
            before, env.list_ports(), origin=job.info, device=job.port, claims=env.claims
        ),
        PORT_WAIT,
        what="the board's serial port",
    )
    if app is None:
        raise Outcome(
            Problem.HELLO_FAILED,
            Text(
                f"{job.port}: the RP2040 took the file, but no serial port came back within "
                f"{PORT_WAIT:.0f} s: does the new firmware use USB serial?",
                f"{job.port}：RP2040 已接受文件，但 {PORT_WAIT:.0f} 秒内没有出现串口："
                "新固件使用 USB 串口吗？",
            ),
        )
    return app.device


def _picotool(job: Job, picotool: str, serial_number: str) -> str:
    before = job.env.list_ports()
    job.status("picotool load")
    ok, output = job.run(picotool_command(picotool, job.firmware, serial_number), picotool_progress)
    if not ok:
        low = output.lower()
        if "no accessible" in low or ("bootsel" in low and "not found" in low):
            problem, text = (
                Problem.NO_BOOTLOADER,
                Text(
                    f"{job.port}: picotool found no RP2040 in BOOTSEL mode: install picotool's "
                    "udev rules (or run it as root once to check), or hold BOOTSEL while plugging in",
                    f"{job.port}：picotool 找不到处于 BOOTSEL 模式的 RP2040：安装 picotool 的 udev "
                    "规则，或按住 BOOTSEL 键再插上板子",
                ),
            )
        elif "verif" in low:
            problem, text = (
                Problem.VERIFY_FAILED,
                Text(
                    f"{job.port}: picotool's verify failed: flash again, then try another cable",
                    f"{job.port}：picotool 校验失败：再刷一次，仍失败就换一根线",
                ),
            )
        else:
            last = [x for x in output.splitlines() if x.strip()][-1:] or [""]
            problem, text = (
                Problem.TOOL,
                Text(
                    f"{job.port}: picotool failed: {last[0]}",
                    f"{job.port}：picotool 失败：{last[0]}",
                ),
            )
        raise Outcome(problem, text)
    return _port_back(job, before)
