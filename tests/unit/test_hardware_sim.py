"""The same student code on the simulator backend."""

from __future__ import annotations

import json
import math

import pytest
from click.testing import CliRunner
from gpiozero.pins.mock import MockFactory, MockPWMPin

from hardware import BackendError, KitError, Robot, load_kit
from hardware.backends.sim import SimBackend, line_offsets
from roboclass.cli import cli


def student_program(robot: Robot) -> float:
    """What a student writes: drive forward half a second, look, stop."""
    robot.drive.forward(0.5)
    robot.sleep(0.5)
    seen = robot.distance.metres
    robot.drive.stop()
    return seen


def test_same_program_on_sim_and_gpio() -> None:
    with Robot(kit="sim", backend="sim", realtime=False) as robot:
        start = robot.backend.body.pose  # type: ignore[attr-defined]
        seen = student_program(robot)
        end = robot.backend.body.pose  # type: ignore[attr-defined]
        assert 0 < seen <= 2.0
        travelled = math.dist((start.x, start.y), (end.x, end.y))
        assert 0.1 < travelled < 0.25  # at most 0.5 power x 0.5 m/s x 0.5 s, less the speed-up
        assert robot.drive.value == (0, 0)
    # on MockFactory pins the distance sensor has no echo: a clear error, not a hang
    kit = load_kit("camjam-edukit3")
    with Robot(kit, backend="gpio", pin_factory=MockFactory(pin_class=MockPWMPin)) as robot:
        with pytest.raises(OSError, match="no echo"):
            student_program(robot)
        assert robot.drive.value == (0.5, 0.5)
    # ...and a kit made for the gpio backend also runs in the simulator
    with Robot(kit, backend="sim", realtime=False) as robot:
        assert 0 < student_program(robot) <= 2.0


def test_lock_step_is_deterministic() -> None:
    def trail() -> list[tuple[float, float, float]]:
        with Robot(kit="sim", backend="sim", realtime=False) as robot:
            poses = []
            for i in range(50):
                robot.drive.arc(0.5, turn=math.sin(i / 5))
                robot.sleep(0.05)
                robot.line.values  # noqa: B018 - readings take sim time too
                poses.append(tuple(robot.backend.body.pose))  # type: ignore[attr-defined]
            return poses

    assert trail() == trail()


def test_a_polling_loop_sees_the_robot_move() -> None:
    with Robot(kit="sim", backend="sim", realtime=False) as robot:
        robot.drive.forward(0.5)
        reads = 0
        while robot.distance.metres > 0.3:  # nothing but polling: no sleep at all
            reads += 1
            assert reads < 10_000, "the world never moved"
        robot.drive.stop()
        assert robot.distance.metres <= 0.31
        assert robot.backend.body.collisions == []  # type: ignore[attr-defined]


def test_proportional_line_follower_completes_a_lap() -> None:
    with Robot(kit="sim", backend="sim", realtime=False) as robot:
        body = robot.backend.body  # type: ignore[attr-defined]
        while robot.clock() < 60 and not body.laps:
            where = robot.line.position
            if where is None:
                robot.drive.forward(0.3)
            else:
                robot.drive.arc(0.6, turn=-1.5 * where if abs(where) < 0.66 else -where)
            robot.sleep(0.01)
        assert len(body.laps) == 1
        assert body.collisions == []


def test_sensors_in_the_simulator() -> None:
    with Robot(kit="sim", backend="sim", realtime=False, record=True) as robot:
        assert robot.imu.heading == pytest.approx(0.0, abs=1e-6)
        robot.drive.left(0.5)
        robot.sleep(0.5)
        robot.drive.stop()
        assert 10 < robot.imu.heading < 180  # turned left: counter-clockwise
        left, right = robot.encoders.ticks
        assert left < 0 < right and abs(left + right) <= 2
        assert 8.0 < robot.battery.voltage <= 8.4
        frame = robot.camera.read()
        assert frame.shape == (240, 320, 3) and frame.dtype.name == "uint8"
        assert not robot.button.is_pressed
        robot.backend.world.press_button("button")  # type: ignore[attr-defined]
        assert robot.button.is_pressed
        robot.led.on()
        robot.buzzer.play("C5")
        assert robot.backend.outputs == {
            "led": 1.0,
            "buzzer": pytest.approx(523.25, abs=0.01),
            "rgb": (0, 0, 0),
        }  # type: ignore[attr-defined]
        # frames are never recorded, only that one was taken
        assert robot.recorder is not None
        assert [s.value for s in robot.recorder.where(part="camera")] == ["frame 320x240"]


def test_estop_in_the_simulator() -> None:
    with Robot(kit="sim", backend="sim", realtime=False) as robot:
        body = robot.backend.body  # type: ignore[attr-defined]
        robot.drive.forward(1)
        robot.sleep(0.2)
        robot.estop()
        robot.drive.forward(1)
        robot.sleep(0.5)
        assert body.motors == (0, 0)
        assert body.wheel_speeds == (0, 0)


def test_real_time_mode_steps_in_a_thread() -> None:
    robot = Robot(kit="sim", backend="sim", realtime=True)
    backend = robot.backend
    assert isinstance(backend, SimBackend) and backend._thread is not None
    robot.drive.forward(0.5)
    robot.sleep(0.2)
    assert robot.clock() >= 0.2
    robot.close()
    assert not backend._thread.is_alive()
    assert backend.body.motors == (0, 0)


def test_line_sensor_offsets_left_to_right() -> None:
    spec = load_kit("sim").parts["line"]
    offsets = line_offsets(spec)  # type: ignore[arg-type]
    assert [round(y, 4) for _, y in offsets] == [0.03, 0.015, 0.0, -0.015, -0.03]
    assert {x for x, _ in offsets} == {0.07}


def test_unknown_world_and_start() -> None:
    with pytest.raises(KitError, match="cannot open the simulator world"):
        Robot(kit="sim", backend="sim", realtime=False, world="no-such-world")
    with pytest.raises(BackendError, match="cannot place the robot"):
        Robot(kit="sim", backend="sim", realtime=False, start="nowhere")


def test_hw_check_sim_passes_every_check() -> None:
    result = CliRunner().invoke(cli, ["hw", "check", "--kit", "sim", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["kit"] == "sim" and report["backend"] == "sim"
    statuses = {c["part"]: c["status"] for c in report["checks"]}
    assert set(statuses) >= {
        "left_motor",
        "right_motor",
        "distance",
        "line",
        "imu",
        "battery",
        "camera",
    }
    assert set(statuses.values()) == {"ok"}, statuses
