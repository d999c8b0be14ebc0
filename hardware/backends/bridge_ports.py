"""The ports of the ``bridge`` backend: each part's end of the link.

A port holds no state of the link: motors and outputs go through
:class:`~hardware.backends.bridge.BridgeBackend` (which arms the board when a
command needs it), readings come from the board's latest telemetry.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

import numpy as np
import numpy.typing as npt

from firmware_bridge import Telemetry
from hardware.errors import BackendError
from hardware.kit import LineSensorsSpec, ServoSpec
from hardware.ports import ImuReading, ReadingTiming

if TYPE_CHECKING:
    from hardware.backends.bridge import BridgeBackend

__all__ = [
    "PWM_PINS",
    "Battery",
    "Beeper",
    "BridgePort",
    "Button",
    "Distance",
    "Encoders",
    "Imu",
    "Line",
    "Motor",
    "Output",
    "RgbLed",
    "Servo",
]

T = TypeVar("T")

PWM_PINS = frozenset({3, 11})  # the PWM pins the firmware leaves to the host


class BridgePort:
    def __init__(self, backend: BridgeBackend) -> None:
        self.backend = backend

    def close(self) -> None:
        """Nothing to release: the link belongs to the backend, which closes it."""


class Motor(BridgePort):
    def __init__(self, backend: BridgeBackend, channel: int) -> None:
        super().__init__(backend)
        self.channel = channel

    def set(self, value: float) -> None:
        self.backend.set_motor(self.channel, value)


class Reading(BridgePort):
    """A port whose value comes from the board's telemetry."""

    what = "sensor"
    wiring = ""

    def _latest(self, field: Callable[[Telemetry], T | None]) -> T:
        return self.backend.latest(field, self.what, self.wiring)

    def _value(self, t: Telemetry) -> object | None:
        """This sensor's value in a telemetry frame; None when the frame has none."""
        raise NotImplementedError

    def timing(self) -> ReadingTiming:
        """How often the board reports this sensor, and how old its newest report is."""
        return self.backend.timing(self._value)


class Distance(Reading):
    what = "ultrasonic sensor"

    def __init__(self, backend: BridgeBackend, trigger: int, echo: int) -> None:
        super().__init__(backend)
        self.wiring = f"check its trigger (D{trigger}) and echo (D{echo}) wires and its 5 V"

    def _value(self, t: Telemetry) -> float | None:
        return t.distance

    def read(self) -> float:
        return self._latest(self._value)


class Line(Reading):
    what = "line sensors"

    def __init__(
        self, backend: BridgeBackend, spec: LineSensorsSpec, analog: list[int], pins: list[int]
    ) -> None:
        super().__init__(backend)
        self.analog, self.pins = analog, pins
        self.black_is_high = spec.black_is_high
        wires = ", ".join([f"A{c}" for c in analog] + [f"D{p}" for p in pins])
        self.wiring = f"check their wires ({wires}) and 5 V"

    def _value(self, t: Telemetry) -> list[float] | None:
        if self.analog:
            if not all(c in t.analog for c in self.analog):
                return None
            return [t.analog[c] / 1023 for c in self.analog]
        if t.digital is None:
            return None
        return [float(t.digital >> p & 1) for p in self.pins]

    def read(self) -> npt.NDArray[np.float64]:
        high = np.array(self._latest(self._value), dtype=np.float64)
        return 1.0 - high if self.black_is_high else high


class Encoders(Reading):
    """Ticks since start; counts carry on over a board reboot (which zeroes the board's)."""

    what = "wheel encoders"
    wiring = "check their wires to D2 (left) and D3 (right)"

    def __init__(self, backend: BridgeBackend) -> None:
        super().__init__(backend)
        self._base = (0, 0)
        self._last = (0, 0)
        self._boot: int | None = None

    def _value(self, t: Telemetry) -> tuple[int, int] | None:
        return t.encoders

    def read(self) -> tuple[int, int]:
        left, right = self._latest(self._value)
        boot = self.backend.bridge.hello.boot_id
        if self._boot is not None and boot != self._boot:
            self._base = (self._base[0] + self._last[0], self._base[1] + self._last[1])
        self._boot, self._last = boot, (left, right)
        return (self._base[0] + left, self._base[1] + right)


