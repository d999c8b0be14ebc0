"""``Robot(backend="bridge")`` against the REAL reference firmware under simavr.

A student script (plain ``from hardware import Robot``) runs in its own
process with this robot's settings pointing at the simulated board's pty; the
test checks the motor PWM pins the firmware really drove.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from firmware_bridge.simboard import SimBoard
from hardware import Robot
from hardware.kit import load_kit
from tests.integration.test_bridge_firmware import built

pytestmark = pytest.mark.integration

LEFT_PWM, LEFT_DIR, RIGHT_PWM, RIGHT_DIR = 5, 4, 6, 7
TRIGGER, ECHO = 8, 12  # the pi-uno-bridge kit's ultrasonic
REPO = Path(__file__).resolve().parents[2]

STUDENT = """\
import json
import time

from hardware import Robot

with Robot() as robot:
    seen = {"distance": robot.distance.metres}
    robot.drive.forward(0.5)
    deadline = time.monotonic() + 20
    while robot.encoders.ticks != (10, 10) and time.monotonic() < deadline:
        time.sleep(0.02)
    seen["ticks"] = robot.encoders.ticks
    seen["line"] = robot.line.on_line
    seen["yaw_rate"] = robot.imu.yaw_rate
    seen["voltage"] = robot.battery.voltage
    robot.drive.left(0.3)
    time.sleep(0.2)
print(json.dumps(seen))
"""


@pytest.fixture
def board() -> Iterator[SimBoard]:
    built("simboard")
    with SimBoard(built("roboclass_firmware.elf")) as sim:
        yield sim


def stage(board: SimBoard) -> None:
    """The world the board's sensors see."""
    board.set_distance(TRIGGER, ECHO, 0.4)
    board.set_imu((0.0, 0.0, 20.0))  # turning left at 20 deg/s
    for channel, millivolts in ((0, 200), (1, 4500), (2, 200)):  # A1 over the black line
        board.set_adc(channel, millivolts)
    board.set_adc(3, 2500)  # battery 7.5 V through the kit's 3:1 divider
    board.now_us()  # the harness answers in order: it has taken all of the above


def turn_wheel(board: SimBoard, pin: int, ticks: int) -> None:
    """``ticks`` encoder pulses on ``pin``; returns when the harness has sent them all."""
    board.watch(pin)
    board.pulse(pin, ticks, period_us=1000)
    with board._cond:  # the harness plays one pulse train at a time
        done = board._cond.wait_for(
            lambda: sum(1 for _, p, level in board.edges if p == pin and level) >= ticks, 5
        )
    assert done, board.edges


def sim_kit_data() -> dict[str, object]:
    """The shipped Pi + UNO kit, without the Pi camera (there is none here)."""
    data = load_kit("pi-uno-bridge").model_dump(exclude_none=True)
    data["name"] = "uno-in-simavr"
    parts = data["parts"]
    assert isinstance(parts, dict)
    parts.pop("camera")
    return data


def test_a_student_script_drives_the_simulated_board(board: SimBoard, tmp_path: Path) -> None:
    stage(board)
    config = tmp_path / "config"
    (config / "kits").mkdir(parents=True)
    (config / "kits" / "uno-in-simavr.yaml").write_text(yaml.safe_dump(sim_kit_data()))
    (config / "robot.yaml").write_text(
        yaml.safe_dump({"kit": "uno-in-simavr", "backend": "bridge", "port": board.port})
    )
    script = tmp_path / "student.py"
    script.write_text(STUDENT)
    env = {
        **os.environ,
        "ROBOCLASS_CONFIG_DIR": str(config),
        "ROBOCLASS_DATA_DIR": str(tmp_path / "data"),
        "ROBOCLASS_CACHE_DIR": str(tmp_path / "cache"),
    }
    for name in ("ROBOCLASS_KIT", "ROBOCLASS_BACKEND", "ROBOCLASS_SPEED_CAP"):
        env.pop(name, None)
    with subprocess.Popen(
        [sys.executable, str(script)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as student:
        try:
            board.wait_output(LEFT_PWM, lambda v: v > 0, timeout=30)  # it drives
            board.wait_output(RIGHT_PWM, lambda v: v > 0, timeout=5)
            turn_wheel(board, 2, 10)  # encoder pulses, one wheel at a time
            turn_wheel(board, 3, 10)
            out, err = student.communicate(timeout=60)
        finally:
            if student.poll() is None:
                student.kill()
    assert student.returncode == 0, err
    seen = json.loads(out.strip().splitlines()[-1])
    assert seen["distance"] == pytest.approx(0.4, abs=0.01)
    assert seen["ticks"] == [10, 10]  # forward: both counts go up
    assert seen["line"] == [False, True, False]
    assert seen["yaw_rate"] == pytest.approx(20.0, abs=0.2)
    assert seen["voltage"] == pytest.approx(7.5, abs=0.05)

    # What the firmware did with the motor pins: forward at half power, the
    # left turn (left wheel backward), and stopped at the end.
    left = [v for _, pin, v in board.history if pin == LEFT_PWM]
    right = [v for _, pin, v in board.history if pin == RIGHT_PWM]
    assert 127 in left and 127 in right  # 0.5 of 255
    assert 76 in left  # 0.3 of 255 on the turn
    dirs = [v for _, pin, v in board.history if pin == LEFT_DIR]
    assert 255 in dirs  # the left wheel went backward for the turn
    board.wait_output(LEFT_PWM, lambda v: v == 0, timeout=2)
    assert board.output(LEFT_PWM) == 0 and board.output(RIGHT_PWM) == 0
    assert left[-1] == 0 and right[-1] == 0


def test_estop_holds_the_real_board_until_release(board: SimBoard, tmp_path: Path) -> None:
    stage(board)
    kit_file = tmp_path / "uno-in-simavr.yaml"
    kit_file.write_text(yaml.safe_dump(sim_kit_data()))
    with Robot(kit_file, backend="bridge", port=board.port) as robot:
        robot.drive.forward(0.8)
        board.wait_output(LEFT_PWM, lambda v: v == 204)
        robot.estop()
        assert board.wait_output(LEFT_PWM, lambda v: v == 0) >= 0
        board.wait_output(RIGHT_PWM, lambda v: v == 0)
        robot.drive.forward(0.8)  # ignored while e-stopped
        assert not robot.backend.bridge.wait_telemetry().armed  # type: ignore[attr-defined]
        with pytest.raises(TimeoutError):
            board.wait_output(LEFT_PWM, lambda v: v > 0, timeout=0.5)
        robot.clear_stop()
        robot.drive.forward(0.4)  # re-arms the board
        board.wait_output(LEFT_PWM, lambda v: v == 102)
        assert robot.distance.metres == pytest.approx(0.4, abs=0.01)
        assert robot.backend.bridge.wait_telemetry().armed  # type: ignore[attr-defined]
    board.wait_output(LEFT_PWM, lambda v: v == 0, timeout=2)  # closing stopped it
    assert board.output(RIGHT_PWM) == 0
