"""Unchanged student scripts in the simulator: `roboclass sim run`."""

from __future__ import annotations

import json
import textwrap
import time
from pathlib import Path

import cv2
import pytest
from click.testing import CliRunner

from hardware import simtime
from hardware.simrun import run_script
from roboclass.cli import cli

LINE_FOLLOWER = """
import time
from hardware import Robot

with Robot() as robot:
    start = time.monotonic()
    while time.monotonic() - start < {seconds}:
        where = robot.line.position
        if where is None:
            robot.drive.forward(0.3)
        else:
            robot.drive.arc(0.6, turn=-1.5 * where if abs(where) < 0.66 else -where)
        time.sleep(0.01)
print("finished after", round(time.monotonic() - start))
"""


def script(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "student.py"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_time_sleep_follows_the_simulator(tmp_path: Path) -> None:
    summary = run_script(script(tmp_path, LINE_FOLLOWER.format(seconds=25)), world="oval-track")
    assert summary.status == "ok" and summary.exit_code == 0, summary.output
    assert "finished after 25" in summary.output
    assert summary.sim_seconds == pytest.approx(25, abs=0.1)
    [robot] = summary.robots
    assert robot["laps"] and 15 < robot["laps"][0] < 25
    assert robot["collisions"] == []
    assert robot["distance_m"] > 5
    assert [c["checkpoint"] for c in robot["checkpoints"]][:2] == ["finish", "far bend"]


def test_duration_ends_the_run(tmp_path: Path) -> None:
    summary = run_script(script(tmp_path, LINE_FOLLOWER.format(seconds=1000)), duration=3)
    assert summary.status == "time-up"
    assert summary.sim_seconds == pytest.approx(3, abs=0.05)
    assert "finished" not in summary.output


def test_a_student_error_is_reported_and_the_robot_summarised(tmp_path: Path) -> None:
    text = """
    from hardware import Robot
    robot = Robot()
    robot.drive.forward(1)
    robot.sleep(1)
    print(1 / 0)
    """
    summary = run_script(script(tmp_path, text))
    assert summary.status == "error" and summary.exit_code == 1
    assert summary.error == "ZeroDivisionError: division by zero"
    assert "Traceback" in summary.output
    assert summary.robots[0]["distance_m"] > 0.3


def test_an_endless_loop_is_stopped(tmp_path: Path) -> None:
    summary = run_script(script(tmp_path, "while True:\n    pass\n"), timeout=2)
    assert summary.status == "timeout"
    assert "endless loop" in (summary.error or "")


@pytest.mark.parametrize("suffix", [".gif", ".mp4"])
def test_record_a_video(tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"run{suffix}"
    summary = run_script(script(tmp_path, LINE_FOLLOWER.format(seconds=2)), record=out)
    assert summary.recording == str(out)
    video = cv2.VideoCapture(str(out))
    frames = 0
    while True:
        ok, frame = video.read()
        if not ok:
            break
        frames += 1
        assert frame.shape[2] == 3
    video.release()
    assert 18 <= frames <= 22  # 2 simulated seconds at 10 frames per simulated second


def test_cli_json(tmp_path: Path) -> None:
    path = script(tmp_path, LINE_FOLLOWER.format(seconds=2))
    result = CliRunner().invoke(cli, ["sim", "run", str(path), "--world", "figure-eight", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["world"] == "figure-eight" and data["status"] == "ok"
    assert data["sim_seconds"] == pytest.approx(2, abs=0.05) and data["real_time_factor"] > 0
    worlds = json.loads(CliRunner().invoke(cli, ["sim", "worlds", "--json"]).output)
    assert {
        "oval-track",
        "figure-eight",
        "obstacle-room",
        "sign-road",
        "aruco-arena",
        "colour-zones",
    } <= {w["name"] for w in worlds}


def test_sim_time_before_and_after_a_robot() -> None:
    sim = simtime.install()
    try:
        assert time.sleep == sim.sleep
        t0 = time.monotonic()
        time.sleep(5)  # no robot yet: the clock just moves on
        assert time.monotonic() - t0 == pytest.approx(5)
        stepped: list[float] = []
        now = [0.0]

        def fake_sleep(s: float) -> None:
            stepped.append(s)
            now[0] += s

        sim.attach(lambda: now[0], fake_sleep)
        time.sleep(2.5)
        assert stepped == [2.5]
        assert time.monotonic() - t0 == pytest.approx(7.5)
        sim.detach()
        assert time.monotonic() - t0 == pytest.approx(7.5)
        with pytest.raises(ValueError, match="non-negative"):
            time.sleep(-1)
    finally:
        simtime.uninstall()
    assert simtime.active() is None
    assert time.sleep != sim.sleep
