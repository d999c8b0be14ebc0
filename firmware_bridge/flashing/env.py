"""What the flashing backends touch on this computer, in one object the tests replace.

:class:`FlashEnv` holds the port lister, the serial opener for the 1200-baud
touch, the UF2 drive finder, the HELLO check's transport, the port checks
and the external tools. ``FlashEnv()`` is the real computer;
:mod:`firmware_bridge.flashing.fake` builds one around scripted boards.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from firmware_bridge.client import SerialLike
from firmware_bridge.client import open_serial as open_link
from firmware_bridge.flashing.base import Problem
from firmware_bridge.flashing.checks import port_problem
from firmware_bridge.flashing.esp import esptool_program
from firmware_bridge.flashing.touch import PortClaims, TouchPort, open_touch
from firmware_bridge.flashing.uf2 import Drive, MountFinder
from firmware_bridge.ports import PortInfo, list_boards
from rcbase.i18n import Text

__all__ = ["FlashEnv"]


def _picotool() -> str | None:
    given = os.environ.get("ROBOCLASS_PICOTOOL")
    if given is not None:
        return given or None  # ROBOCLASS_PICOTOOL= (empty): never use picotool
    return shutil.which("picotool")


@dataclass
class FlashEnv:
    """The computer the boards are plugged into (shared by all the jobs of one run)."""

    list_ports: Callable[[], list[PortInfo]] = list_boards
    open_serial: Callable[[str, int], TouchPort] = open_touch
    drives: Callable[[], list[Drive]] = field(default_factory=MountFinder)
    transport: Callable[[str, int], SerialLike] = open_link  # the HELLO check's
    port_check: Callable[[str], tuple[Problem, Text] | None] = port_problem
    avrdude: str | None = None  # None: ROBOCLASS_AVRDUDE, else avrdude on PATH (when needed)
    esptool: list[str] | None = field(default_factory=esptool_program)
    picotool: str | None = field(default_factory=_picotool)
    poll: float = 0.05  # s between looks at the ports and drives
    claims: PortClaims = field(default_factory=PortClaims)
    stop: threading.Event = field(default_factory=threading.Event)

    def tick(self) -> None:
        """Wait one poll interval (returns at once when ``stop`` is set)."""
        self.stop.wait(self.poll)

    def identify(self, device: str) -> PortInfo | None:
        """The USB identity of ``device`` (a by-id link is followed), or None (a pty)."""
        real = os.path.realpath(device)
        for port in self.list_ports():
            if port.device in (device, real):
                return port
        return None
