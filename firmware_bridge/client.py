"""The host side of the link: :class:`Bridge`, one board and what it is told.

>>> from firmware_bridge import Bridge
>>> with Bridge.open("/dev/ttyUSB0") as board:      # doctest: +SKIP
...     board.commands.setup_ultrasonic(trigger=8, echo=12)
...     board.arm()
...     board.drive(0.4, 0.4)                      # streamed at 50 Hz until changed
...     print(board.telemetry)

A Bridge owns three parts, each in its own module:

- ``bridge.link``, the :class:`~firmware_bridge.connection.Connection`: the
  port, the reader thread (frames, answers, telemetry, reopening a lost
  port), the handshake and request/answer matching with timeouts;
- ``bridge.commands``, the :class:`~firmware_bridge.commands.Commands`: every
  acknowledged command (pin modes, servos, sensors, subscriptions, ARM...),
  whose configuration is sent again after a reconnect or a reboot;
- ``bridge.setpoints``, the :class:`~firmware_bridge.setpoints.SetpointStreamer`:
  the motors' setpoint, sent ``setpoint_hz`` times a second by its thread as
  the heartbeat the firmware's watchdog needs.

The calls used most are on the Bridge itself. :meth:`Bridge.close` stops the
streamer, sends STOP_ALL, then stops the reader and closes the port.
"""

from __future__ import annotations

import atexit
import logging
from collections.abc import Callable
from typing import Any

from firmware_bridge.commands import Commands
from firmware_bridge.connection import Connection, LinkStats
from firmware_bridge.errors import BridgeError
from firmware_bridge.messages import Hello, Telemetry
from firmware_bridge.protocol import MsgType
from firmware_bridge.setpoints import SetpointStreamer
from firmware_bridge.transport import DEFAULT_BAUD, SerialLike, open_serial
from rcbase.closeable import Closeable

__all__ = ["DEFAULT_BAUD", "Bridge", "LinkStats", "SerialLike", "open_serial"]

logger = logging.getLogger(__name__)


class Bridge(Closeable):
    """A connected board. Open it with ``Bridge.open(port)`` or ``Bridge(port)``.

    Motor values are -1..1, distances metres, angles degrees, volts volts.
    Every call that waits for the board takes at most ``timeout`` seconds
    (commands: three tries of 0.2 s) and raises BridgeTimeout rather than block.
    ``transport`` replaces pyserial (tests pass :class:`~firmware_bridge.FakeBoard`'s).
    """

    def __init__(
        self,
        port: str,
        *,
        baud: int = DEFAULT_BAUD,
        timeout: float = 3.0,
        watchdog_ms: int = 300,
        telemetry_ms: int = 20,
        setpoint_hz: float = 50.0,
        reconnect: bool = True,
        transport: Callable[[str, int], SerialLike] = open_serial,
    ) -> None:
        self.link = Connection(
            port,
            baud=baud,
            timeout=timeout,
            telemetry_ms=telemetry_ms,
            reconnect=reconnect,
            transport=transport,
        )
        self.setpoints = SetpointStreamer(self.link, setpoint_hz)
        self.commands = Commands(self.link, self.setpoints, watchdog_ms=watchdog_ms)
        try:
            self.commands.configure()
        except BaseException:
            self.close()
            raise
        self.setpoints.start()
        atexit.register(self.close)

    @classmethod
    def open(cls, port: str, **kwargs: Any) -> Bridge:
        """Open ``port`` (a device, a by-id link or a simulator pty) and do the handshake."""
        return cls(port, **kwargs)

    def _close(self) -> None:
        """Stop the streamer, stop the robot (STOP_ALL), stop the reader, close the port."""
        atexit.unregister(self.close)
        self.setpoints.close()
        if self.link.connected:
            try:
                self.link.request(MsgType.STOP_ALL, b"", tries=2)
            except BridgeError as e:
                logger.warning("could not stop the board while closing %s: %s", self.port, e)
        self.link.close()

    def __repr__(self) -> str:
        return f"<Bridge {self.port}{' closed' if self.closed else ''}>"

    # --- the link ------------------------------------------------------------------

    @property
    def port(self) -> str:
        """The port it was opened on."""
        return self.link.port

    @property
    def stats(self) -> LinkStats:
        """Host-side counters (frames, corrupt, retries, reconnects, reboots...)."""
        return self.link.stats

    @property
    def hello(self) -> Hello:
        """The board's HELLO_REPLY of the current session."""
        return self.link.hello

    @property
    def name(self) -> str | None:
        """The name stored on the board (``robot-07``); None if it has none or speaks 1.0.

        ``bridge.commands.set_name("robot-07")`` stores one.
        """
        return self.link.hello.name

    @property
    def connected(self) -> bool:
        """True while the port is open and the handshake is done."""
        return self.link.connected

    def wait_connected(self, timeout: float = 5.0) -> bool:
        """Wait until the link is up again (after an unplug); False after ``timeout``."""
        return self.link.wait_connected(timeout)

    def ping(self, timeout: float = 1.0) -> dict[str, float]:
        """Round trip in seconds and the board's counters."""
        return self.link.ping(timeout)

    # --- what the board says ---------------------------------------------------------

    @property
    def telemetry(self) -> Telemetry | None:
        """The latest telemetry frame (every reading in SI units), or None before the first."""
        return self.link.telemetry

    @property
    def armed(self) -> bool:
        """True when the latest telemetry says the board may move."""
        t = self.link.telemetry
        return bool(t and t.armed)

    @property
    def failsafe(self) -> bool:
        """True when the board's watchdog stopped the outputs; :meth:`arm` to move again."""
        t = self.link.telemetry
        return bool(t and t.failsafe)

    def wait_telemetry(
        self, predicate: Callable[[Telemetry], bool] | None = None, timeout: float = 1.0
    ) -> Telemetry:
        """The next telemetry frame (for which ``predicate`` is true); BridgeTimeout after ``timeout``."""
        return self.link.wait_telemetry(predicate, timeout)

    def on_telemetry(self, callback: Callable[[Telemetry], None]) -> Callable[[], None]:
        """Call ``callback(telemetry)`` for each frame; returns a function that unsubscribes.

        Callbacks run in the reader thread: keep them short and never wait for
        the board from one (the reader could not deliver the answer).
        """
        return self.link.on_telemetry(callback)

    def on_reboot(self, callback: Callable[[Hello], None]) -> Callable[[], None]:
        """Call ``callback(new_hello)`` when the board rebooted (configuration was re-sent)."""
        return self.link.on_reboot(callback)

    # --- moving ----------------------------------------------------------------------

    def arm(self) -> None:
        """Allow outputs to move (clears a fail-safe). Setpoints restart from 0."""
        self.commands.arm()

    def stop_all(self) -> None:
        """Emergency stop: motors 0, servos safe, outputs low, disarmed; arm() to move again."""
        self.commands.stop_all()

    def drive(self, left: float, right: float, *, ack: bool = False) -> None:
        """Set both motors (-1..1). Streamed until changed; ``ack`` waits for the board's ACK."""
        self.setpoints.drive(left, right, ack=ack)
