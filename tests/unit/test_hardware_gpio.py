"""The Robot API on the gpio backend, against gpiozero's MockFactory pins."""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest
from gpiozero.pins.mock import MockFactory, MockPWMPin, MockTriggerPin

from hardware import (
    BackendError,
    BadValueError,
    DeviceClosedError,
    HardwareError,
    MissingPartError,
    Robot,
    load_kit,
)

# generic-l298n wiring (BCM): see hardware/kits/generic-l298n.yaml
L_FWD, L_BACK, L_EN = 17, 27, 12
R_FWD, R_BACK, R_EN = 22, 23, 13
TRIG, ECHO = 16, 20
LINE = (5, 6, 26)
ENC_L, ENC_R = 19, 21
BUTTON, LED_PIN, BUZZER = 4, 24, 25


class PWMTriggerPin(MockTriggerPin, MockPWMPin):
    """gpiozero's mock trigger pin, on a factory whose pins all do PWM."""


@pytest.fixture
def factory() -> MockFactory:
    f = MockFactory(pin_class=MockPWMPin)
    echo = f.pin(ECHO)
    # the echo stays high 2 ms: sound went 0.686 m there and back, an object ~0.34 m away
    f.pin(TRIG, pin_class=PWMTriggerPin, echo_pin=echo, echo_time=0.002)
    return f


@pytest.fixture
def robot(factory: MockFactory) -> Iterator[Robot]:
    kit = load_kit("generic-l298n")
    kit = kit.model_copy(update={"parts": {k: v for k, v in kit.parts.items() if k != "camera"}})
    with Robot(kit, backend="gpio", pin_factory=factory, record=True) as r:
        yield r


def pins(factory: MockFactory, *numbers: int) -> tuple[float, ...]:
    return tuple(float(factory.pin(n).state) for n in numbers)


def wheels(factory: MockFactory) -> tuple[float, float]:
    """Signed power at the motor driver: forward pin minus backward pin (enable high)."""
    for enable in (L_EN, R_EN):
        assert factory.pin(enable).state in (0, 1)
    return (
        round(factory.pin(L_FWD).state - factory.pin(L_BACK).state, 6),
        round(factory.pin(R_FWD).state - factory.pin(R_BACK).state, 6),
    )


def test_forward_sets_direction_and_enable_pins(robot: Robot, factory: MockFactory) -> None:
    robot.drive.forward(0.5)
    # gpiozero holds enable high and drives PWM on the direction pin
    assert pins(factory, L_FWD, L_BACK, L_EN) == (0.5, 0, 1)
    assert pins(factory, R_FWD, R_BACK, R_EN) == (0.5, 0, 1)
    robot.drive.left(0.3)
    assert pins(factory, L_FWD, L_BACK) == (0, 0.3)
    assert wheels(factory) == (-0.3, 0.3)
    robot.drive.stop()
    assert wheels(factory) == (0, 0)
    assert robot.drive.value == (0, 0)


def test_arc_and_value(robot: Robot) -> None:
    robot.drive.arc(0.6, turn=0.5)
    assert robot.drive.value == pytest.approx((0.3, 0.6))
    robot.drive.arc(0.6, turn=-1)
    assert robot.drive.value == pytest.approx((0.6, 0.0))
    robot.drive.value = (-0.2, 0.7)
    assert robot.left_motor.value == -0.2 and robot.right_motor.value == 0.7


def test_set_speed_in_metres_and_degrees_per_second(robot: Robot) -> None:
    spec = robot.kit.drive
    robot.drive.set_speed(0.3)  # straight: 0.3 m/s of 0.6 m/s top speed
    assert robot.drive.value == pytest.approx((0.5, 0.5))
    robot.drive.set_speed(0.0, 90)  # spin left at 90 deg/s
    wheel = math.radians(90) * spec.wheel_base / 2 / spec.max_wheel_speed
    assert robot.drive.value == pytest.approx((-wheel, wheel))


@pytest.mark.parametrize(("speed", "turn"), [(0.7, 0), (-0.7, 0), (0.6, 10), (0, 600)])
def test_set_speed_refuses_what_the_wheels_cannot_do(
    robot: Robot, speed: float, turn: float
) -> None:
    robot.drive.forward(0.2)
    with pytest.raises(BadValueError, match=r"at most 0.6 m/s.*最快 0.6 米/秒"):
        robot.drive.set_speed(speed, turn)
    assert robot.drive.value == (0.2, 0.2)  # nothing changed, nothing was scaled down


@pytest.mark.parametrize("bad", [float("nan"), "fast", None])
def test_set_speed_needs_numbers(robot: Robot, bad: object) -> None:
    with pytest.raises(BadValueError, match=r"needs a number|between"):
        robot.drive.set_speed(bad)  # type: ignore[arg-type]


