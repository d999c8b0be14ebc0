"""The student API: typed parts, old names that warn, events, and options each backend refuses."""

from __future__ import annotations

import logging
import threading
import warnings
from collections.abc import Callable, Iterator

import pytest
from gpiozero.pins.mock import MockFactory, MockPWMPin

from hardware import (
    BackendOptionError,
    DistanceSensor,
    KitError,
    LineSensors,
    MissingPartError,
    RoboClassDeprecationWarning,
    Robot,
    Servo,
    load_kit,
)

BUTTON = 4  # generic-l298n


@pytest.fixture
def sim() -> Iterator[Robot]:
    with Robot(kit="sim", backend="sim", realtime=False) as robot:
        yield robot


@pytest.fixture
def gpio() -> Iterator[tuple[Robot, MockFactory]]:
    factory = MockFactory(pin_class=MockPWMPin)
    kit = load_kit("generic-l298n")
    kit = kit.model_copy(
        update={"parts": {k: v for k, v in kit.parts.items() if k not in ("camera", "distance")}}
    )
    with Robot(kit, backend="gpio", pin_factory=factory) as robot:
        yield robot, factory


def events_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "roboclass-events"]


def wait_for(
    flag: threading.Event, step: Callable[[], None] | None = None, limit: float = 5.0
) -> bool:
    """Wait (wall clock) until ``flag``; ``step`` lets sim time pass meanwhile."""
    for _ in range(int(limit / 0.002)):
        if flag.wait(0.002):
            return True
        if step is not None:
            step()
    return flag.is_set()


# -- old names -----------------------------------------------------------------------------


OLD_NAMES: dict[str, Callable[[Robot], object]] = {
    "robot.release()": lambda r: r.release(),
    "robot.distance.distance": lambda r: r.distance.distance,
    "robot.drive.move(speed, turn_rate)": lambda r: r.drive.move(0.1, 10),
    "forward(speed=...)": lambda r: r.drive.forward(speed=0.3),  # type: ignore[call-arg]
    "backward(speed=...)": lambda r: r.left_motor.backward(speed=0.3),  # type: ignore[call-arg]
}


@pytest.mark.parametrize("old", OLD_NAMES, ids=list(OLD_NAMES))
def test_each_old_name_still_works_and_warns_in_both_languages(sim: Robot, old: str) -> None:
    with pytest.warns(RoboClassDeprecationWarning) as seen:
        OLD_NAMES[old](sim)
    assert len(seen) == 1
    message = str(seen[0].message)
    assert old in message and "old name" in message and "旧名字" in message
    assert seen[0].filename == __file__  # it points at the student's line, not ours
    assert issubclass(RoboClassDeprecationWarning, DeprecationWarning)


def test_old_names_do_what_they_did(sim: Robot) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RoboClassDeprecationWarning)
        assert sim.distance.distance == pytest.approx(sim.distance.metres, abs=0.01)
        sim.drive.move(5.0)  # far too fast: the old name still scales it down
        assert sim.drive.value == (1.0, 1.0)
        sim.drive.forward(speed=0.3)  # type: ignore[call-arg]
        assert sim.drive.value == (0.3, 0.3)
        sim.estop()
        sim.release()
        assert not sim.estopped


def test_the_new_names_do_not_warn(sim: Robot) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sim.drive.forward()
        sim.drive.set_speed(0.2, 30)
        sim.drive.arc(0.5, 0.2)
        assert 0 < sim.distance.metres <= 2
        assert sim.distance.cm == pytest.approx(sim.distance.metres * 100, abs=1)
        sim.estop()
        sim.clear_stop()
        sim.drive.stop()


# -- parts -----------------------------------------------------------------------------------


def test_a_missing_part_says_so_in_both_languages() -> None:
    kit = load_kit("camjam-edukit3")
    with Robot(kit, backend="gpio", pin_factory=MockFactory(pin_class=MockPWMPin)) as robot:
        for name in ("encoders", "imu", "camera", "button", "led", "rgb", "buzzer", "battery"):
            with pytest.raises(
                MissingPartError, match=rf"no part called '{name}'.*没有叫 '{name}'"
            ):
                getattr(robot, name)
            assert not hasattr(robot, name)
        with pytest.raises(MissingPartError, match="no part called 'arm'"):
            robot.part("arm", Servo)
        assert isinstance(robot.line, LineSensors)


def test_part_gives_a_named_part_of_the_right_kind(sim: Robot) -> None:
    assert sim.part("distance", DistanceSensor) is sim.distance
    with pytest.raises(MissingPartError, match=r"is a DistanceSensor, not a Servo.*不是 Servo"):
        sim.part("distance", Servo)


def test_standard_part_names_must_be_of_their_kind() -> None:
    data = load_kit("sim").model_dump()
    data["parts"]["distance"] = {"kind": "led"}
    with pytest.raises(ValueError, match="'distance' must be of kind 'ultrasonic'"):
        type(load_kit("sim")).model_validate(data)
    data["parts"].pop("distance")
    data["parts"]["clear_stop"] = {"kind": "led"}
    with pytest.raises(ValueError, match="plain Python name"):
        type(load_kit("sim")).model_validate(data)
    assert issubclass(KitError, ValueError)


