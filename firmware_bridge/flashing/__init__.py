"""Flashing backends: how each kind of board gets its firmware.

========  =============================================  ==========================
backend   boards                                         how
========  =============================================  ==========================
avrdude   UNO, Nano, clones (ATmega328P)                 avrdude -c arduino, 115200
                                                         then 57600 (old Nano)
avr109    Leonardo, Micro, Pro Micro (ATmega32U4)        1200-baud touch, the new
                                                         bootloader port, avrdude
                                                         -c avr109 -b 57600
uf2       Raspberry Pi Pico, RP2040 boards               1200-baud touch, copy the
                                                         .uf2 to the RPI-RP2 drive
                                                         (picotool where installed)
esptool   ESP32 boards                                   esptool as a subprocess
                                                         (GPL: never imported)
========  =============================================  ==========================

:mod:`.base` holds what they share (:class:`Job`, :class:`Problem`,
:class:`Outcome`), :mod:`.env` the computer they run on (:class:`FlashEnv`,
replaced in tests by :mod:`.fake`), :mod:`.firmware` which file goes on
which board. :mod:`firmware_bridge.flash` runs them, one worker per board.
"""

from __future__ import annotations

from firmware_bridge.flashing.base import Job, Outcome, Problem
from firmware_bridge.flashing.env import FlashEnv
from firmware_bridge.flashing.firmware import choose_firmware, expected_version, sniff
from firmware_bridge.flashing.touch import touch_1200
from firmware_bridge.flashing.uf2 import Drive, MountFinder, check_uf2

__all__ = [
    "Drive",
    "FlashEnv",
    "Job",
    "MountFinder",
    "Outcome",
    "Problem",
    "check_uf2",
    "choose_firmware",
    "expected_version",
    "sniff",
    "touch_1200",
]