def test_power_defaults_agree_everywhere(robot: Robot) -> None:
    robot.drive.forward()
    assert robot.drive.value == (0.5, 0.5)
    robot.drive.stop()
    robot.left_motor.forward()
    assert robot.left_motor.value == 0.5
    robot.left_motor.backward()
    assert robot.left_motor.value == -0.5
    robot.drive.left()
    assert robot.drive.value == (-0.5, 0.5)
    robot.drive.right()
    assert robot.drive.value == (0.5, -0.5)
    robot.drive.backward()
    assert robot.drive.value == (-0.5, -0.5)


@pytest.mark.parametrize("bad", [1.5, -2, float("nan"), "fast", None])
def test_bad_motor_values_are_refused_with_a_clear_error(robot: Robot, bad: object) -> None:
    with pytest.raises(BadValueError, match=r"between -1 and 1|needs a number"):
        robot.left_motor.value = bad  # type: ignore[assignment]
    with pytest.raises(ValueError):  # also a standard error
        robot.drive.forward(bad)  # type: ignore[arg-type]
    assert robot.drive.value == (0, 0)


def test_drive_value_needs_two_numbers(robot: Robot) -> None:
    with pytest.raises(BadValueError, match="two numbers"):
        robot.drive.value = (0.5,)  # type: ignore[assignment]


def test_inverted_motor(factory: MockFactory) -> None:
    kit = load_kit("camjam-edukit3")
    drive = kit.drive.model_copy(
        update={"right": kit.drive.right.model_copy(update={"inverted": True})}
    )
    kit = kit.model_copy(update={"drive": drive, "parts": {}})
    with Robot(kit, backend="gpio", pin_factory=factory) as r:
        r.drive.forward(0.4)
        # no enable pin: gpiozero PWMs the direction pins (left 9/10, right 7/8)
        assert pins(factory, 9, 10) == (0.4, 0)
        assert pins(factory, 7, 8) == (0, 0.4)


def test_speed_cap_keeps_the_curve(factory: MockFactory) -> None:
    kit = load_kit("generic-l298n").model_copy(update={"parts": {}})
    with Robot(kit, backend="gpio", pin_factory=factory, speed_cap=0.5) as r:
        r.drive.forward(1.0)
        assert wheels(factory) == (0.5, 0.5)
        r.drive.value = (1.0, 0.5)
        assert r.drive.value == pytest.approx((0.5, 0.25))
        r.left_motor.value = -0.9
        assert r.left_motor.value == -0.5