def test_readings_do_not_change_anything(sim: Robot) -> None:
    sim.drive.forward(1.0)
    sim.sleep(1.0)
    first = sim.encoders.speed
    second = sim.encoders.speed
    assert first[0] > 0.1
    assert second == pytest.approx(first, rel=0.05)  # reading speed did not reset it
    assert sim.encoders.speed == pytest.approx(first, rel=0.05)


def test_heading_is_zero_where_the_robot_started() -> None:
    with Robot(kit="sim", backend="sim", realtime=False, start="start") as robot:
        assert robot.imu.heading == pytest.approx(0.0, abs=1e-6)
        robot.drive.left(0.3)
        robot.sleep(0.5)
        assert 5 < robot.imu.heading < 180  # counter-clockwise, like every angle of the API


# -- events ------------------------------------------------------------------------------------


def test_when_pressed_and_released_on_gpio_pins(gpio: tuple[Robot, MockFactory]) -> None:
    robot, factory = gpio
    pressed, released = threading.Event(), threading.Event()
    robot.button.when_pressed = pressed.set
    robot.button.when_released = released.set
    assert robot.button.when_pressed == pressed.set
    assert len(events_threads()) == 1
    factory.pin(BUTTON).drive_low()  # pull-up: low is pressed
    assert wait_for(pressed)
    assert not released.is_set()
    factory.pin(BUTTON).drive_high()
    assert wait_for(released)
    robot.close()
    assert events_threads() == []  # stopped and joined on close
    robot.close()  # twice is fine
    assert robot.drive.value == (0, 0)


def test_when_pressed_in_the_simulator(sim: Robot) -> None:
    world = sim.backend.world  # type: ignore[attr-defined]
    pressed = threading.Event()
    sim.button.when_pressed = pressed.set
    world.press_button("button")
    assert wait_for(pressed, lambda: sim.sleep(0.002))
    sim.button.when_pressed = None
    sim.button.when_released = None
    assert wait_for(threading.Event(), limit=0.1) is False
    assert events_threads() == []  # nothing to watch: the thread ended


def test_when_closer_than_stops_before_the_wall(sim: Robot) -> None:
    stopped = threading.Event()

    def stop() -> None:
        sim.drive.stop()
        stopped.set()

    sim.distance.when_closer_than(0.4, stop)
    sim.drive.forward(1.0)
    assert wait_for(stopped, lambda: sim.sleep(0.002), limit=20)
    assert sim.drive.value == (0, 0)
    sim.sleep(0.5)
    assert 0.2 < sim.distance.metres < 0.4
    assert sim.backend.body.collisions == []  # type: ignore[attr-defined]
    sim.distance.when_closer_than(0.4, None)
    clear = threading.Event()
    sim.distance.when_further_than(0.6, clear.set)
    sim.drive.backward(0.5)
    assert wait_for(clear, lambda: sim.sleep(0.002), limit=20)
    assert 0.6 <= sim.distance.metres < 0.7
    sim.distance.when_further_than(0.6, None)


def test_a_failing_action_is_logged_and_the_others_go_on(
    gpio: tuple[Robot, MockFactory], caplog: pytest.LogCaptureFixture
) -> None:
    robot, factory = gpio
    pressed, released = threading.Event(), threading.Event()

    def broken() -> None:
        pressed.set()
        raise ZeroDivisionError("oops")

    robot.button.when_pressed = broken
    robot.button.when_released = released.set
    with caplog.at_level(logging.ERROR, logger="hardware.events"):
        factory.pin(BUTTON).drive_low()
        assert wait_for(pressed)
        factory.pin(BUTTON).drive_high()
        assert wait_for(released)
    assert "button.press" in caplog.text and "ZeroDivisionError" in caplog.text


def test_a_check_that_keeps_failing_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    from hardware.events import Events  # noqa: PLC0415

    calls = []

    def unplugged() -> None:
        calls.append(1)
        if len(calls) != 3:
            raise OSError("no echo")

    with Events(stepped=True) as events, caplog.at_level(logging.ERROR, logger="hardware.events"):
        events.watch("distance.closer", unplugged)
        for _ in range(5):
            events.pump()
    assert len(calls) == 5
    assert caplog.text.count("OSError: no echo") == 2  # once, works once, then once again
    assert events.closed and events.watching == []


def test_an_action_must_be_a_function(sim: Robot) -> None:
    with pytest.raises(ValueError, match="needs a function"):
        sim.button.when_pressed = 5  # type: ignore[assignment]
    with pytest.raises(ValueError, match="between 0 m and 2 m"):
        sim.distance.when_closer_than(5, sim.drive.stop)


# -- backend options ---------------------------------------------------------------------------


def test_options_a_backend_does_not_understand_are_refused() -> None:
    kit = load_kit("generic-l298n")
    with pytest.raises(
        BackendOptionError,
        match=r"gpio backend does not understand 'realtime'.*pin_factory.*不认识",
    ):
        Robot(kit, backend="gpio", pin_factory=MockFactory(), realtime=False)
    with pytest.raises(BackendOptionError, match=r"sim backend does not understand 'pin_factory'"):
        Robot(kit="sim", backend="sim", pin_factory=MockFactory())
    with pytest.raises(BackendOptionError, match=r"bridge backend does not understand 'world'"):
        Robot(kit="pi-uno-bridge", backend="bridge", world="oval-track")
    with pytest.raises(TypeError):  # it is also the error Python gives for a wrong keyword
        Robot(kit="sim", backend="sim", wrold="oval-track")
