"""Kinds of microcontroller board, and how to tell them apart by their USB IDs.

>>> kind_for(0x1A86, 0x7523).name          # a CH340 clone: UNO or Nano, either bootloader
'nano'
>>> KINDS["nano"].bauds
(115200, 57600)
>>> KINDS["leonardo"].backend, KINDS["leonardo"].firmware
('avr109', None)

A kind says how to flash it: the backend (``avrdude`` through the Arduino
bootloader; ``avr109`` after a 1200-baud touch for the ATmega32U4; ``uf2``
for the RP2040; ``esptool`` for the ESP32), the avrdude part and programmer,
the bootloader baud rates to try in order (an UNO's optiboot answers at
115200, an old Nano's ATmegaBOOT at 57600, and a CH340 clone may carry
either), and the RoboClass firmware built for it (``firmware``; None: there
is none yet, so ``--firmware`` must give one). A kind without a backend
cannot be flashed by this release; ``why`` says so.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["KINDS", "USB_IDS", "BoardKind", "kind_for"]

AVR_FIRMWARE = "roboclass_firmware.hex"  # built by `make firmware`, ATmega328P only


@dataclass(frozen=True)
class BoardKind:
    """One kind of board and how to flash it."""

    name: str
    title: str
    mcu: str | None = None  # avrdude part
    programmer: str | None = None  # avrdude programmer
    bauds: tuple[int, ...] = ()  # bootloader baud rates, tried in this order
    why: str = ""  # why there is no RoboClass firmware for it / it cannot be flashed
    backend: str | None = None  # avrdude, avr109, uf2, esptool; None: not flashable here
    firmware: str | None = None  # RoboClass's own build for it (a build/firmware file)
    bootloader_ids: frozenset[tuple[int, int]] = frozenset()  # USB IDs of its bootloader

    @property
    def flashable(self) -> bool:
        """This release has a backend that can put a firmware file on it."""
        return self.backend is not None

    @property
    def has_firmware(self) -> bool:
        """RoboClass ships firmware for it (else ``--firmware`` must give one)."""
        return self.firmware is not None


# the bootloader (Caterina) USB IDs: Arduino, arduino.org, SparkFun Pro Micro 5 V / 3.3 V
LEONARDO_BOOT = frozenset(
    {(0x2341, 0x0036), (0x2341, 0x0037), (0x2A03, 0x0036), (0x2A03, 0x0037),
     (0x1B4F, 0x9205), (0x1B4F, 0x9203)}
)  # fmt: skip


def _avr(name: str, title: str, bauds: tuple[int, ...]) -> BoardKind:
    return BoardKind(name, title, "m328p", "arduino", bauds, "", "avrdude", AVR_FIRMWARE)


KINDS: dict[str, BoardKind] = {
    k.name: k
    for k in (
        _avr("uno", "Arduino UNO (optiboot, 115200)", (115200,)),
        _avr(
            "nano",
            "Arduino Nano or clone (optiboot 115200, else the old bootloader at 57600)",
            (115200, 57600),
        ),
        _avr("nano-old", "Arduino Nano, old bootloader (57600)", (57600,)),
        BoardKind(
            "leonardo",
            "Arduino Leonardo / Micro / Pro Micro (ATmega32U4)",
            "m32u4",
            "avr109",
            (57600,),
            why="ATmega32U4 boards have no RoboClass firmware yet",
            backend="avr109",
            bootloader_ids=LEONARDO_BOOT,
        ),
        BoardKind(
            "nano-every",
            "Arduino Nano Every (ATmega4809)",
            why="the Nano Every (ATmega4809, UPDI) cannot be flashed by this release",
        ),
        BoardKind(
            "rp2040",
            "Raspberry Pi Pico / RP2040",
            why="RP2040 boards have no RoboClass firmware yet",
            backend="uf2",
        ),
        BoardKind(
            "esp32",
            "ESP32 (CP210x / CH9102 / native USB)",
            why="ESP32 boards have no RoboClass firmware yet",
            backend="esptool",
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
    (0x2341, 0x0036): ("leonardo", "Arduino Leonardo (bootloader)", "no RoboClass firmware yet"),
    (0x2341, 0x8036): ("leonardo", "Arduino Leonardo", "no RoboClass firmware yet"),
    (0x2341, 0x0037): ("leonardo", "Arduino Micro (bootloader)", "no RoboClass firmware yet"),
    (0x2341, 0x8037): ("leonardo", "Arduino Micro", "no RoboClass firmware yet"),
    (0x2A03, 0x8036): ("leonardo", "Arduino Leonardo (arduino.org)", "no RoboClass firmware yet"),
    (0x1B4F, 0x9206): ("leonardo", "SparkFun Pro Micro 5V", "no RoboClass firmware yet"),
    (0x1B4F, 0x9205): ("leonardo", "SparkFun Pro Micro 5V (bootloader)", "no RoboClass firmware yet"),
    (0x1B4F, 0x9204): ("leonardo", "SparkFun Pro Micro 3.3V", "no RoboClass firmware yet"),
    (0x1B4F, 0x9203): ("leonardo", "SparkFun Pro Micro 3.3V (bootloader)", "no RoboClass firmware yet"),
    (0x2341, 0x0058): ("nano-every", "Arduino Nano Every", "not an ATmega328P: needs other firmware"),
    (0x2E8A, 0x0005): ("rp2040", "Raspberry Pi Pico (RP2040)", "no RoboClass firmware yet"),
    (0x2E8A, 0x000A): ("rp2040", "RP2040 board (Pico SDK)", "no RoboClass firmware yet"),
    (0x10C4, 0xEA60): ("esp32", "board with CP210x (ESP32?)", "no RoboClass firmware yet"),
    (0x1A86, 0x55D4): ("esp32", "board with CH9102 (ESP32?)", "no RoboClass firmware yet"),
    (0x303A, 0x1001): ("esp32", "ESP32-S3/C3 (native USB)", "no RoboClass firmware yet"),
}  # fmt: skip


def kind_for(vid: int | None, pid: int | None) -> BoardKind | None:
    """The kind of board with these USB IDs, or None when we do not know them."""
    if vid is None or pid is None:
        return None
    known = USB_IDS.get((vid, pid))
    return KINDS[known[0]] if known else None
