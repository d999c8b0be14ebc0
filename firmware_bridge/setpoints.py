"""The setpoint streamer: the motors' latest values, sent as the link's heartbeat.

The firmware stops the motors when nothing arrived for its watchdog period
(``watchdog_ms``, 300 ms by default), so :class:`SetpointStreamer` sends the
latest DRIVE setpoint ``hz`` times a second (50 by default) until it changes,
from one thread. Each beat first lets the connection keep itself up
(:meth:`~firmware_bridge.connection.Connection.maintain`: a new handshake
and the configuration again after an unplug or a reboot), so the two never
race. With ``hz=0`` nothing is streamed (a tool that only pings); the thread
still keeps the link up 20 times a second.

The setpoint goes back to 0 whenever the board stops by itself (its
watchdog's fail-safe, a reboot) and on ARM and STOP_ALL, so a board that
moves again never resumes an old speed.
"""

from __future__ import annotations

import logging
import threading
import time

from firmware_bridge.connection import Connection
from firmware_bridge.errors import BridgeClosed, BridgeError, BridgeTimeout, NoBoard
from firmware_bridge.protocol import MsgType, pack
from rcbase.closeable import Closeable
from rcbase.threads import join_thread

__all__ = ["SetpointStreamer"]

logger = logging.getLogger(__name__)

IDLE_PERIOD = 0.05  # seconds between beats that send nothing (hz=0): the link is still kept up


class SetpointStreamer(Closeable):
    """Both motors' setpoint (-1..1), streamed ``hz`` times a second as the heartbeat.

    >>> streamer = SetpointStreamer(link, hz=50); streamer.start()   # doctest: +SKIP
    >>> streamer.drive(0.4, 0.4)            # sent at once, then on every beat
    >>> streamer.close()                    # the thread stops and is joined

    Bridge makes and closes one for you: ``bridge.setpoints``.
    """

    def __init__(self, link: Connection, hz: float = 50.0) -> None:
        self.hz = hz
        self._link = link
        self._setpoint = (0, 0)  # thousandths, as on the wire
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"bridge-streamer {link.port}", daemon=True
        )
        self._unsubscribe = link.on_stopped(self.zero)

    def start(self) -> None:
        """Start the heartbeat thread."""
        self._thread.start()

    def _close(self) -> None:
        self._stop.set()
        join_thread(self._thread)
        self._unsubscribe()

    @property
    def setpoint(self) -> tuple[float, float]:
        """The left and right values streamed now, -1..1."""
        left, right = self._setpoint
        return (left / 1000, right / 1000)

    def drive(self, left: float, right: float, *, ack: bool = False) -> None:
        """Set both motors (-1..1). Streamed until changed; ``ack`` waits for the board's ACK."""
        value = (_motor(left), _motor(right))
        self._setpoint = value
        payload = pack(MsgType.DRIVE, *value)
        if ack:
            self._link.request(MsgType.DRIVE, payload, tries=1)
        else:
            self._link.send(MsgType.DRIVE, payload)

    def motor(self, channel: int, value: float) -> None:
        """Set one motor (0 left, 1 right) to -1..1; it joins the streamed setpoint."""
        if channel not in (0, 1):
            raise ValueError(f"motor channel {channel}: the board has motors 0 and 1")
        v = _motor(value)
        left, right = self._setpoint
        self._setpoint = (v, right) if channel == 0 else (left, v)
        self._link.request(MsgType.MOTOR, pack(MsgType.MOTOR, channel, v))

    def zero(self) -> None:
        """Both motors to 0 from the next beat on (nothing is sent now)."""
        self._setpoint = (0, 0)

    def _run(self) -> None:
        period = 1.0 / self.hz if self.hz > 0 else IDLE_PERIOD
        next_time = time.monotonic()
        while not self._stop.is_set():
            try:
                self._link.maintain(self._stop)
                if self.hz > 0 and self._link.connected:
                    self._link.send(MsgType.DRIVE, pack(MsgType.DRIVE, *self._setpoint))
            except (NoBoard, BridgeTimeout, BridgeClosed) as e:
                logger.debug("streamer: %s", e)
            except BridgeError as e:
                logger.warning("streamer: %s", e)
            next_time += period
            delay = next_time - time.monotonic()
            if delay < 0:
                next_time = time.monotonic()
                delay = 0
            self._stop.wait(delay)


def _motor(value: float) -> int:
    if not -1.0 <= value <= 1.0:
        raise ValueError(f"motor value {value}: must be within -1..1")
    return round(value * 1000)
