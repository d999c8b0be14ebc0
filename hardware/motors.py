"""Things that move: :class:`Motor`, :class:`DifferentialDrive`, :class:`Servo`.

Two ways to say how fast, with two different names so they never mix up:

* **power**, from -1 (full backward) through 0 (stopped) to 1 (full
  forward), like gpiozero. ``forward``, ``backward``, ``left``, ``right``
  and ``arc`` take a power (``forward(0.5)`` is half power, the default
  everywhere);
* **speed** in metres per second and degrees per second:
  :meth:`DifferentialDrive.set_speed`. It uses the kit's top wheel speed to
  work out the power.

Both refuse a value out of range with a message that says the range; they
never quietly change it. ::

    robot.drive.forward(0.5)          # both wheels at half power
    robot.drive.left(0.3)             # turn on the spot
    robot.drive.value = (0.4, 0.2)    # left, right
    robot.drive.set_speed(0.2, 45)    # 0.2 m/s forward, turning left 45 degrees a second
    robot.drive.stop()
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from hardware.device import Controls, Device
from hardware.errors import BadValueError
from hardware.kit import DriveSpec, ServoSpec
from hardware.ports import MotorPort, ServoPort
from rcbase.deprecation import renamed

__all__ = ["DEFAULT_POWER", "DifferentialDrive", "Motor", "Servo"]

DEFAULT_POWER = 0.5
"""The power of ``forward()``, ``backward()``, ``left()`` and ``right()`` without a number."""


P = ParamSpec("P")
R = TypeVar("R")


def _power_keyword(method: Callable[P, R]) -> Callable[P, R]:
    """Let the old keyword ``speed=`` still mean ``power=``, with a warning."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        if "speed" in kwargs:
            renamed(f"{method.__name__}(speed=...)", f"{method.__name__}(power=...)")
            kwargs["power"] = kwargs.pop("speed")
        return method(*args, **kwargs)

    return wrapper


def _check(name: str, value: float, low: float, high: float, unit: str = "") -> float:
    try:
        v = float(value)
    except (TypeError, ValueError) as exc:
        raise BadValueError(f"{name} needs a number, not {value!r}") from exc
    if math.isnan(v) or not low <= v <= high:
        raise BadValueError(
            f"{name} must be between {low:g}{unit} and {high:g}{unit}, not {value!r}"
        )
    return v


class Motor(Device):
    """One motor. ``value`` is its power, -1..1; the kit's and the teacher's speed caps apply.

    ::

        robot.left_motor.forward(0.5)   # half power forward
        robot.left_motor.value = -0.3   # a little backward
        robot.left_motor.stop()
    """

    def __init__(
        self,
        name: str,
        port: MotorPort,
        *,
        inverted: bool = False,
        controls: Controls | None = None,
    ) -> None:
        super().__init__(name, port, controls)
        self._motor = port
        self._inverted = inverted
        self._value = 0.0
        port.set(0.0)

    @property
    def value(self) -> float:
        """The power asked of the motor after caps: -1..1."""
        return self._value

    @value.setter
    def value(self, value: float) -> None:
        self._set(_check(f"{self.name} value", value, -1, 1))

    def _set(self, v: float, *, record: bool = True) -> None:
        self._check_open()
        c = self._controls
        if c.estopped and v != 0:
            c.ignored_while_estopped += 1
            c.warn_once(
                "estop",
                "robot is emergency-stopped: motor commands are ignored until clear_stop()",
            )
            v = 0.0
        v = max(-c.speed_cap, min(c.speed_cap, v))
        self._value = v
        if record:
            c.record(self.name, "command", round(v, 4))
        self._motor.set(-v if self._inverted else v)

    @_power_keyword
    def forward(self, power: float = DEFAULT_POWER) -> None:
        """Turn forward at ``power`` (0..1; half power if you give none)."""
        self.value = _check("power", power, 0, 1)

    @_power_keyword
    def backward(self, power: float = DEFAULT_POWER) -> None:
        """Turn backward at ``power`` (0..1; half power if you give none)."""
        self.value = -_check("power", power, 0, 1)

    def stop(self) -> None:
        """Stop the motor."""
        self.value = 0.0

    @property
    def is_active(self) -> bool:
        """``True`` while the motor turns."""
        return self._value != 0

    def _before_close(self) -> None:
        self._value = 0.0
        self._motor.set(0.0)


