"""The 1200-baud touch, and finding the port a board comes back on.

Boards with native USB (Leonardo, Pro Micro, RP2040) have no reset line from
a USB-serial chip. Their firmware watches the CDC line settings instead: a
host that opens the port at 1200 baud and drops DTR asks the board to
reboot into its bootloader. The bootloader is a new USB device: a Leonardo's
Caterina is a serial port with another USB product id (often under another
name, /dev/ttyACM1), an RP2040's is a mass-storage drive (``RPI-RP2``).

>>> before = list_boards()                                      # doctest: +SKIP
>>> touch_1200("/dev/ttyACM0", open_touch)                      # doctest: +SKIP
>>> new_port(before, list_boards(), origin=info, claims=claims) # doctest: +SKIP
PortInfo(device='/dev/ttyACM1', vid=9025, pid=54, ...)

Several boards may be touched at once on one hub, so a new port is matched to
its board by USB location (the hub socket, the same for the application and
the bootloader), and each port can be claimed by one job only.
"""

from __future__ import annotations

import errno
import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

import serial

from firmware_bridge.flashing.base import Outcome, Problem
from firmware_bridge.flashing.checks import permission_message
from firmware_bridge.ports import PortInfo
from rcbase.i18n import Text

__all__ = [
    "PortClaims",
    "TouchPort",
    "new_port",
    "open_touch",
    "port_back",
    "socket_of",
    "touch_1200",
]

logger = logging.getLogger(__name__)

TOUCH_BAUD = 1200


class TouchPort(Protocol):
    """The part of a pyserial port the touch uses."""

    dtr: bool

    def close(self) -> None: ...


def open_touch(device: str, baud: int) -> TouchPort:
    """pyserial, opened at ``baud`` (1200 for the touch)."""
    return serial.Serial(device, baud, timeout=0.1, write_timeout=0.5)  # type: ignore[no-any-return]


def touch_1200(device: str, open_serial: Callable[[str, int], TouchPort]) -> None:
    """Open ``device`` at 1200 baud, drop DTR, close: the board reboots into its bootloader.

    A pty (the simulator, the tests) has no DTR line: that is logged, not an error.
    Raises :class:`Outcome` when the port cannot be opened.
    """
    try:
        link = open_serial(device, TOUCH_BAUD)
    except (OSError, serial.SerialException) as e:
        raise _open_failed(device, e) from None
    try:
        try:
            link.dtr = False
        except OSError as e:  # ENOTTY / EINVAL: no modem lines (a pty)
            logger.debug("%s: no DTR line to drop (%s)", device, e)
    finally:
        link.close()


def _open_failed(device: str, e: BaseException) -> Outcome:
    code = getattr(e, "errno", None)
    text = str(e)
    if code == errno.EACCES or "ermission denied" in text:
        return Outcome(Problem.PERMISSION, permission_message(device))
    if code == errno.EBUSY or "busy" in text.lower():
        return Outcome(
            Problem.PORT_BUSY,
            Text(
                f"{device} is busy ({text}): close the program using it and flash again",
                f"{device} 正被占用（{text}）：关闭占用它的程序后再刷写",
            ),
        )
    return Outcome(
        Problem.NO_PORT,
        Text(
            f"{device} could not be opened for the 1200-baud touch ({text}): is it plugged in?",
            f"无法打开 {device} 进行 1200 波特复位（{text}）：板子插好了吗？",
        ),
    )


class PortClaims:
    """Ports (and drives) that one job has taken, so two jobs never take the same one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._taken: set[str] = set()

    def claim(self, name: str) -> bool:
        with self._lock:
            if name in self._taken:
                return False
            self._taken.add(name)
            return True

    def release(self, name: str) -> None:
        with self._lock:
            self._taken.discard(name)

    def __contains__(self, name: object) -> bool:
        with self._lock:
            return name in self._taken


def socket_of(location: str | None) -> str | None:
    """The hub socket of a pyserial USB location: ``1-2.3:1.0`` -> ``1-2.3``."""
    return location.split(":")[0] if location else None


def _key(p: PortInfo) -> tuple[str, int | None, int | None]:
    return p.device, p.vid, p.pid


def new_port(
    before: Sequence[PortInfo],
    now: Iterable[PortInfo],
    *,
    origin: PortInfo | None,
    claims: PortClaims,
    ids: frozenset[tuple[int, int]] = frozenset(),
) -> PortInfo | None:
    """A port in ``now`` that was not in ``before`` and belongs to the board at ``origin``.

    New means a new device name or new USB IDs (a Leonardo's bootloader may
    reuse /dev/ttyACM0 with product id 0x0036 instead of 0x8036). It belongs to
    the board when it is in the same hub socket; without a USB location (a pty)
    any new port with one of ``ids`` (any new port, when ``ids`` is empty) will
    do. The port returned is claimed.
    """
    seen = {_key(p) for p in before}
    where = socket_of(origin.location if origin else None)
    for p in now:
        if _key(p) in seen:
            continue
        if where is not None:
            if socket_of(p.location) != where:
                continue
        elif ids and (p.vid, p.pid) not in ids:
            continue
        if claims.claim(p.device):
            return p
    return None


def port_back(
    before: Sequence[PortInfo],
    now: Iterable[PortInfo],
    *,
    origin: PortInfo | None,
    device: str,
    claims: PortClaims,
    boot: PortInfo | None = None,
) -> PortInfo | None:
    """The board's application port once it is back: same serial number, socket or name.

    ``boot``: the bootloader's port (never the answer, even while it lingers).
    ``before``: the ports while the bootloader ran; without a serial number or
    a USB location, the old device name coming back, else a port not in
    ``before``, will do. A port other than ``device`` is claimed.
    """
    now = [p for p in now if boot is None or _key(p) != _key(boot)]
    if origin is not None and origin.serial_number:
        match = [p for p in now if (p.vid, p.serial_number) == (origin.vid, origin.serial_number)]
    elif origin is not None and origin.location:
        match = [p for p in now if socket_of(p.location) == socket_of(origin.location)]
    else:
        seen = {_key(p) for p in before}
        fresh = [p for p in now if _key(p) not in seen]
        match = [p for p in fresh if p.device == device] or fresh
    for p in match:
        if p.device == device or claims.claim(p.device):
            return p
    return None
