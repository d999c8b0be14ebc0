"""Things that sense. Readings are properties in SI units; reading one never changes anything::

    robot.distance.metres        # metres to the nearest thing ahead (robot.distance.cm: centimetres)
    robot.line.values            # reflectance of each line sensor, 0 (black) .. 1 (white): (1.0, 0.1, 0.9)
    robot.line.on_line           # (False, True, False)
    robot.encoders.distance      # metres each wheel has rolled: (left, right)
    robot.imu.heading            # degrees, 0 = the way the robot started, counter-clockwise
    robot.button.is_pressed
    robot.battery.percent

Events, in gpiozero's style::

    robot.button.when_pressed = robot.buzzer.beep
    robot.distance.when_closer_than(0.2, robot.drive.stop)
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable

import numpy as np

from hardware.device import Controls, Device
from hardware.errors import BadValueError, SensorError
from hardware.events import Action
from hardware.kit import BatterySpec, EncodersSpec, LineSensorsSpec, UltrasonicSpec
from hardware.motors import _check
from hardware.ports import (
    BatteryPort,
    ButtonPort,
    DistancePort,
    EncoderPort,
    ImuPort,
    ImuReading,
    LinePort,
    ReadingTiming,
    TimedPort,
)
from rcbase.deprecation import renamed

__all__ = ["IMU", "Battery", "Button", "DistanceSensor", "Encoders", "LineSensors", "Sensor"]


class Sensor(Device):
    """What every sensor tells about its readings: how often they come, how old the newest is::

    robot.distance.rate_hz     # 550.0: new readings a second (None: each read measures anew)
    robot.distance.age         # 0.0012: seconds since the newest reading was taken
    """

    @property
    def rate_hz(self) -> float | None:
        """New readings a second: how often the microcontroller reports this sensor.

        ``None`` where each reading is taken when you ask (the simulator, parts on
        the Pi's own pins); 0.0 when its reports stopped.
        """
        return self._timing().rate_hz

    @property
    def age(self) -> float:
        """Seconds since the newest reading was taken (0.0 where each is taken when you ask)."""
        return self._timing().age

    def _timing(self) -> ReadingTiming:
        self._check_open()
        port = self._port
        return port.timing() if isinstance(port, TimedPort) else ReadingTiming(None, 0.0)


class DistanceSensor(Sensor):
    """An ultrasonic range finder: how far the nearest thing ahead is.

    ::

        if robot.distance.metres < 0.2:
            robot.drive.stop()
        print(robot.distance.cm, "cm")
        robot.distance.when_closer_than(0.2, robot.drive.stop)
    """

    def __init__(
        self, name: str, port: DistancePort, spec: UltrasonicSpec, controls: Controls | None = None
    ) -> None:
        super().__init__(name, port, controls)
        self._sensor = port
        self.max_distance = spec.max_distance

    def _measure(self) -> float:
        self._check_open()
        d = self._sensor.read()
        return (
            self.max_distance
            if math.isinf(d) or math.isnan(d)
            else min(max(d, 0.0), self.max_distance)
        )

    @property
    def metres(self) -> float:
        """Metres to the nearest thing, at most ``max_distance`` (nothing in range reads as max)."""
        d = self._measure()
        self._controls.record(self.name, "reading", round(d, 4))
        return d

    @property
    def cm(self) -> float:
        """Centimetres to the nearest thing (``metres`` times 100)."""
        return self.metres * 100

    @property
    def distance(self) -> float:
        """Old name of :attr:`metres`."""
        renamed(f"robot.{self.name}.distance", f"robot.{self.name}.metres")
        return self.metres

    @property
    def value(self) -> float:
        """``metres`` as a fraction of ``max_distance`` (0..1), like gpiozero."""
        return self.metres / self.max_distance

    def when_closer_than(self, metres: float, action: Action | None) -> None:
        """Run ``action()`` each time something comes closer than ``metres``.

        ``None`` stops it. ::

            robot.distance.when_closer_than(0.2, robot.drive.stop)
        """
        self._when("closer", metres, action, lambda d, limit: d < limit)

    def when_further_than(self, metres: float, action: Action | None) -> None:
        """Run ``action()`` each time the way ahead gets clear beyond ``metres``. ``None`` stops it."""
        self._when("further", metres, action, lambda d, limit: d > limit)

    def _when(
        self,
        what: str,
        metres: float,
        action: Action | None,
        inside: Callable[[float, float], bool],
    ) -> None:
        if action is None:
            self._watch(what, None)
            return
        limit = _check("metres", metres, 0, self.max_distance, " m")
        if not callable(action):
            raise BadValueError(f"when_{what}_than needs a function to run, not {action!r}")
        was = inside(self._measure(), limit)

        def check() -> None:
            nonlocal was
            now = inside(self._measure(), limit)
            if now and not was:
                action()
            was = now

        self._watch(what, check)


class LineSensors(Sensor):
    """A row of line sensors, left to right.

    ::

        robot.line.values     # (1.0, 0.1, 0.9): 0 is black, 1 is white
        robot.line.on_line    # (False, True, False)
        robot.line.position   # -1 (far left) .. 1 (far right), None when lost
    """

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
    def values(self) -> tuple[float, ...]:
        """Reflectance of each sensor, left to right: 0 is black, 1 is white."""
        self._check_open()
        v = tuple(float(x) for x in np.clip(self._sensor.read(), 0.0, 1.0))
        self._controls.record(self.name, "reading", tuple(round(x, 3) for x in v))
        return v

    @property
    def on_line(self) -> tuple[bool, ...]:
        """``True`` for each sensor that sees the (dark) line, left to right."""
        return tuple(x < self.threshold for x in self.values)

    @property
    def position(self) -> float | None:
        """Where the line is under the robot: -1 (far left) .. 1 (far right), ``None`` if lost."""
        darkness = 1.0 - np.asarray(self.values, dtype=np.float64)
        darkness[darkness < 1.0 - self.threshold] = 0.0
        total = float(darkness.sum())
        if total == 0.0:
            return None
        n = len(darkness)
        if n == 1:
            return 0.0
        where = np.linspace(-1.0, 1.0, n)
        return float((where * darkness).sum() / total)


class Encoders(Sensor):
    """Wheel encoders: ticks, metres and metres per second for (left, right).

    ::

        left, right = robot.encoders.distance   # metres since the start
        left, right = robot.encoders.speed      # metres per second
        robot.encoders.reset()                  # start counting from 0 again
    """

    SPEED_WINDOW = 0.1
    """``speed`` is measured over about this many seconds."""

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
        # (time, raw ticks) of recent readings: the speed is the slope over the window
        self._seen: deque[tuple[float, tuple[int, int]]] = deque(maxlen=64)
        self._seen.append((self._controls.clock(), self._zero))

    def _raw(self) -> tuple[int, int]:
        self._check_open()
        raw = self._sensor.read()
        now = self._controls.clock()
        seen = self._seen
        while len(seen) > 1 and now - seen[1][0] >= self.SPEED_WINDOW:
            seen.popleft()
        seen.append((now, raw))
        return raw

    @property
    def ticks(self) -> tuple[int, int]:
        """Ticks each wheel has counted since the start (or :meth:`reset`)."""
        raw = self._raw()
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
        """Metres per second of each wheel, over about the last 0.1 s.

        Reading it does not reset it: read it as often as you like.
        """
        raw = self._raw()
        now = self._seen[-1][0]
        then, old = self._seen[0]
        if now <= then:
            return (0.0, 0.0)
        dt = now - then
        return (
            (raw[0] - old[0]) * self.metres_per_tick / dt,
            (raw[1] - old[1]) * self.metres_per_tick / dt,
        )

    def reset(self) -> None:
        """Count from 0 again."""
        self._check_open()
        self._zero = self._sensor.read()


class IMU(Sensor):
    """Which way the robot faces, and how fast it turns (the gyro/compass).

    Angles count like in maths: turning left (counter-clockwise, seen from
    above) makes them grow, as in ``drive.arc`` and ``drive.set_speed``.

    ::

        robot.imu.heading        # 0 = the way the robot faced at the start; 90 = a quarter turn left
        robot.imu.yaw_rate       # degrees per second, turning left is positive
        robot.imu.reset_heading()
    """

    def __init__(self, name: str, port: ImuPort, controls: Controls | None = None) -> None:
        super().__init__(name, port, controls)
        self._sensor = port
        try:  # 0 is the way the robot faces now
            self._offset = port.read().heading
        except SensorError:  # no reading yet (a board still starting): the sensor's own 0
            self._offset = 0.0

    def _read(self) -> ImuReading:
        self._check_open()
        return self._sensor.read()

    @property
    def heading(self) -> float:
        """Degrees, 0..360, counter-clockwise from where the robot started (or :meth:`reset_heading`)."""
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
        """Make the way the robot faces now heading 0."""
        self._offset = self._read().heading


class Button(Sensor):
    """A push button.

    ::

        robot.button.wait_for_press()
        if robot.button.is_pressed:
            ...
        robot.button.when_pressed = robot.led.on     # runs each time it is pressed
        robot.button.when_released = robot.led.off
    """

    def __init__(self, name: str, port: ButtonPort, controls: Controls | None = None) -> None:
        super().__init__(name, port, controls)
        self._button = port
        self._when_pressed: Action | None = None
        self._when_released: Action | None = None

    @property
    def is_pressed(self) -> bool:
        """``True`` while the button is held down."""
        self._check_open()
        pressed = self._button.is_pressed()
        self._controls.record(self.name, "reading", pressed)
        return pressed

    @property
    def value(self) -> int:
        """1 while pressed, else 0."""
        return int(self.is_pressed)

    @property
    def when_pressed(self) -> Action | None:
        """A function run each time the button is pressed (``None``: nothing)."""
        return self._when_pressed

    @when_pressed.setter
    def when_pressed(self, action: Action | None) -> None:
        self._when_pressed = self._action("when_pressed", action)
        self._rewatch()

    @property
    def when_released(self) -> Action | None:
        """A function run each time the button is let go (``None``: nothing)."""
        return self._when_released

    @when_released.setter
    def when_released(self, action: Action | None) -> None:
        self._when_released = self._action("when_released", action)
        self._rewatch()

    def _action(self, what: str, action: Action | None) -> Action | None:
        if action is not None and not callable(action):
            raise BadValueError(
                f"{self.name}.{what} needs a function (without brackets: when_pressed = beep), "
                f"not {action!r}"
            )
        return action

    def _rewatch(self) -> None:
        if self._when_pressed is None and self._when_released is None:
            self._watch("press", None)
            return
        self._check_open()
        was = self._button.is_pressed()

        def check() -> None:
            nonlocal was
            now = self._button.is_pressed()
            action = (self._when_pressed if now else self._when_released) if now != was else None
            was = now
            if action is not None:
                action()

        self._watch("press", check)

    def wait_for_press(
        self, timeout: float | None = None, poll: Callable[[float], None] | None = None
    ) -> bool:
        """Wait until pressed; ``False`` if ``timeout`` seconds passed first."""
        return self._wait(True, timeout, poll)

    def wait_for_release(
        self, timeout: float | None = None, poll: Callable[[float], None] | None = None
    ) -> bool:
        """Wait until let go; ``False`` if ``timeout`` seconds passed first."""
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


class Battery(Sensor):
    """Battery voltage and an estimate of the charge left.

    ::

        print(robot.battery.voltage, "V", robot.battery.percent, "%")
        if robot.battery.low:
            robot.buzzer.beep()
    """

    def __init__(
        self, name: str, port: BatteryPort, spec: BatterySpec, controls: Controls | None = None
    ) -> None:
        super().__init__(name, port, controls)
        self._sensor = port
        self.spec = spec

    @property
    def voltage(self) -> float:
        """The battery's voltage in volts."""
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