class DifferentialDrive(Device):
    """Two wheels, left and right. Owns (and closes) both motors.

    Power (-1..1)::

        robot.drive.forward(0.5)         # straight on at half power
        robot.drive.left(0.3)            # spin left on the spot
        robot.drive.arc(0.5, turn=0.3)   # curve to the left

    Speed (metres and degrees per second)::

        robot.drive.set_speed(0.2, 45)   # 0.2 m/s forward, turning left 45 degrees a second
        robot.drive.stop()
    """

    def __init__(
        self, left: Motor, right: Motor, spec: DriveSpec, controls: Controls | None = None
    ) -> None:
        super().__init__("drive", None, controls)
        self.left_motor = left
        self.right_motor = right
        self.spec = spec

    @property
    def value(self) -> tuple[float, float]:
        """(left, right) motor powers, -1..1 each."""
        return (self.left_motor.value, self.right_motor.value)

    @value.setter
    def value(self, value: tuple[float, float]) -> None:
        try:
            left, right = value
        except (TypeError, ValueError) as exc:
            raise BadValueError(
                f"drive.value needs two numbers (left, right), not {value!r}"
            ) from exc
        self._set(_check("left value", left, -1, 1), _check("right value", right, -1, 1))

    def _set(self, left: float, right: float) -> None:
        self._check_open()
        cap = self._controls.speed_cap
        biggest = max(abs(left), abs(right))
        if biggest > cap:  # scale both so the curve stays the same
            left, right = left * cap / biggest, right * cap / biggest
        self._controls.record("drive", "command", (round(left, 4), round(right, 4)))
        self.left_motor._set(left, record=False)
        self.right_motor._set(right, record=False)

    @_power_keyword
    def forward(self, power: float = DEFAULT_POWER) -> None:
        """Drive straight on at ``power`` (0..1; half power if you give none)."""
        p = _check("power", power, 0, 1)
        self._set(p, p)

    @_power_keyword
    def backward(self, power: float = DEFAULT_POWER) -> None:
        """Drive straight back at ``power`` (0..1; half power if you give none)."""
        p = _check("power", power, 0, 1)
        self._set(-p, -p)

    @_power_keyword
    def left(self, power: float = DEFAULT_POWER) -> None:
        """Spin left on the spot at ``power`` (0..1)."""
        p = _check("power", power, 0, 1)
        self._set(-p, p)

    @_power_keyword
    def right(self, power: float = DEFAULT_POWER) -> None:
        """Spin right on the spot at ``power`` (0..1)."""
        p = _check("power", power, 0, 1)
        self._set(p, -p)

    @_power_keyword
    def arc(self, power: float, turn: float) -> None:
        """Drive a curve at ``power`` (-1..1).

        ``turn`` goes from -1 (hard right) through 0 (straight) to 1 (hard
        left): the inner wheel slows down by that much.
        """
        p = _check("power", power, -1, 1)
        t = _check("turn", turn, -1, 1)
        self._set(p * (1 - t) if t > 0 else p, p * (1 + t) if t < 0 else p)

    @property
    def top_speed(self) -> float:
        """The fastest a wheel goes, in metres per second (at power 1)."""
        return self.spec.max_wheel_speed

    def set_speed(self, metres_per_s: float, degrees_per_s: float = 0.0) -> None:
        """Drive at ``metres_per_s`` while turning ``degrees_per_s`` (left is positive).

        ::

            robot.drive.set_speed(0.2)        # straight on at 0.2 m/s
            robot.drive.set_speed(0, -90)     # spin right, a quarter turn a second

        A speed one of the wheels cannot reach is refused (see
        :attr:`top_speed`); nothing is scaled down behind your back.
        """
        speed = _check("metres_per_s", metres_per_s, -math.inf, math.inf, " m/s")
        rate = _check("degrees_per_s", degrees_per_s, -math.inf, math.inf, " °/s")
        left, right = self._wheel_speeds(speed, rate)
        top = self.top_speed
        if max(abs(left), abs(right)) > top + 1e-9:
            raise BadValueError(
                f"set_speed({metres_per_s:g}, {degrees_per_s:g}) needs a wheel to go "
                f"{max(abs(left), abs(right)):.2f} m/s, but this robot's wheels go at most "
                f"{top:g} m/s: go slower or turn less / "
                f"set_speed({metres_per_s:g}, {degrees_per_s:g}) 需要轮子跑 "
                f"{max(abs(left), abs(right)):.2f} 米/秒，但这台机器人的轮子最快 {top:g} 米/秒："
                "请开慢一点或转小一点"
            )
        self._set(left / top, right / top)

    def _wheel_speeds(self, speed: float, rate: float) -> tuple[float, float]:
        omega = math.radians(rate)
        half = self.spec.wheel_base / 2
        return (speed - omega * half, speed + omega * half)

    def move(self, speed: float, turn_rate: float = 0.0) -> None:
        """Old name of :meth:`set_speed`; it scaled a speed out of range down."""
        renamed(
            "robot.drive.move(speed, turn_rate)",
            "robot.drive.set_speed(metres_per_s, degrees_per_s)",
        )
        left, right = self._wheel_speeds(float(speed), float(turn_rate))
        vmax = self.top_speed
        left, right = left / vmax, right / vmax
        biggest = max(abs(left), abs(right), 1.0)
        self._set(left / biggest, right / biggest)

    def stop(self) -> None:
        """Stop both wheels."""
        self._set(0.0, 0.0)

    @property
    def is_active(self) -> bool:
        """``True`` while a wheel turns."""
        return self.left_motor.is_active or self.right_motor.is_active

    def _before_close(self) -> None:
        self.left_motor.close()
        self.right_motor.close()


