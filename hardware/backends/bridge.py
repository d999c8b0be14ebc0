"""The ``bridge`` backend: parts wired to a microcontroller, over USB serial.

The board (an Arduino UNO with RoboClass's reference firmware) drives the
motors and reads the sensors; this backend turns each part of the kit into a
:class:`firmware_bridge.Bridge` call and reads the board's latest telemetry::

    from hardware import Robot

    with Robot("pi-uno-bridge", backend="bridge", port="/dev/ttyACM0") as robot:
        robot.drive.forward(0.4)                # arms the board, then streams the setpoint
        print(robot.distance.metres)            # metres, from the board's telemetry

Safety: the board moves nothing until it is armed. The backend arms it on
the first command that needs it (a motor value other than 0, a servo away
from its safe angle, an output turned on); :meth:`BridgeBackend.stop_all`
(the robot's e-stop, close, signals) disarms it, so nothing moves again
until the next such command, which the robot's e-stop latch holds back
until ``release()``. If the link goes quiet the firmware's own watchdog
stops the motors; a lost USB cable makes commands and readings raise a
:class:`~hardware.errors.BackendError` / :class:`~hardware.errors.SensorError`
that says to check the cable (the link reconnects by itself).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from firmware_bridge import (
    Bridge,
    BridgeError,
    CommandRefused,
    Hello,
    NotArmed,
    PinMode,
    Telemetry,
)
from firmware_bridge.client import SerialLike, open_serial
from firmware_bridge.protocol import ErrorCode
from hardware.backends import bridge_ports as ports
from hardware.camera import open_camera_port
from hardware.errors import BackendError, KitError, SensorError
from hardware.kit import (
    BatterySpec,
    ButtonSpec,
    BuzzerSpec,
    CameraSpec,
    EncodersSpec,
    ImuSpec,
    KitProfile,
    LedSpec,
    LineSensorsSpec,
    PartSpec,
    RgbLedSpec,
    ServoSpec,
    UltrasonicSpec,
)
from hardware.ports import (
    BatteryPort,
    ButtonPort,
    CameraPort,
    DistancePort,
    EncoderPort,
    ImuPort,
    LedPort,
    LinePort,
    MotorPort,
    ReadingTiming,
    RgbLedPort,
    ServoPort,
    TonePort,
)
from rcbase.closeable import Closeable

__all__ = ["DEFAULT_PORT", "BridgeBackend"]

logger = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_PORT = "/dev/ttyACM0"
FIRST_READING_TIMEOUT = 1.0  # seconds a sensor waits for its first telemetry
RECONNECT_WAIT = 1.0  # seconds a reading waits for a link that is reconnecting
TIMING_FRAMES = 32  # the newest telemetry frames a sensor's rate is measured over
ENCODER_PINS = {"left": 2, "right": 3}  # INT0 / INT1: fixed by the firmware
FREE_PINS = range(2, 20)  # D2..D19 (A0..A5 are 14..19); the firmware refuses its own


def _as(spec: object, cls: type[T], name: str) -> T:
    if not isinstance(spec, cls):
        raise KitError(f"part {name!r} is not a {cls.__name__}")
    return spec


def _pin(value: int | None, what: str, part: str) -> int:
    if value is None:
        raise KitError(f"part {part!r} needs `{what}` (an Arduino pin) for the bridge backend")
    if value not in FREE_PINS:
        raise KitError(
            f"part {part!r}: {what} {value} is not an Arduino pin the firmware can use "
            "(D2..D19; A0..A5 are 14..19)"
        )
    return value


def _channel(value: int | None, what: str, part: str) -> int:
    if value is None:
        raise KitError(f"part {part!r} needs `{what}` (an analog input 0..5, A0..A5)")
    if not 0 <= value <= 5:
        raise KitError(f"part {part!r}: {what} {value} is not an analog input of the board (0..5)")
    return value


class BridgeBackend(Closeable):
    """Parts on a microcontroller running RoboClass firmware, reached over USB serial.

    ``port`` defaults to the robot's settings, then the kit's ``bridge.port``,
    then ``/dev/ttyACM0``. ``transport`` replaces pyserial (tests pass
    :class:`firmware_bridge.FakeBoard`'s); other keyword options go to
    :class:`firmware_bridge.Bridge` (``timeout``, ``setpoint_hz``, ...).
    """

    name = "bridge"
    # the keywords of __init__ and of firmware_bridge.Bridge that bridge_options may carry
    OPTIONS = frozenset(
        {
            "port",
            "baud",
            "transport",
            "timeout",
            "watchdog_ms",
            "telemetry_ms",
            "setpoint_hz",
            "reconnect",
        }
    )

    def __init__(
        self,
        kit: KitProfile,
        port: str | None = None,
        *,
        baud: int | None = None,
        transport: Callable[[str, int], SerialLike] = open_serial,
        **bridge_options: Any,
    ) -> None:
        if kit.backend != "bridge":
            right = "gpio" if kit.backend == "gpio" else "sim"
            raise BackendError(
                f"kit {kit.name!r} is not wired to a microcontroller: use backend={right!r}"
                + (" (or backend='sim' to try it in the simulator)" if right == "gpio" else "")
            )
        self.kit = kit
        self.port = port or kit.bridge.port or DEFAULT_PORT
        self._lock = threading.RLock()  # RLock: stop_all may run in a signal handler
        self._values = [0.0, 0.0]  # motor channel 0, 1
        self._armed = False
        self._recent: deque[Telemetry] = deque(maxlen=TIMING_FRAMES)  # for timing()
        options = {"watchdog_ms": kit.bridge.watchdog_ms, **bridge_options}
        try:
            self.bridge = Bridge.open(
                self.port, baud=baud or kit.bridge.baud, transport=transport, **options
            )
        except BridgeError as exc:
            raise BackendError(
                f"cannot reach the robot's microcontroller: {exc} "
                "(a different port? set `port:` in robot.yaml or pass port=...)"
            ) from exc
        self._unsubscribe = [
            self.bridge.on_telemetry(self._on_telemetry),
            self.bridge.on_reboot(self._on_reboot),
        ]
        logger.info("bridge backend on %s: firmware %s", self.port, self.bridge.hello.firmware)

    # -- time ------------------------------------------------------------------

    def clock(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    # -- arming and the link -------------------------------------------------

    def _on_telemetry(self, t: Telemetry) -> None:
        # Reader thread. Frames arrive in order, so one read after our ARM was
        # acknowledged shows the board armed unless it has disarmed since
        # (its watchdog, a reboot, STOP_ALL).
        self._recent.append(t)
        if not t.armed:
            self._armed = False

    def _on_reboot(self, hello: Hello) -> None:
        self._armed = False
        self._recent.clear()  # the board's clock started again
        logger.warning(
            "the board on %s restarted (power dip?): it stopped; the next command re-arms it",
            self.port,
        )

    def _lost(self, exc: BridgeError) -> BackendError:
        return BackendError(
            f"lost the link to the robot's microcontroller on {self.port} ({exc}). "
            "Check the USB cable and the board's power; its watchdog has stopped the motors, "
            "and RoboClass reconnects by itself: send the command again when it is back"
        )

    def _arm(self) -> None:
        """Arm the board (under the lock). Arming restarts every motor from 0."""
        self.bridge.arm()
        self._values = [0.0, 0.0]
        self._armed = True

    # -- what the ports (bridge_ports.py) call ---------------------------------

    def set_motor(self, channel: int, value: float) -> None:
        """Motor ``channel`` to -1..1: arms the board first when it must move."""
        with self._lock:
            try:
                if not self._armed:
                    self._values = [0.0, 0.0]  # a disarmed board keeps no setpoint
                    if value != 0:
                        self._arm()
                self._values[channel] = value
                self.bridge.drive(self._values[0], self._values[1])
            except BridgeError as exc:
                if value != 0:
                    raise self._lost(exc) from exc
                logger.debug("stopping a motor while the link is down: %s", exc)

    def write_output(self, safe: bool, write: Callable[[], None]) -> None:
        """Write an output; a disarmed board already holds every output in its safe state."""
        with self._lock:
            if safe and not self._armed:
                return
            try:
                if not self._armed:
                    self._arm()
                try:
                    write()
                except NotArmed:  # it disarmed itself just now (watchdog, reboot)
                    self._arm()
                    write()
            except CommandRefused as exc:
                raise BackendError(f"the board refused this output: {exc}") from exc
            except BridgeError as exc:
                if safe:
                    logger.debug("output to its safe state while the link is down: %s", exc)
                    return
                raise self._lost(exc) from exc

    def latest(self, field: Callable[[Telemetry], T | None], what: str, wiring: str) -> T:
        """The newest value of a telemetry field; waits a little for the first one."""
        b = self.bridge
        if not b.connected and not b.wait_connected(RECONNECT_WAIT):
            raise SensorError(
                f"no reading from the {what}: the link to the microcontroller on {self.port} "
                "is down. Check the USB cable and the board's power (RoboClass reconnects "
                "by itself)"
            )
        t = b.telemetry
        value = field(t) if t is not None else None
        if value is None:
            try:
                t = b.wait_telemetry(lambda t: field(t) is not None, FIRST_READING_TIMEOUT)
            except BridgeError as exc:
                raise SensorError(
                    f"no reading from the {what} on the microcontroller: {wiring}"
                ) from exc
            value = field(t)
        if value is None:  # pragma: no cover - wait_telemetry's predicate said otherwise
            raise SensorError(f"no reading from the {what}")
        return value

    def timing(self, field: Callable[[Telemetry], object | None]) -> ReadingTiming:
        """How often the board reports ``field`` (by its own clock) and the newest report's age.

        Over the newest frames that carry it; a rate of 0 when none came for more
        than two of its periods (and 0.1 s), an age of ``inf`` before the first.
        """
        frames = [t for t in tuple(self._recent) if field(t) is not None]  # reader appends
        if not frames:
            return ReadingTiming(rate_hz=0.0, age=math.inf)
        newest = frames[-1]
        age = max(0.0, time.monotonic() - newest.received)
        span = (newest.board_ms - frames[0].board_ms) / 1000
        if span <= 0 or age > max(0.1, 2 * span / (len(frames) - 1)):
            return ReadingTiming(rate_hz=0.0, age=age)
        return ReadingTiming(rate_hz=(len(frames) - 1) / span, age=age)

    def _setup(self, part: str, call: Callable[[], None]) -> None:
        """A configuration command; a refusal names the part and its wiring."""
        try:
            call()
        except CommandRefused as exc:
            if exc.code == ErrorCode.NO_DEVICE:
                raise SensorError(
                    f"part {part!r}: nothing answered on the board's I2C bus: check the wires "
                    "to A4 (SDA), A5 (SCL), its power and its address, or remove it from the kit"
                ) from exc
            if exc.code == ErrorCode.BAD_PIN:
                raise KitError(
                    f"part {part!r}: the board cannot use that pin (the motors use D4-D7, "
                    "encoders D2/D3, servos turn off PWM on D9/D10, D0/D1 are the USB serial)"
                ) from exc
            raise KitError(f"part {part!r}: {exc}") from exc
        except BridgeError as exc:
            raise self._lost(exc) from exc

    # -- parts -------------------------------------------------------------------

    def motor(self, side: str) -> MotorPort:
        wiring = getattr(self.kit.drive, side)
        channel = {"left": 0, "right": 1}[side] if wiring.channel is None else wiring.channel
        if channel not in (0, 1):
            raise KitError(f"{side} motor: channel {channel}: the board has motor channels 0 and 1")
        return ports.Motor(self, channel)

    def servo(self, name: str, spec: PartSpec) -> ServoPort:
        spec = _as(spec, ServoSpec, name)
        channel = 0 if spec.channel is None else spec.channel
        if channel > 3:
            raise KitError(f"part {name!r}: servo channel {channel}: the board has channels 0..3")
        port = ports.Servo(self, channel, spec)
        pin = _pin(spec.pin, "pin", name)
        self._setup(
            name,
            lambda: self.bridge.commands.servo_attach(
                channel, pin, spec.min_pulse_us, spec.max_pulse_us, port.safe_us
            ),
        )
        return port

    def distance(self, name: str, spec: PartSpec) -> DistancePort:
        spec = _as(spec, UltrasonicSpec, name)
        trigger, echo = _pin(spec.trigger, "trigger", name), _pin(spec.echo, "echo", name)
        self._setup(name, lambda: self.bridge.commands.setup_ultrasonic(trigger, echo))
        return ports.Distance(self, trigger, echo)

    def line(self, name: str, spec: PartSpec) -> LinePort:
        spec = _as(spec, LineSensorsSpec, name)
        if spec.channels is not None:
            analog = [_channel(c, "channel", name) for c in spec.channels]
            for c in analog:
                self._setup(
                    name, partial(self.bridge.commands.subscribe, "analog", c, period_ms=10)
                )
            return ports.Line(self, spec, analog, [])
        if spec.pins is None:
            raise KitError(
                f"part {name!r} needs `channels` (analog inputs) or `pins` for the bridge backend"
            )
        pins = [_pin(p, "pin", name) for p in spec.pins]
        for p in pins:
            self._setup(name, partial(self.bridge.commands.pin_mode, p, PinMode.INPUT))
            self._setup(name, partial(self.bridge.commands.subscribe, "digital", p))
        return ports.Line(self, spec, [], pins)

    def encoders(self, name: str, spec: PartSpec) -> EncoderPort:
        spec = _as(spec, EncodersSpec, name)
        for side, pin in ENCODER_PINS.items():
            wires = getattr(spec, side)
            if wires is not None and list(wires) != [pin]:
                raise KitError(
                    f"part {name!r}: the board counts {side} encoder pulses on D{pin} only "
                    f"(one channel; direction from the motor): set `{side}: [{pin}]`"
                )
        self._setup(name, self.bridge.commands.setup_encoders)
        return ports.Encoders(self)

    def imu(self, name: str, spec: PartSpec) -> ImuPort:
        spec = _as(spec, ImuSpec, name)
        if spec.chip != "mpu6050":
            raise BackendError(
                f"{name}: the bridge firmware reads an MPU-6050, not a {spec.chip}; "
                "change `chip` or remove the part from the kit"
            )
        self._setup(name, lambda: self.bridge.commands.setup_imu(spec.address))
        return ports.Imu(self)

    def button(self, name: str, spec: PartSpec) -> ButtonPort:
        spec = _as(spec, ButtonSpec, name)
        pin = _pin(spec.pin, "pin", name)
        mode = PinMode.INPUT_PULLUP if spec.pull_up else PinMode.INPUT
        self._setup(name, lambda: self.bridge.commands.pin_mode(pin, mode))
        self._setup(name, lambda: self.bridge.commands.subscribe("digital", pin))
        return ports.Button(self, pin, spec.pull_up)

    def _out(self, name: str, pin: int | None) -> int:
        p = _pin(pin, "pin", name)
        self._setup(name, lambda: self.bridge.commands.pin_mode(p, PinMode.OUTPUT))
        return p

    def led(self, name: str, spec: PartSpec) -> LedPort:
        spec = _as(spec, LedSpec, name)
        return ports.Output(self, self._out(name, spec.pin), spec.active_high)

    def rgb_led(self, name: str, spec: PartSpec) -> RgbLedPort:
        spec = _as(spec, RgbLedSpec, name)
        if spec.pins is None:
            raise KitError(f"part {name!r} needs `pins: [red, green, blue]` (Arduino pins)")
        return ports.RgbLed(
            self, [ports.Output(self, self._out(name, p), spec.active_high) for p in spec.pins]
        )

    def buzzer(self, name: str, spec: PartSpec) -> TonePort:
        spec = _as(spec, BuzzerSpec, name)
        if not spec.active:
            raise BackendError(
                f"{name}: the bridge firmware cannot play tones on a passive buzzer yet; "
                "use an active buzzer (`active: true`, it beeps at its own pitch) on a free "
                "pin, or remove it from the kit"
            )
        return ports.Beeper(self, self._out(name, spec.pin))

    def battery(self, name: str, spec: PartSpec) -> BatteryPort:
        spec = _as(spec, BatterySpec, name)
        channel = _channel(spec.channel, "channel", name)
        self._setup(name, lambda: self.bridge.commands.setup_battery(channel, spec.divider))
        return ports.Battery(self, channel)

    def camera(self, name: str, spec: CameraSpec) -> CameraPort:
        return open_camera_port(spec)  # the camera is on the Pi, not the board

    # -- safety and lifecycle --------------------------------------------------

    def stop_all(self) -> None:
        """Motors 0, servos safe, outputs low, the board disarmed. Never raises."""
        with self._lock:
            self._values = [0.0, 0.0]
            self._armed = False
            if self.closed or self.bridge.closed:
                return
            try:
                self.bridge.stop_all()
            except BridgeError as exc:
                logger.warning(
                    "could not stop the board on %s (%s): its watchdog stops the motors "
                    "within %d ms",
                    self.port,
                    exc,
                    self.bridge.commands.watchdog_ms,
                )

    def _close(self) -> None:
        """Stop the board and close the link (it sends STOP_ALL first)."""
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        with self._lock:
            self._values = [0.0, 0.0]
            self._armed = False
            self.bridge.close()

    def __repr__(self) -> str:
        return f"<BridgeBackend {self.port}{' closed' if self.closed else ''}>"
