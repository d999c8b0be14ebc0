"""The board's commands: :class:`Commands`, each one acknowledged or refused.

Every call sends one request and waits for the board's ACK (three tries of
0.2 s: BridgeTimeout after that); a NAK becomes NotArmed or CommandRefused
with the board's error code. The configuration (pin modes, servos,
subscriptions, sensors, the link's watchdog and telemetry period) is kept
and sent again after a reconnect or a reboot; arming never is: a board that
restarted stays stopped until it is armed again.
"""

from __future__ import annotations

import logging
from typing import Literal

from firmware_bridge.connection import Connection
from firmware_bridge.errors import BridgeError, CommandRefused
from firmware_bridge.messages import Capability, PinMode
from firmware_bridge.protocol import ErrorCode, MsgType, name_bytes, pack
from firmware_bridge.setpoints import SetpointStreamer

__all__ = ["Commands"]

logger = logging.getLogger(__name__)

_INPUTS = {"digital": 1, "analog": 2}
TELEMETRY_MAX_MS = 5000
TELEMETRY_MIN_MS = {0: 10, 1: 10}  # by protocol minor: 1.2 takes periods from 1 ms


class Commands:
    """What the host asks of the board, besides the streamed setpoint.

    >>> bridge.commands.pin_mode(13, PinMode.OUTPUT)          # doctest: +SKIP
    >>> bridge.commands.arm()
    >>> bridge.commands.digital_write(13, True)

    ``watchdog_ms`` and ``telemetry_ms`` are what the board was last told
    (:meth:`configure`); the configuration is sent again after a reconnect.
    """

    def __init__(
        self,
        link: Connection,
        setpoints: SetpointStreamer,
        *,
        watchdog_ms: int = 300,
    ) -> None:
        self.watchdog_ms = watchdog_ms
        self._link = link
        self._setpoints = setpoints
        self._config: dict[tuple[int, int], tuple[MsgType, bytes]] = {}
        link.on_relink(self._restore)

    @property
    def telemetry_ms(self) -> int:
        """The telemetry period the board was told, in ms (0: only on change)."""
        return self._link.telemetry_ms

    # --- motion --------------------------------------------------------------------

    def arm(self) -> None:
        """Allow outputs to move (clears a fail-safe). Setpoints restart from 0."""
        self._setpoints.zero()
        self._link.request(MsgType.ARM, b"")

    def stop_all(self) -> None:
        """Emergency stop: motors 0, servos safe, outputs low, disarmed; arm() to move again."""
        self._setpoints.zero()
        self._link.request(MsgType.STOP_ALL, b"")

    # --- the board and the link ------------------------------------------------------

    def configure(self, *, watchdog_ms: int | None = None, telemetry_ms: int | None = None) -> None:
        """Change the link watchdog and the telemetry period (0: only on change).

        A period shorter than a frame takes on the wire (1.6 ms for one analog
        channel at 115200 baud) sends frames back to back: as fast as the wire
        carries. Boards older than protocol 1.2 take 10..5000 ms.
        """
        self._check_period(self.telemetry_ms if telemetry_ms is None else telemetry_ms)
        self.watchdog_ms = watchdog_ms or self.watchdog_ms
        if telemetry_ms is not None:
            self._link.telemetry_ms = telemetry_ms  # the link knows when telemetry is late
        payload = pack(MsgType.CONFIG, self.watchdog_ms, self.telemetry_ms)
        self._configure(MsgType.CONFIG, 0, payload)

    def set_name(self, name: str, timeout: float | None = None) -> None:
        """Store ``name`` (0..16 of ``a-z 0-9 - _``; "" clears it) in the board's EEPROM.

        Reads it back with a new HELLO and raises BridgeError if the board did not keep
        it; CommandRefused when the firmware is older than protocol 1.1.

        >>> bridge.commands.set_name("robot-07"); bridge.name  # doctest: +SKIP
        'robot-07'
        """
        link = self._link
        payload = name_bytes(name)
        hello = link.hello
        if Capability.NAME not in hello.capabilities:
            raise CommandRefused(
                f"firmware {hello.firmware} on {link.port} cannot store a name "
                f"(protocol {hello.protocol[0]}.{hello.protocol[1]}, names need 1.1): "
                f"update it with `roboclass flash {link.port}`",
                code=ErrorCode.UNKNOWN_TYPE,
            )
        link.request(MsgType.SET_NAME, payload)
        hello = link.handshake(link.timeout if timeout is None else timeout)
        if (hello.name or "") != name:
            raise BridgeError(
                f"the board on {link.port} reports the name {hello.name!r} after "
                f"being given {name!r}: its EEPROM may be worn out"
            )

    # --- pins ------------------------------------------------------------------------

    def pin_mode(self, pin: int, mode: PinMode) -> None:
        """INPUT, OUTPUT or INPUT_PULLUP (kept: sent again after a reboot)."""
        self._configure(MsgType.PIN_MODE, pin, pack(MsgType.PIN_MODE, pin, PinMode(mode)))

    def digital_write(self, pin: int, level: bool) -> None:
        """An output pin high or low (the board must be armed)."""
        self._link.request(
            MsgType.DIGITAL_WRITE, pack(MsgType.DIGITAL_WRITE, pin, int(bool(level)))
        )

    def pwm_write(self, pin: int, duty: float) -> None:
        """Duty 0..1 on a PWM pin (D3 or D11 on an UNO)."""
        if not 0 <= duty <= 1:
            raise ValueError(f"duty {duty}: must be within 0..1")
        self._link.request(MsgType.PWM_WRITE, pack(MsgType.PWM_WRITE, pin, round(duty * 255)))

    def subscribe(self, kind: Literal["digital", "analog"], pin: int, period_ms: int = 0) -> None:
        """Report an input in telemetry: every ``period_ms``, or at once on change (0)."""
        code = _INPUTS[kind]
        self._configure(
            MsgType.SUBSCRIBE, code << 8 | pin, pack(MsgType.SUBSCRIBE, code, pin, period_ms)
        )

    def unsubscribe(self, kind: Literal["digital", "analog"], pin: int) -> None:
        """Stop reporting an input."""
        code = _INPUTS[kind]
        self._config.pop((MsgType.SUBSCRIBE, code << 8 | pin), None)
        self._link.request(MsgType.SUBSCRIBE, pack(MsgType.SUBSCRIBE, 0, pin, 0))

    # --- servos --------------------------------------------------------------------

    def servo_attach(
        self,
        channel: int,
        pin: int,
        min_us: int = 500,
        max_us: int = 2500,
        safe_us: int | None = None,
    ) -> None:
        """Start pulsing a servo on ``pin`` at its safe position (default: the middle)."""
        safe = (min_us + max_us) // 2 if safe_us is None else safe_us
        payload = pack(MsgType.SERVO_ATTACH, channel, pin, min_us, max_us, safe)
        self._configure(MsgType.SERVO_ATTACH, channel, payload)

    def servo_write_us(self, channel: int, us: int) -> None:
        """Pulse width in microseconds (clamped by the board to the attached range)."""
        self._link.request(MsgType.SERVO_WRITE, pack(MsgType.SERVO_WRITE, channel, us))

    # --- sensors -------------------------------------------------------------------

    def setup_ultrasonic(self, trigger: int, echo: int, period_ms: int = 60) -> None:
        """HC-SR04 on these pins; distance arrives in telemetry (``period_ms=0`` turns it off)."""
        self._configure(MsgType.ULTRASONIC, 0, pack(MsgType.ULTRASONIC, trigger, echo, period_ms))

    def setup_encoders(self, enable: bool = True) -> None:
        """Count wheel encoder ticks on D2 (left) and D3 (right)."""
        self._configure(MsgType.ENCODERS, 0, pack(MsgType.ENCODERS, int(enable)))

    def setup_imu(self, address: int = 0x68, period_ms: int = 20) -> None:
        """MPU-6050 on I2C; CommandRefused(NO_DEVICE) when nothing answers."""
        self._configure(MsgType.IMU, 0, pack(MsgType.IMU, address, period_ms))

    def setup_battery(self, channel: int, divider: float = 1.0) -> None:
        """Battery voltage on an analog channel through a divider (volts in per volt measured)."""
        self._configure(MsgType.BATTERY, 0, pack(MsgType.BATTERY, channel, round(divider * 1000)))

    # --- internals -----------------------------------------------------------------

    def _check_period(self, ms: int) -> None:
        """ValueError outside 0..5000 ms; CommandRefused when this board cannot go that fast."""
        if not 0 <= ms <= TELEMETRY_MAX_MS:
            raise ValueError(
                f"telemetry period {ms} ms: use 1..{TELEMETRY_MAX_MS} ms, or 0 for on change only"
            )
        hello = self._link.hello
        fastest = TELEMETRY_MIN_MS.get(hello.protocol[1], 1)
        if 0 < ms < fastest:
            raise CommandRefused(
                f"firmware {hello.firmware} on {self._link.port} sends telemetry every "
                f"{fastest} ms at most (protocol {hello.protocol[0]}.{hello.protocol[1]}; "
                f"periods from 1 ms need 1.2): update it with "
                f"`roboclass bridge flash --port {self._link.port}`",
                code=ErrorCode.BAD_VALUE,
            )

    def _configure(self, msg: MsgType, key: int, payload: bytes) -> None:
        """An acked command the board must get again after a reboot."""
        self._link.request(msg, payload)
        self._config[(msg, key)] = (msg, payload)

    def _restore(self) -> None:
        """After a new handshake: the configuration again (a refusal is logged, not raised)."""
        for msg, payload in list(self._config.values()):
            try:
                self._link.request(msg, payload)
            except CommandRefused as e:
                logger.warning("re-sending %s after a reboot: %s", msg.name, e)
