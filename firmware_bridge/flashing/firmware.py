"""Firmware files: what kind of image a file is, and which file goes on which board.

>>> sniff(Path("build/firmware/roboclass_firmware.hex"))     # doctest: +SKIP
'hex'

``--firmware`` may be given several times, each ``PATH`` or ``KIND=PATH``
(``--firmware rp2040=robot.uf2``). For a board of kind K the file is, in
order: the one given for K; a plain one of the format K's backend takes
(Intel HEX for AVR, UF2 for RP2040, a .bin image for ESP32) - a plain HEX only
goes on ATmega328P boards, or on any AVR board with ``--board``, so an UNO's
firmware never lands on a Leonardo by accident; RoboClass's own build for K
(the ATmega328P firmware, from ``make firmware``). RP2040, ESP32 and
ATmega32U4 boards have no RoboClass firmware yet: without ``--firmware`` they
fail with ``no_firmware`` and say so.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from firmware_bridge.boards import BoardKind
from firmware_bridge.flashing.base import Outcome, Problem
from firmware_bridge.simboard import artifact
from rcbase.i18n import Text

__all__ = ["FORMATS", "choose_firmware", "expected_version", "sniff"]

# backend -> the firmware format it takes, and the file name ending to suggest
FORMATS: dict[str, tuple[str, str]] = {
    "avrdude": ("hex", ".hex"),
    "avr109": ("hex", ".hex"),
    "uf2": ("uf2", ".uf2"),
    "esptool": ("esp", ".bin"),
}

UF2_MAGIC_START0 = 0x0A324655


def sniff(path: Path) -> str:
    """``hex``, ``uf2``, ``esp`` (an ESP32 image: 0xE9 at 0 or at 0x1000) or ``unknown``."""
    try:
        with path.open("rb") as f:
            head = f.read(0x1001)
    except OSError:
        return "unknown"
    if len(head) >= 4 and int.from_bytes(head[:4], "little") == UF2_MAGIC_START0:
        return "uf2"
    if head[:1] == b"\xe9" or (len(head) > 0x1000 and head[0x1000:0x1001] == b"\xe9"):
        return "esp"
    if head.lstrip()[:1] == b":":
        return "hex"
    return "unknown"


def expected_version(firmware: Path) -> str | None:
    """The version a board must report after flashing ``firmware`` (``NAME.version`` beside it)."""
    side = firmware.with_suffix(".version")
    if side.exists():
        return side.read_text(encoding="utf-8").strip() or None
    return None


def choose_firmware(
    kind: BoardKind,
    given: Sequence[tuple[str, Path]] = (),
    *,
    forced: bool = False,
    port: str = "",
) -> Path:
    """The file to put on a board of ``kind`` (see the module docstring); else Outcome.

    ``given``: (kind name, file) pairs, kind ``""`` for a plain ``--firmware PATH``.
    ``forced``: the kind came from ``--board``, not from the USB IDs.
    """
    if kind.backend is None:
        raise Outcome(
            Problem.UNSUPPORTED,
            Text(
                f"{port}: {kind.title}: {kind.why or 'no flashing backend for this board'}",
                f"{port}：{kind.title}：RoboClass 还不能刷写这种板子（{kind.why}）",
            ),
        )
    fmt, ending = FORMATS[kind.backend]
    for key, path in given:
        if key == kind.name:
            return path
    for key, path in given:
        if key or sniff(path) != fmt:
            continue
        if fmt == "hex" and kind.mcu != "m328p" and not forced:
            continue  # an ATmega328P image must not land on a Leonardo by accident
        return path
    if kind.firmware:
        return artifact(kind.firmware)
    raise Outcome(Problem.NO_FIRMWARE, no_firmware_text(kind, port, ending))


def no_firmware_text(kind: BoardKind, port: str, ending: str) -> Text:
    """The board is known and can be flashed, but RoboClass has no firmware for it yet."""
    return Text(
        f"{port}: {kind.title}: there is no RoboClass firmware for this board yet "
        f"(this release has firmware for ATmega328P boards - UNO, Nano - only). "
        f"To put your own firmware on it: roboclass flash {port} "
        f"--firmware {kind.name}=FILE{ending}",
        f"{port}：{kind.title}：RoboClass 还没有这种板子的固件"
        f"（本版本只有 ATmega328P 板——UNO、Nano——的固件）。"
        f"要刷写你自己的固件：roboclass flash {port} --firmware {kind.name}=文件{ending}",
    )


def check_format(path: Path, kind: BoardKind, port: str) -> None:
    """Outcome(BAD_FIRMWARE) when ``path`` is not the kind of image ``kind``'s backend takes."""
    if kind.backend is None:
        return
    fmt, ending = FORMATS[kind.backend]
    found = sniff(path)
    if found == fmt:
        return
    names = {"hex": "an Intel HEX file", "uf2": "a UF2 file", "esp": "an ESP32 image"}
    zh = {"hex": "Intel HEX 文件", "uf2": "UF2 文件", "esp": "ESP32 镜像"}
    what = names.get(found, "not a firmware image we know")
    what_zh = zh.get(found, "无法识别的固件格式")
    raise Outcome(
        Problem.BAD_FIRMWARE,
        Text(
            f"{port}: {path} is {what}, but a {kind.title} needs {names[fmt]} ({ending})",
            f"{port}：{path} 是{what_zh}，但 {kind.title} 需要 {zh[fmt]}（{ending}）",
        ),
    )
