"""The ``gpio`` backend: parts wired to the Pi's pins, through gpiozero.

gpiozero chooses the pin factory (lgpio on a Pi) unless one is passed in;
tests pass ``gpiozero.pins.mock.MockFactory`` and drive the pins.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from hardware.camera import open_camera_port
from hardware.errors import BackendError, KitError, SensorError
from hardware.kit import (
    ButtonSpec,
    BuzzerSpec,
    CameraSpec,
    EncodersSpec,
    KitProfile,
    LedSpec,
    LineSensorsSpec,
    MotorWiring,
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
    RgbLedPort,
    ServoPort,
    TonePort,
)

__all__ = ["GpioBackend"]

logger = logging.getLogger(__name__)
T = TypeVar("T")


def _gpiozero() -> Any:
    try:
        import gpiozero  # noqa: PLC0415 - the `pi` extra
    except ImportError as exc:
        raise BackendError("the gpio backend needs gpiozero: pip install 'roboclass[pi]'") from exc
    return gpiozero


def _need(value: Any, what: str, part: str) -> Any:
    if value is None:
        raise KitError(f"part {part!r} needs `{what}` (a BCM pin number) for the gpio backend")
    return value


def _as(spec: object, cls: type[T], name: str) -> T:
    if not isinstance(spec, cls):
        raise KitError(f"part {name!r} is not a {cls.__name__}")
    return spec


class _Wrap:
    """A port around one gpiozero device."""

    def __init__(self, device: Any) -> None:
        self.device = device

    def close(self) -> None:
        self.device.close()


class _MotorPort(_Wrap):
    def set(self, value: float) -> None:
        self.device.value = value


class _ServoPort(_Wrap):
    def set_angle(self, degrees: float | None) -> None:
        self.device.angle = degrees


class _DistancePort(_Wrap):
    FIRST_READING_TIMEOUT = 1.0

    def read(self) -> float:
        # gpiozero blocks until its first readings arrive, for ever if no echo ever
        # comes (unplugged sensor); wait on its queue with a time limit instead.
        queue = getattr(self.device, "_queue", None)
        full = getattr(queue, "full", None)
        if full is not None and not full.wait(self.FIRST_READING_TIMEOUT):
            raise SensorError(
                "no echo from the ultrasonic sensor: check the trigger and echo wires "
                "(echo needs a 5 V -> 3.3 V divider) and its 5 V supply"
            )
        return float(self.device.distance)

    def close(self) -> None:
        # gpiozero's DistanceSensor.close() drops its trigger pin before it stops the
        # thread that reads it (an AttributeError in that thread): stop the thread first.
        queue = getattr(self.device, "_queue", None)
        if queue is not None:
            queue.stop()
        self.device.close()


class _LinePort:
    def __init__(self, inputs: list[Any], black_is_high: bool) -> None:
        self.inputs = inputs
        self.black_is_high = black_is_high

    def read(self) -> npt.NDArray[np.float64]:
        high = np.array([bool(i.value) for i in self.inputs], dtype=np.float64)
        return 1.0 - high if self.black_is_high else high

    def close(self) -> None:
        for i in self.inputs:
            i.close()


class _EdgeCounter:
    """Counts pulses of a single-channel encoder; direction from the motor's sign."""

    def __init__(self, device: Any, motor: _MotorPort) -> None:
        self.device = device
        self.motor = motor
        self.count = 0
        self._lock = threading.Lock()
        device.when_activated = self._edge

    def _edge(self) -> None:
        with self._lock:
            self.count += -1 if self.motor.device.value < 0 else 1

    def read(self) -> int:
        with self._lock:
            return self.count

    def close(self) -> None:
        self.device.when_activated = None
        self.device.close()


class _QuadratureCounter:
    def __init__(self, device: Any) -> None:
        self.device = device

    def read(self) -> int:
        return int(self.device.steps)

    def close(self) -> None:
        self.device.close()


class _EncoderPort:
    def __init__(
        self, left: _EdgeCounter | _QuadratureCounter, right: _EdgeCounter | _QuadratureCounter
    ) -> None:
        self.left, self.right = left, right

    def read(self) -> tuple[int, int]:
        return (self.left.read(), self.right.read())

    def close(self) -> None:
        self.left.close()
        self.right.close()


class _ButtonPort(_Wrap):
    def is_pressed(self) -> bool:
        return bool(self.device.is_pressed)


class _LedPort(_Wrap):
    def set(self, value: float) -> None:
        self.device.value = value


class _RgbPort(_Wrap):
    def set(self, rgb: tuple[float, float, float]) -> None:
        self.device.value = rgb


class _TonePort(_Wrap):
    def __init__(self, device: Any, tonal: bool) -> None:
        super().__init__(device)
        self.tonal = tonal

    def tone(self, hertz: float | None) -> None:
        if hertz is None:
            self.device.stop() if self.tonal else self.device.off()
        elif self.tonal:
            low, high = self.device.min_tone.frequency, self.device.max_tone.frequency
            self.device.play(min(max(hertz, low), high))
        else:
            self.device.on()


