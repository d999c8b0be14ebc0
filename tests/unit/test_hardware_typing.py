"""Editors understand the student API: a student's program type-checks with no ``Any`` in it."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

mypy_api = pytest.importorskip("mypy.api")

ROOT = Path(__file__).resolve().parents[2]

STUDENT = """
from hardware import IMU, Camera, DistanceSensor, Robot, Servo


def beep() -> None:
    print("beep")


with Robot() as robot:
    robot.drive.forward()
    robot.drive.forward(0.5)
    robot.drive.backward(0.5)
    robot.drive.left(0.3)
    robot.drive.right(0.3)
    robot.drive.arc(0.5, 0.2)
    robot.drive.set_speed(0.2, 45)
    left_power, right_power = robot.drive.value
    robot.left_motor.forward(0.5)
    robot.right_motor.value = -0.2
    metres: float = robot.distance.metres
    cm: float = robot.distance.cm
    robot.distance.when_closer_than(0.2, robot.drive.stop)
    values: tuple[float, ...] = robot.line.values
    on_line: tuple[bool, ...] = robot.line.on_line
    where: float | None = robot.line.position
    left_m, right_m = robot.encoders.distance
    left_speed, right_speed = robot.encoders.speed
    ticks: tuple[int, int] = robot.encoders.ticks
    heading: float = robot.imu.heading
    turning: float = robot.imu.yaw_rate
    pressed: bool = robot.button.is_pressed
    robot.button.when_pressed = beep
    robot.button.when_released = robot.led.off
    robot.led.on()
    robot.rgb.color = (1, 0.5, 0)
    robot.buzzer.play("A4")
    volts: float = robot.battery.voltage
    percent: float = robot.battery.percent
    picture = robot.camera.read()
    height, width = picture.shape[:2]
    pan: Servo = robot.part("pan", Servo)
    pan.angle = 30
    side: DistanceSensor = robot.part("side", DistanceSensor)
    gyro: IMU = robot.imu
    cam: Camera = robot.camera
    robot.estop()
    robot.clear_stop()
    robot.sleep(0.1)
    robot.stop()
"""

ALL_PARTS = {
    "drive": "hardware.motors.DifferentialDrive",
    "left_motor": "hardware.motors.Motor",
    "right_motor": "hardware.motors.Motor",
    "distance": "hardware.sensors.DistanceSensor",
    "line": "hardware.sensors.LineSensors",
    "encoders": "hardware.sensors.Encoders",
    "imu": "hardware.sensors.IMU",
    "button": "hardware.sensors.Button",
    "led": "hardware.outputs.LED",
    "rgb": "hardware.outputs.RGBLED",
    "buzzer": "hardware.outputs.Buzzer",
    "battery": "hardware.sensors.Battery",
    "camera": "hardware.camera.Camera",
}


def check(tmp_path: Path, program: str) -> tuple[str, int]:
    source = tmp_path / "student.py"
    source.write_text(textwrap.dedent(program), encoding="utf-8")
    config = tmp_path / "mypy.ini"
    config.write_text(
        "[mypy]\n"
        "strict = True\n"
        "disallow_any_expr = True\n"  # any expression typed Any is an error
        "disallow_any_explicit = True\n"
        "follow_imports = silent\n"  # judge the student's file, not the library's
        f"mypy_path = {ROOT}\n"
        "plugins = pydantic.mypy\n"
        "[mypy-gpiozero.*]\nignore_missing_imports = True\n",
        encoding="utf-8",
    )
    out, err, status = mypy_api.run(
        ["--config-file", str(config), "--cache-dir", str(tmp_path / "cache"), str(source)]
    )
    return out + err, status


def test_every_part_is_typed_so_a_student_program_has_no_any(tmp_path: Path) -> None:
    reveal = "\n".join(f"    reveal_type(robot.{name})" for name in ALL_PARTS)
    out, status = check(tmp_path, STUDENT + reveal + "\n")
    assert [line for line in out.splitlines() if "error" in line] == [], out
    revealed = [
        line.split("Revealed type is ")[1] for line in out.splitlines() if "Revealed" in line
    ]
    assert revealed == [f'"{kind}"' for kind in ALL_PARTS.values()], out
    assert status == 0, out


def test_a_misspelt_part_is_caught_before_the_program_runs(tmp_path: Path) -> None:
    out, status = check(
        tmp_path,
        "from hardware import Robot\n\nwith Robot() as robot:\n    robot.distnce.metres\n"
        "    robot.distance.distance_cm\n",
    )
    assert status == 1
    assert '"Robot" has no attribute "distnce"' in out
    assert '"DistanceSensor" has no attribute "distance_cm"' in out


def test_every_part_and_its_members_have_help_to_show() -> None:
    import inspect  # noqa: PLC0415

    import hardware  # noqa: PLC0415

    missing = []
    for kind in ALL_PARTS.values():
        cls = getattr(hardware, kind.rsplit(".", 1)[1])
        for name, member in [("", cls), *inspect.getmembers(cls)]:
            if name.startswith("_") and name:
                continue
            if (not name or isinstance(member, property) or inspect.isfunction(member)) and not (
                inspect.getdoc(member) or ""
            ).strip():
                missing.append(f"{cls.__name__}.{name}")
    for name, member in inspect.getmembers(hardware.Robot):
        if not name.startswith("_") and not inspect.getdoc(member):
            missing.append(f"Robot.{name}")
    assert missing == []