def test_speed_cap_from_environment(factory: MockFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    kit = load_kit("generic-l298n").model_copy(update={"parts": {}})
    monkeypatch.setenv("ROBOCLASS_SPEED_CAP", "0.3")
    with Robot(kit, backend="gpio", pin_factory=factory, speed_cap=0.8) as r:
        assert r.speed_cap == 0.3
    monkeypatch.setenv("ROBOCLASS_SPEED_CAP", "fast")
    with pytest.raises(BadValueError, match="ROBOCLASS_SPEED_CAP"):
        Robot(kit, backend="gpio", pin_factory=factory)


def test_estop_latch_holds_until_release(robot: Robot, factory: MockFactory) -> None:
    robot.drive.forward(0.8)
    robot.estop()
    assert robot.estopped
    assert wheels(factory) == (0, 0)
    robot.drive.forward(0.8)  # ignored: the latch holds
    robot.left_motor.value = 1
    assert wheels(factory) == (0, 0)
    robot.clear_stop()
    assert not robot.estopped
    assert wheels(factory) == (0, 0)  # release alone does not move
    robot.drive.forward(0.8)
    assert wheels(factory) == (0.8, 0.8)
    events = [s.value for s in robot.recorder.where(part="robot")]  # type: ignore[union-attr]
    assert events == ["estop", "release"]


def test_close_stops_and_is_idempotent(factory: MockFactory) -> None:
    kit = load_kit("generic-l298n").model_copy(update={"parts": {}})
    r = Robot(kit, backend="gpio", pin_factory=factory)
    r.drive.forward(1)
    r.close()
    assert r.closed and r.drive.closed and r.left_motor.closed
    assert wheels(factory) == (0, 0)
    r.close()
    with pytest.raises(DeviceClosedError, match="closed"):
        r.drive.forward(0.5)


def test_exception_in_with_block_stops_the_robot(factory: MockFactory) -> None:
    kit = load_kit("generic-l298n").model_copy(update={"parts": {}})
    with pytest.raises(ZeroDivisionError), Robot(kit, backend="gpio", pin_factory=factory) as r:
        r.drive.forward(1)
        _ = 1 / 0
    assert wheels(factory) == (0, 0)


def test_distance_sensor_reads_metres(robot: Robot) -> None:
    # The mock echo stays high 2 ms (0.343 m). gpiozero times it in a thread of its
    # own, so a busy machine can only make it read longer, never shorter.
    d = robot.distance.metres
    assert 0.3 < d < 0.9, d
    assert robot.distance.value == pytest.approx(d / 2.0, rel=0.2)


def test_line_sensors(robot: Robot, factory: MockFactory) -> None:
    factory.pin(LINE[1]).drive_high()  # TCRT5000 modules go high over black tape
    assert robot.line.values == (1.0, 0.0, 1.0)
    assert robot.line.on_line == (False, True, False)
    assert robot.line.position == 0.0
    factory.pin(LINE[0]).drive_high()
    factory.pin(LINE[1]).drive_low()
    assert robot.line.position == -1.0
    factory.pin(LINE[0]).drive_low()
    assert robot.line.position is None
    assert len(robot.line) == 3


def test_single_channel_encoders_count_with_motor_direction(
    robot: Robot, factory: MockFactory
) -> None:
    robot.drive.forward(0.5)
    for _ in range(5):
        factory.pin(ENC_L).drive_high()
        factory.pin(ENC_L).drive_low()
    robot.drive.backward(0.5)
    for _ in range(2):
        factory.pin(ENC_R).drive_high()
        factory.pin(ENC_R).drive_low()
    assert robot.encoders.ticks == (5, -2)
    per_tick = 2 * math.pi * robot.kit.drive.wheel_radius / 20
    assert robot.encoders.distance == pytest.approx((5 * per_tick, -2 * per_tick))
    robot.encoders.reset()
    assert robot.encoders.ticks == (0, 0)


def test_button_led_buzzer(robot: Robot, factory: MockFactory) -> None:
    assert not robot.button.is_pressed
    factory.pin(BUTTON).drive_low()  # pull-up: pressed pulls the pin low
    assert robot.button.is_pressed
    assert robot.button.wait_for_press(timeout=0)
    factory.pin(BUTTON).drive_high()
    assert not robot.button.wait_for_press(timeout=0)
    robot.led.value = 0.25
    assert pins(factory, LED_PIN) == (0.25,)
    robot.led.toggle()
    assert not robot.led.is_lit
    robot.buzzer.play("A4")
    assert factory.pin(BUZZER).frequency == pytest.approx(440)
    robot.buzzer.stop()
    assert robot.buzzer.tone is None
    with pytest.raises(BadValueError, match="not a note"):
        robot.buzzer.play("H9")


def test_missing_part_names_the_parts_there_are(factory: MockFactory) -> None:
    kit = load_kit("camjam-edukit3")
    with Robot(kit, backend="gpio", pin_factory=factory) as r:
        with pytest.raises(
            MissingPartError, match=r"no part called .encoders.*distance, left_motor, line"
        ):
            _ = r.encoders
        with pytest.raises(AttributeError):  # also a standard error: hasattr() works
            _ = r.camera
        assert not hasattr(r, "imu")
        assert {"distance", "line", "left_motor"} <= set(dir(r))


def test_recorder_keeps_commands_and_readings(robot: Robot, factory: MockFactory) -> None:
    robot.drive.forward(0.5)
    robot.line.on_line  # noqa: B018 - a reading is recorded
    samples = robot.recorder.samples  # type: ignore[union-attr]
    assert [s.part for s in samples] == ["drive", "line"]
    assert samples[0].value == (0.5, 0.5) and samples[0].what == "command"
    assert samples[1].what == "reading" and samples[1].t >= samples[0].t


def test_unsupported_part_on_gpio_says_what_to_do(factory: MockFactory) -> None:
    with pytest.raises(BackendError, match=r"backend=.bridge."):
        Robot("pi-uno-bridge", backend="gpio", pin_factory=factory)
    # nothing is left half-open: the motor pins can be used again
    kit = load_kit("generic-l298n").model_copy(update={"parts": {}})
    with Robot(kit, backend="gpio", pin_factory=factory) as r:
        r.drive.forward(0.1)


def test_every_error_is_a_hardware_error() -> None:
    for cls in (BackendError, BadValueError, DeviceClosedError, MissingPartError):
        assert issubclass(cls, HardwareError)


def test_line_readings_are_plain_tuples(robot: Robot) -> None:
    values, on_line = robot.line.values, robot.line.on_line
    assert type(values) is tuple and all(type(v) is float for v in values)
    assert type(on_line) is tuple and all(type(v) is bool for v in on_line)