class GpioBackend:
    """Parts on the Pi's own pins. ``pin_factory`` defaults to gpiozero's choice."""

    name = "gpio"

    def __init__(self, kit: KitProfile, pin_factory: Any = None) -> None:
        if kit.backend == "bridge":
            raise BackendError(
                f"kit {kit.name!r} is wired to a microcontroller: use backend='bridge' "
                "(or backend='sim' to try it in the simulator)"
            )
        self.kit = kit
        self._gz = _gpiozero()
        self._factory = pin_factory
        self._motors: dict[str, _MotorPort] = {}
        self._closed = False

    def clock(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def _make(self, cls: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return cls(*args, pin_factory=self._factory, **kwargs)
        except self._gz.BadPinFactory as exc:
            raise BackendError(
                "no GPIO pins here (this is not a Raspberry Pi?): use backend='sim', "
                "or set GPIOZERO_PIN_FACTORY=mock to try without hardware"
            ) from exc
        except self._gz.GPIOZeroError as exc:
            reason = str(exc) or type(exc).__name__
            raise BackendError(f"cannot use {cls.__name__} on pins {args}: {reason}") from exc

    def motor(self, side: str) -> MotorPort:
        wiring: MotorWiring = getattr(self.kit.drive, side)
        if wiring.driver == "phase-enable":
            device = self._make(
                self._gz.PhaseEnableMotor,
                _need(wiring.phase, "phase", f"{side} motor"),
                _need(wiring.enable, "enable", f"{side} motor"),
            )
        else:
            device = self._make(
                self._gz.Motor,
                _need(wiring.forward, "forward", f"{side} motor"),
                _need(wiring.backward, "backward", f"{side} motor"),
                enable=wiring.enable,
                pwm=True,
            )
        port = _MotorPort(device)
        self._motors[side] = port
        return port

    def servo(self, name: str, spec: PartSpec) -> ServoPort:
        spec = _as(spec, ServoSpec, name)
        return _ServoPort(
            self._make(
                self._gz.AngularServo,
                _need(spec.pin, "pin", name),
                initial_angle=spec.safe_angle,
                min_angle=spec.min_angle,
                max_angle=spec.max_angle,
                min_pulse_width=spec.min_pulse_us / 1e6,
                max_pulse_width=spec.max_pulse_us / 1e6,
            )
        )

    def distance(self, name: str, spec: PartSpec) -> DistancePort:
        spec = _as(spec, UltrasonicSpec, name)
        return _DistancePort(
            self._make(
                self._gz.DistanceSensor,
                echo=_need(spec.echo, "echo", name),
                trigger=_need(spec.trigger, "trigger", name),
                max_distance=spec.max_distance,
            )
        )

    def line(self, name: str, spec: PartSpec) -> LinePort:
        spec = _as(spec, LineSensorsSpec, name)
        pins = _need(spec.pins, "pins", name)
        return _LinePort(
            [self._make(self._gz.DigitalInputDevice, p) for p in pins], spec.black_is_high
        )

    def encoders(self, name: str, spec: PartSpec) -> EncoderPort:
        spec = _as(spec, EncodersSpec, name)
        sides: list[_EdgeCounter | _QuadratureCounter] = []
        for side in ("left", "right"):
            pins = _need(getattr(spec, side), side, name)
            if len(pins) == 2:
                sides.append(
                    _QuadratureCounter(
                        self._make(self._gz.RotaryEncoder, pins[0], pins[1], max_steps=0)
                    )
                )
            elif len(pins) == 1:
                if side not in self._motors:
                    raise BackendError("single-channel encoders need the drive motors first")
                sides.append(
                    _EdgeCounter(
                        self._make(self._gz.DigitalInputDevice, pins[0]), self._motors[side]
                    )
                )
            else:
                raise KitError(f"{name}.{side} must list one pin (pulses) or two pins (A, B)")
        return _EncoderPort(sides[0], sides[1])

    def imu(self, name: str, spec: PartSpec) -> ImuPort:
        raise BackendError(
            f"{name}: an I2C IMU on the gpio backend is not supported yet; wire it to the "
            "microcontroller and use the bridge backend, or remove it from the kit"
        )

    def button(self, name: str, spec: PartSpec) -> ButtonPort:
        spec = _as(spec, ButtonSpec, name)
        return _ButtonPort(
            self._make(self._gz.Button, _need(spec.pin, "pin", name), pull_up=spec.pull_up)
        )

    def led(self, name: str, spec: PartSpec) -> LedPort:
        spec = _as(spec, LedSpec, name)
        return _LedPort(
            self._make(self._gz.PWMLED, _need(spec.pin, "pin", name), active_high=spec.active_high)
        )

    def rgb_led(self, name: str, spec: PartSpec) -> RgbLedPort:
        spec = _as(spec, RgbLedSpec, name)
        r, g, b = _need(spec.pins, "pins", name)
        return _RgbPort(self._make(self._gz.RGBLED, r, g, b, active_high=spec.active_high))

    def buzzer(self, name: str, spec: PartSpec) -> TonePort:
        spec = _as(spec, BuzzerSpec, name)
        pin = _need(spec.pin, "pin", name)
        if spec.active:
            return _TonePort(self._make(self._gz.Buzzer, pin), tonal=False)
        return _TonePort(self._make(self._gz.TonalBuzzer, pin, octaves=3), tonal=True)

    def battery(self, name: str, spec: PartSpec) -> BatteryPort:
        raise BackendError(
            f"{name}: the Pi has no analogue input to measure the battery; use the bridge "
            "backend (the microcontroller measures it) or remove it from the kit"
        )

    def camera(self, name: str, spec: CameraSpec) -> CameraPort:
        return open_camera_port(spec)

    def stop_all(self) -> None:
        for port in self._motors.values():
            if not port.device.closed:
                port.set(0.0)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.stop_all()