class Imu(Reading):
    what = "IMU"
    wiring = "check its wires to A4 (SDA), A5 (SCL) and its power"

    def _value(self, t: Telemetry) -> tuple[float, tuple[float, float, float]] | None:
        return None if t.heading is None or t.rates is None else (t.heading, t.rates)

    def read(self) -> ImuReading:
        heading, (roll, pitch, yaw) = self._latest(self._value)
        return ImuReading(heading=heading, yaw_rate=yaw, pitch_rate=pitch, roll_rate=roll)


class Battery(Reading):
    what = "battery monitor"

    def __init__(self, backend: BridgeBackend, channel: int) -> None:
        super().__init__(backend)
        self.wiring = f"check the divider's wire to A{channel}"

    def _value(self, t: Telemetry) -> float | None:
        return t.voltage

    def read(self) -> float:
        return self._latest(self._value)


class Button(Reading):
    what = "button"

    def __init__(self, backend: BridgeBackend, pin: int, pull_up: bool) -> None:
        super().__init__(backend)
        self.pin, self.pull_up = pin, pull_up
        self.wiring = f"check its wire to D{pin}"

    def _value(self, t: Telemetry) -> int | None:
        return t.digital

    def is_pressed(self) -> bool:
        digital = self._latest(self._value)
        level = bool(digital >> self.pin & 1)
        return not level if self.pull_up else level  # pull-up: pressed pulls the pin low


class Output(BridgePort):
    """One output pin: PWM (D3, D11) or on/off. The board keeps it low while disarmed."""

    def __init__(self, backend: BridgeBackend, pin: int, active_high: bool = True) -> None:
        super().__init__(backend)
        self.pin, self.active_high = pin, active_high
        self.pwm = pin in PWM_PINS

    def set(self, value: float) -> None:
        level = value if self.active_high else 1.0 - value
        b = self.backend.bridge.commands
        if self.pwm:
            self.backend.write_output(level == 0, lambda: b.pwm_write(self.pin, level))
        else:
            self.backend.write_output(level < 0.5, lambda: b.digital_write(self.pin, level >= 0.5))


class RgbLed(BridgePort):
    def __init__(self, backend: BridgeBackend, outputs: list[Output]) -> None:
        super().__init__(backend)
        self.outputs = outputs

    def set(self, rgb: tuple[float, float, float]) -> None:
        for output, value in zip(self.outputs, rgb, strict=True):
            output.set(value)


class Beeper(Output):
    """An active buzzer: on or off at its own pitch."""

    def tone(self, hertz: float | None) -> None:
        self.set(0.0 if hertz is None else 1.0)


class Servo(BridgePort):
    def __init__(self, backend: BridgeBackend, channel: int, spec: ServoSpec) -> None:
        super().__init__(backend)
        self.channel, self.spec = channel, spec
        self.safe_us = self._us(spec.safe_angle)

    def _us(self, degrees: float) -> int:
        s = self.spec
        share = (degrees - s.min_angle) / (s.max_angle - s.min_angle)
        return round(s.min_pulse_us + share * (s.max_pulse_us - s.min_pulse_us))

    def set_angle(self, degrees: float | None) -> None:
        if degrees is None:
            raise BackendError(
                "the bridge firmware cannot let a servo go limp: it keeps it at an angle; "
                "use servo.park() to send it to its safe angle"
            )
        us = self._us(degrees)
        b = self.backend.bridge.commands
        self.backend.write_output(us == self.safe_us, lambda: b.servo_write_us(self.channel, us))
