"""What a backend must provide: one small *port* per part.

A port is the backend's end of a device: it moves a motor or reads a sensor
in the backend's own way (gpiozero pins, a microcontroller channel, the
simulator). Devices in :mod:`hardware.devices` add everything students see
(value checks, inversion, speed caps, e-stop, recording) on top, so that all
three backends behave the same.

Values at the port are already checked: motors -1..1, LEDs 0..1, angles in
degrees inside the servo's range, distances in metres.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from hardware.kit import CameraSpec, KitProfile, PartSpec

__all__ = [
    "Backend",
    "BatteryPort",
    "ButtonPort",
    "CameraPort",
    "DistancePort",
    "EncoderPort",
    "ImuPort",
    "ImuReading",
    "LedPort",
    "LinePort",
    "MotorPort",
    "ReadingTiming",
    "RgbLedPort",
    "ServoPort",
    "TimedPort",
    "TonePort",
]


class Port(Protocol):
    def close(self) -> None: ...


@dataclass(frozen=True)
class ReadingTiming:
    """How fresh a sensor's readings are."""

    rate_hz: float | None  # new readings a second; None: each read measures anew
    age: float  # seconds since the newest reading was taken; 0.0: each read measures anew


@runtime_checkable
class TimedPort(Protocol):
    """A sensor port whose readings arrive by themselves (the bridge's telemetry)."""

    def timing(self) -> ReadingTiming: ...


class MotorPort(Port, Protocol):
    def set(self, value: float) -> None: ...


class ServoPort(Port, Protocol):
    def set_angle(self, degrees: float | None) -> None:
        """Move to ``degrees``; ``None`` lets the servo go limp."""


class DistancePort(Port, Protocol):
    def read(self) -> float:
        """Metres to the nearest object; ``inf`` when nothing is in range."""


class LinePort(Port, Protocol):
    def read(self) -> npt.NDArray[np.float64]:
        """Reflectance of each sensor, 0 (black) .. 1 (white)."""


class EncoderPort(Port, Protocol):
    def read(self) -> tuple[int, int]:
        """Total ticks counted by the (left, right) wheel since start."""


@dataclass(frozen=True)
class ImuReading:
    heading: float  # degrees, 0..360, counter-clockwise positive
    yaw_rate: float  # degrees per second
    pitch_rate: float = 0.0
    roll_rate: float = 0.0


class ImuPort(Port, Protocol):
    def read(self) -> ImuReading: ...


class ButtonPort(Port, Protocol):
    def is_pressed(self) -> bool: ...


class LedPort(Port, Protocol):
    def set(self, value: float) -> None: ...


class RgbLedPort(Port, Protocol):
    def set(self, rgb: tuple[float, float, float]) -> None: ...


class TonePort(Port, Protocol):
    def tone(self, hertz: float | None) -> None:
        """Play a tone; ``None`` is silence."""


class BatteryPort(Port, Protocol):
    def read(self) -> float:
        """Battery voltage in volts."""


class CameraPort(Port, Protocol):
    def read(self) -> npt.NDArray[np.uint8]:
        """The newest frame, HxWx3 BGR."""


class Backend(Protocol):
    """Makes ports for the parts of one kit. Closing it closes every port."""

    name: str
    kit: KitProfile

    def clock(self) -> float:
        """Seconds on this backend's clock (the sim clock for the simulator)."""

    def sleep(self, seconds: float) -> None:
        """Let ``seconds`` pass on this backend's clock (the simulator steps its world)."""

    def motor(self, side: str) -> MotorPort: ...
    def servo(self, name: str, spec: PartSpec) -> ServoPort: ...
    def distance(self, name: str, spec: PartSpec) -> DistancePort: ...
    def line(self, name: str, spec: PartSpec) -> LinePort: ...
    def encoders(self, name: str, spec: PartSpec) -> EncoderPort: ...
    def imu(self, name: str, spec: PartSpec) -> ImuPort: ...
    def button(self, name: str, spec: PartSpec) -> ButtonPort: ...
    def led(self, name: str, spec: PartSpec) -> LedPort: ...
    def rgb_led(self, name: str, spec: PartSpec) -> RgbLedPort: ...
    def buzzer(self, name: str, spec: PartSpec) -> TonePort: ...
    def battery(self, name: str, spec: PartSpec) -> BatteryPort: ...
    def camera(self, name: str, spec: CameraSpec) -> CameraPort: ...

    def stop_all(self) -> None:
        """Stop every motor now, by the fastest path the backend has."""

    def close(self) -> None: ...