class Servo(Device):
    """A hobby servo. ``angle`` in degrees within the kit's range; ``value`` -1..1.

    ::

        from hardware import Robot, Servo

        with Robot() as robot:
            pan = robot.part("pan", Servo)
            pan.angle = 30     # degrees
            pan.mid()
    """

    def __init__(
        self, name: str, port: ServoPort, spec: ServoSpec, controls: Controls | None = None
    ) -> None:
        super().__init__(name, port, controls)
        self._servo = port
        self.spec = spec
        self._angle: float | None = None

    @property
    def min_angle(self) -> float:
        """The smallest angle this servo may turn to, in degrees."""
        return self.spec.min_angle

    @property
    def max_angle(self) -> float:
        """The largest angle this servo may turn to, in degrees."""
        return self.spec.max_angle

    @property
    def angle(self) -> float | None:
        """Degrees; ``None`` while detached (limp)."""
        return self._angle

    @angle.setter
    def angle(self, degrees: float | None) -> None:
        self._check_open()
        if degrees is None:
            self.detach()
            return
        d = _check(f"{self.name} angle", degrees, self.spec.min_angle, self.spec.max_angle, "°")
        if self._controls.estopped:
            self._controls.ignored_while_estopped += 1
            return
        self._move(d)

    def _move(self, degrees: float) -> None:
        self._angle = degrees
        self._controls.record(self.name, "command", round(degrees, 2))
        self._servo.set_angle(degrees)

    @property
    def value(self) -> float | None:
        """The angle as -1 (``min_angle``) .. 1 (``max_angle``); ``None`` while limp."""
        if self._angle is None:
            return None
        span = self.spec.max_angle - self.spec.min_angle
        return (self._angle - self.spec.min_angle) / span * 2 - 1

    @value.setter
    def value(self, value: float | None) -> None:
        if value is None:
            self.detach()
            return
        v = _check(f"{self.name} value", value, -1, 1)
        span = self.spec.max_angle - self.spec.min_angle
        self.angle = self.spec.min_angle + (v + 1) / 2 * span

    def min(self) -> None:
        """Turn to ``min_angle``."""
        self.angle = self.spec.min_angle

    def mid(self) -> None:
        """Turn to the middle of the range."""
        self.angle = (self.spec.min_angle + self.spec.max_angle) / 2

    def max(self) -> None:
        """Turn to ``max_angle``."""
        self.angle = self.spec.max_angle

    def park(self) -> None:
        """Go to the kit's safe angle (also done on stop, e-stop and close)."""
        self._check_open()
        self._move(self.spec.safe_angle)

    def detach(self) -> None:
        """Stop driving the servo; it goes limp."""
        self._check_open()
        self._angle = None
        self._controls.record(self.name, "command", None)
        self._servo.set_angle(None)

    def _before_close(self) -> None:
        self._servo.set_angle(self.spec.safe_angle)
