"""Things that sense. Readings are properties in SI units::

robot.distance.distance      # metres to the nearest thing ahead
robot.line.values            # reflectance of each line sensor, 0 (black) .. 1 (white)
robot.line.on_line           # [False, True, False]
robot.encoders.distance      # metres each wheel has rolled
robot.imu.heading            # degrees
robot.button.is_pressed
robot.battery.percent
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from hardware.device import Controls, Device
from hardware.errors import BadValueError
from hardware.kit import BatterySpec, EncodersSpec, LineSensorsSpec, UltrasonicSpec
from hardware.ports import (
    BatteryPort,
    ButtonPort,
    DistancePort,
    EncoderPort,
    ImuPort,
    ImuReading,
    LinePort,
)

__all__ = ["IMU", "Battery", "Button", "DistanceSensor", "Encoders", "LineSensors"]


class DistanceSensor(Device):
    """An ultrasonic range finder."""

    def __init__(
        self, name: str, port: DistancePort, spec: UltrasonicSpec, controls: Controls | None = None
    ) -> None:
        super().__init__(name, port, controls)
        self._sensor = port
        self.max_distance = spec.max_distance

    @property
    def distance(self) -> float:
        """Metres to the nearest object, at most ``max_distance`` (nothing in range reads as max)."""
        self._check_open()
        d = self._sensor.read()
        d = (
            self.max_distance
            if math.isinf(d) or math.isnan(d)
            else min(max(d, 0.0), self.max_distance)
        )
        self._controls.record(self.name, "reading", round(d, 4))
        return d

    @property
    def value(self) -> float:
        """``distance`` as a fraction of ``max_distance`` (0..1), like gpiozero."""
        return self.distance / self.max_distance


class LineSensors(Device):
    """A row of line sensors, left to right."""

    def __init__(
        self, name: str, port: LinePort, spec: LineSensorsSpec, controls: Controls | None = None
    ) -> None:
        super().__init__(name, port, controls)
        self._sensor = port
        self.spec = spec
        self.threshold = spec.threshold

    def __len__(self) -> int:
        return self.spec.count

    @property
    def values(self) -> npt.NDArray[np.float64]:
        """Reflectance of each sensor, left to right: 0 is black, 1 is white."""
        self._check_open()
        v = np.clip(self._sensor.read(), 0.0, 1.0)
        self._controls.record(self.name, "reading", tuple(round(float(x), 3) for x in v))
        return v

    @property
    def on_line(self) -> list[bool]:
        """``True`` for each sensor that sees the (dark) line."""
        return [bool(x < self.threshold) for x in self.values]

    @property
    def position(self) -> float | None:
        """Where the line is under the robot: -1 (far left) .. 1 (far right), ``None`` if lost."""
        darkness = 1.0 - self.values
        darkness[darkness < 1.0 - self.threshold] = 0.0
        total = float(darkness.sum())
        if total == 0.0:
            return None
        n = len(darkness)
        if n == 1:
            return 0.0
        where = np.linspace(-1.0, 1.0, n)
        return float((where * darkness).sum() / total)


class Encoders(Device):
    """Wheel encoders: ticks, metres and metres per second for (left, right)."""

    def __init__(
        self,
        name: str,
        port: EncoderPort,
        spec: EncodersSpec,
        wheel_radius: float,
        controls: Controls | None = None,
    ) -> None:
        super().__init__(name, port, controls)
        self._sensor = port
        self.ticks_per_rev = spec.ticks_per_rev
        self.metres_per_tick = 2 * math.pi * wheel_radius / spec.ticks_per_rev
        self._zero = port.read()
        self._last: tuple[float, tuple[int, int]] | None = None

    @property
    def ticks(self) -> tuple[int, int]:
        self._check_open()
        raw = self._sensor.read()
        t = (raw[0] - self._zero[0], raw[1] - self._zero[1])
        self._controls.record(self.name, "reading", t)
        return t

    @property
    def distance(self) -> tuple[float, float]:
        """Metres each wheel has rolled since the start (or :meth:`reset`)."""
        left, right = self.ticks
        return (left * self.metres_per_tick, right * self.metres_per_tick)

    @property
    def speed(self) -> tuple[float, float]:
        """Metres per second of each wheel since the previous ``speed`` reading."""
        now = self._controls.clock()
        ticks = self.ticks
        last, self._last = self._last, (now, ticks)
        if last is None or now <= last[0]:
            return (0.0, 0.0)
        dt = now - last[0]
        return (
            (ticks[0] - last[1][0]) * self.metres_per_tick / dt,
            (ticks[1] - last[1][1]) * self.metres_per_tick / dt,
        )

    def reset(self) -> None:
        self._check_open()
        self._zero = self._sensor.read()
        self._last = None


class IMU(Device):
    """Heading and turn rates from the gyro/compass."""

    def __init__(self, name: str, port: ImuPort, controls: Controls | None = None) -> None:
        super().__init__(name, port, controls)
        self._sensor = port
        self._offset = 0.0

    def _read(self) -> ImuReading:
        self._check_open()
        return self._sensor.read()

    @property
    def heading(self) -> float:
        """Degrees, 0..360, counter-clockwise from where :meth:`reset_heading` was called."""
        h = (self._read().heading - self._offset) % 360.0
        self._controls.record(self.name, "reading", round(h, 2))
        return h

    @property
    def yaw_rate(self) -> float:
        """Degrees per second, turning left is positive."""
        return self._read().yaw_rate

    @property
    def rates(self) -> tuple[float, float, float]:
        """(roll, pitch, yaw) rates in degrees per second."""
        r = self._read()
        return (r.roll_rate, r.pitch_rate, r.yaw_rate)

    def reset_heading(self) -> None:
        self._offset = self._read().heading


class Button(Device):
    """A push button."""

    def __init__(self, name: str, port: ButtonPort, controls: Controls | None = None) -> None:
        super().__init__(name, port, controls)
        self._button = port

    @property
    def is_pressed(self) -> bool:
        self._check_open()
        pressed = self._button.is_pressed()
        self._controls.record(self.name, "reading", pressed)
        return pressed

    @property
    def value(self) -> int:
        return int(self.is_pressed)

    def wait_for_press(
        self, timeout: float | None = None, poll: Callable[[float], None] | None = None
    ) -> bool:
        """Wait until pressed; ``False`` if ``timeout`` seconds passed first."""
        return self._wait(True, timeout, poll)

    def wait_for_release(
        self, timeout: float | None = None, poll: Callable[[float], None] | None = None
    ) -> bool:
        return self._wait(False, timeout, poll)

    def _wait(
        self, state: bool, timeout: float | None, poll: Callable[[float], None] | None
    ) -> bool:
        import time  # noqa: PLC0415 - the student's time module (the sim runner may replace it)

        if timeout is not None and timeout < 0:
            raise BadValueError("timeout must be 0 or more seconds")
        pause = poll or time.sleep
        clock = self._controls.clock
        deadline = None if timeout is None else clock() + timeout
        while self.is_pressed != state:
            if deadline is not None and clock() >= deadline:
                return False
            pause(0.01)
        return True


class Battery(Device):
    """Battery voltage and an estimate of the charge left."""

    def __init__(
        self, name: str, port: BatteryPort, spec: BatterySpec, controls: Controls | None = None
    ) -> None:
        super().__init__(name, port, controls)
        self._sensor = port
        self.spec = spec

    @property
    def voltage(self) -> float:
        self._check_open()
        v = self._sensor.read()
        self._controls.record(self.name, "reading", round(v, 3))
        return v

    @property
    def percent(self) -> float:
        """0..100, linear between the kit's empty and full voltages."""
        s = self.spec
        return max(
            0.0,
            min(100.0, (self.voltage - s.empty_voltage) / (s.full_voltage - s.empty_voltage) * 100),
        )

    @property
    def low(self) -> bool:
        """``True`` below 15 %: time to charge."""
        return self.percent < 15.0
