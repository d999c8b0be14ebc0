"""Things that move: :class:`Motor`, :class:`DifferentialDrive`, :class:`Servo`.

Motor values go from -1 (full backward) through 0 (stopped) to 1 (full
forward), like gpiozero::

    robot.drive.forward(0.5)        # both wheels at half power
    robot.drive.left(0.3)           # turn on the spot
    robot.drive.value = (0.4, 0.2)  # left, right
    robot.drive.stop()
"""

from __future__ import annotations

import math

from hardware.device import Controls, Device
from hardware.errors import BadValueError
from hardware.kit import DriveSpec, ServoSpec
from hardware.ports import MotorPort, ServoPort

__all__ = ["DifferentialDrive", "Motor", "Servo"]


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
    """One motor. ``value`` is -1..1; the kit's and the teacher's speed caps apply."""

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
                "estop", "robot is emergency-stopped: motor commands are ignored until release()"
            )
            v = 0.0
        v = max(-c.speed_cap, min(c.speed_cap, v))
        self._value = v
        if record:
            c.record(self.name, "command", round(v, 4))
        self._motor.set(-v if self._inverted else v)

    def forward(self, speed: float = 1.0) -> None:
        """Turn forward at ``speed`` (0..1)."""
        self.value = _check("speed", speed, 0, 1)

    def backward(self, speed: float = 1.0) -> None:
        """Turn backward at ``speed`` (0..1)."""
        self.value = -_check("speed", speed, 0, 1)

    def stop(self) -> None:
        self.value = 0.0

    @property
    def is_active(self) -> bool:
        return self._value != 0

    def _before_close(self) -> None:
        self._value = 0.0
        self._motor.set(0.0)


class DifferentialDrive(Device):
    """Two wheels, left and right. Owns (and closes) both motors.

    >>> robot.drive.forward(0.5)
    >>> robot.drive.arc(0.5, turn=0.3)    # curve to the left
    >>> robot.drive.move(0.2, 45)         # 0.2 m/s forward while turning 45 deg/s
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
        """(left, right) motor values, -1..1 each."""
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

    def forward(self, speed: float = 0.5) -> None:
        s = _check("speed", speed, 0, 1)
        self._set(s, s)

    def backward(self, speed: float = 0.5) -> None:
        s = _check("speed", speed, 0, 1)
        self._set(-s, -s)

    def left(self, speed: float = 0.5) -> None:
        """Turn left on the spot."""
        s = _check("speed", speed, 0, 1)
        self._set(-s, s)

    def right(self, speed: float = 0.5) -> None:
        """Turn right on the spot."""
        s = _check("speed", speed, 0, 1)
        self._set(s, -s)

    def arc(self, speed: float, turn: float) -> None:
        """Drive a curve: ``turn`` from -1 (hard right) through 0 (straight) to 1 (hard left)."""
        s = _check("speed", speed, -1, 1)
        t = _check("turn", turn, -1, 1)
        self._set(s * (1 - t) if t > 0 else s, s * (1 + t) if t < 0 else s)

    def move(self, speed: float, turn_rate: float = 0.0) -> None:
        """Drive at ``speed`` m/s while turning ``turn_rate`` degrees per second (left positive)."""
        omega = math.radians(float(turn_rate))
        half = self.spec.wheel_base / 2
        vmax = self.spec.max_wheel_speed
        left = (float(speed) - omega * half) / vmax
        right = (float(speed) + omega * half) / vmax
        biggest = max(abs(left), abs(right), 1.0)
        self._set(left / biggest, right / biggest)

    def stop(self) -> None:
        self._set(0.0, 0.0)

    @property
    def is_active(self) -> bool:
        return self.left_motor.is_active or self.right_motor.is_active

    def _before_close(self) -> None:
        self.left_motor.close()
        self.right_motor.close()


class Servo(Device):
    """A hobby servo. ``angle`` in degrees within the kit's range; ``value`` -1..1."""

    def __init__(
        self, name: str, port: ServoPort, spec: ServoSpec, controls: Controls | None = None
    ) -> None:
        super().__init__(name, port, controls)
        self._servo = port
        self.spec = spec
        self._angle: float | None = None

    @property
    def min_angle(self) -> float:
        return self.spec.min_angle

    @property
    def max_angle(self) -> float:
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
        self.angle = self.spec.min_angle

    def mid(self) -> None:
        self.angle = (self.spec.min_angle + self.spec.max_angle) / 2

    def max(self) -> None:
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
