"""Kinds of microcontroller board, and how to tell them apart by their USB IDs.

>>> kind_for(0x1A86, 0x7523).name          # a CH340 clone: UNO or Nano, either bootloader
'nano'
>>> KINDS["nano"].bauds
(115200, 57600)

A kind says how to flash it: the avrdude part and programmer, and the
bootloader baud rates to try in order (an UNO's optiboot answers at 115200,
an old Nano's ATmegaBOOT at 57600, and a CH340 clone may carry either).
Kinds without ``programmer`` cannot be flashed by this release; ``why`` says so.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["KINDS", "USB_IDS", "BoardKind", "kind_for"]


@dataclass(frozen=True)
class BoardKind:
    """One kind of board and how to flash it."""

    name: str
    title: str
    mcu: str | None = None  # avrdude part
    programmer: str | None = None  # avrdude programmer (None: not flashable here)
    bauds: tuple[int, ...] = ()  # bootloader baud rates, tried in this order
    why: str = ""  # why it cannot be flashed (when programmer is None)

    @property
    def flashable(self) -> bool:
        return self.programmer is not None


KINDS: dict[str, BoardKind] = {
    k.name: k
    for k in (
        BoardKind("uno", "Arduino UNO (optiboot, 115200)", "m328p", "arduino", (115200,)),
        BoardKind(
            "nano",
            "Arduino Nano or clone (optiboot 115200, else the old bootloader at 57600)",
            "m328p",
            "arduino",
            (115200, 57600),
        ),
        BoardKind("nano-old", "Arduino Nano, old bootloader (57600)", "m328p", "arduino", (57600,)),
        BoardKind(
            "leonardo",
            "Arduino Leonardo / Micro (ATmega32U4)",
            why="ATmega32U4 boards (1200-baud touch, avr109) have no RoboClass firmware yet",
        ),
        BoardKind(
            "nano-every",
            "Arduino Nano Every (ATmega4809)",
            why="the Nano Every (ATmega4809, UPDI) has no RoboClass firmware yet",
        ),
        BoardKind(
            "rp2040",
            "Raspberry Pi Pico / RP2040",
            why="RP2040 firmware (UF2 copy after a 1200-baud touch) is not in this release",
        ),
        BoardKind(
            "esp32",
            "ESP32 (CP210x / CH9102 / native USB)",
            why="ESP32 firmware (esptool) is not in this release",
        ),
    )
}

# (vid, pid) -> (kind, board guess, note). Keep the notes short: `bridge ports` shows them.
USB_IDS: dict[tuple[int, int], tuple[str, str, str]] = {
    (0x2341, 0x0043): ("uno", "Arduino UNO R3", ""),
    (0x2341, 0x0001): ("uno", "Arduino UNO", ""),
    (0x2A03, 0x0043): ("uno", "Arduino UNO (arduino.org)", ""),
    (0x2341, 0x0243): ("uno", "Arduino UNO R3 (Genuino)", ""),
    (0x1A86, 0x7523): (
        "nano",
        "UNO/Nano clone (CH340)",
        "CH340: no serial number, identified by USB location",
    ),
    (0x1A86, 0x5523): (
        "nano",
        "UNO/Nano clone (CH341)",
        "CH341: no serial number, identified by USB location",
    ),
    (0x0403, 0x6001): ("nano", "Nano with FT232R", "old Nanos answer at 57600 (tried second)"),
    (0x2341, 0x0036): ("leonardo", "Arduino Leonardo (bootloader)", "not supported yet"),
    (0x2341, 0x8036): ("leonardo", "Arduino Leonardo", "not supported yet"),
    (0x2341, 0x8037): ("leonardo", "Arduino Micro", "not supported yet"),
    (0x2341, 0x0058): ("nano-every", "Arduino Nano Every", "not an ATmega328P: needs other firmware"),
    (0x2E8A, 0x0005): ("rp2040", "Raspberry Pi Pico (RP2040)", "RP2040 firmware is not in this release"),
    (0x2E8A, 0x000A): ("rp2040", "RP2040 board (Pico SDK)", "RP2040 firmware is not in this release"),
    (0x10C4, 0xEA60): ("esp32", "board with CP210x (ESP32?)", "ESP32 firmware is not in this release"),
    (0x1A86, 0x55D4): ("esp32", "board with CH9102 (ESP32?)", "ESP32 firmware is not in this release"),
    (0x303A, 0x1001): ("esp32", "ESP32-S3/C3 (native USB)", "ESP32 firmware is not in this release"),
}  # fmt: skip


def kind_for(vid: int | None, pid: int | None) -> BoardKind | None:
    """The kind of board with these USB IDs, or None when we do not know them."""
    if vid is None or pid is None:
        return None
    known = USB_IDS.get((vid, pid))
    return KINDS[known[0]] if known else None
