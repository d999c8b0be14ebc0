"""The lesson runner: every built-in lesson, and every way a student's program can go wrong."""

from __future__ import annotations

import tempfile
import textwrap
import threading
from pathlib import Path

import pytest

from lessons import Lesson, LessonResult, builtin_lessons, find_lesson, run_lesson

LESSONS = builtin_lessons()


@pytest.fixture(scope="module")
def taught(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder with the student's own model ``my-signs``, as teach-your-robot saves it."""
    data = tmp_path_factory.mktemp("taught")
    lesson = find_lesson("teach-your-robot")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("ROBOCLASS_DATA_DIR", str(data))
        assert run_lesson(lesson, code=lesson.file("solution.py")).status == "passed"
    assert (data / "models" / "my-signs.yaml").is_file()
    return data


@pytest.mark.parametrize("lesson", LESSONS, ids=[lesson.id for lesson in LESSONS])
def test_solution_passes_and_starter_scores_lower(
    lesson: Lesson,
    isolated_dirs: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    if lesson.model.own_model is not None:  # the student taught it in an earlier lesson
        monkeypatch.setenv("ROBOCLASS_DATA_DIR", str(request.getfixturevalue("taught")))
    solution = run_lesson(lesson, code=lesson.file("solution.py"))
    assert solution.status == "passed", (
        solution.as_dict()["rubric"],
        solution.error,
        solution.output[-1500:],
    )
    assert solution.score >= 80
    starter = run_lesson(lesson, code=lesson.file("starter.py"))
    assert starter.run_status in ("finished", "time-up"), (starter.error, starter.output[-1500:])
    assert starter.score < solution.score
    # A program that prints a pass and reports every value the solution reported,
    # but never drives the robot, must not pass: graders trust the robot, not claims.
    claims = [(r["name"], r["value"]) for r in solution.reports]
    with tempfile.TemporaryDirectory() as tmp:
        fake = Path(tmp) / "fake.py"
        fake.write_text(
            "from lessons import report\n"
            'print("score: 100 PASSED")\n'
            + "".join(f"report({name!r}, {value!r})\n" for name, value in claims),
            encoding="utf-8",
        )
        faked = run_lesson(lesson, code=fake)
    assert faked.run_status == "finished", (faked.error, faked.output[-1500:])
    assert faked.status != "passed" and faked.score < lesson.model.grading.pass_score, (
        faked.as_dict()["rubric"]
    )


def student(tmp_path: Path, code: str) -> Path:
    path = tmp_path / "student.py"
    path.write_text(textwrap.dedent(code), encoding="utf-8")
    return path


def run(tmp_path: Path, code: str, **options: object) -> LessonResult:
    return run_lesson(find_lesson("line-follower"), code=student(tmp_path, code), **options)  # type: ignore[arg-type]


def test_endless_loop_is_stopped_at_the_wall_limit(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        """
        from hardware import Robot
        robot = Robot()
        robot.drive.forward(1)
        while True:
            pass
        """,
        wall_limit=3,
    )
    assert result.status == "timeout" and result.run_status == "timeout"
    assert "endless loop" in (result.error or "")
    assert result.score < 50


def test_an_exception_is_reported_with_its_traceback(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        """
        from hardware import Robot
        with Robot() as robot:
            robot.drive.forward(0.5)
            speed = 1 / 0
        """,
    )
    assert result.run_status == "error" and result.status == "error"
    assert result.error == "ZeroDivisionError: division by zero"
    assert "Traceback" in result.output and "speed = 1 / 0" in result.output
    explanation = result.as_dict()["explanation"]
    assert explanation["kind"] == "zero-division" and explanation["code"] == "speed = 1 / 0"
    assert explanation["line"] == 5  # the student's line (the code starts with an empty one)


def test_a_memory_hog_is_stopped_and_reported(tmp_path: Path) -> None:
    result = run(tmp_path, "data = bytearray(8 * 1024 ** 3)\n")
    assert result.run_status == "error"
    assert "MemoryError" in (result.error or "") and "more memory than allowed" in (
        result.error or ""
    )


@pytest.mark.parametrize(
    ("code", "signal_name"),
    [
        ("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n", "SIGKILL"),
        ("import ctypes\nctypes.string_at(0)\n", "SIGSEGV"),
    ],
)
def test_a_crash_is_reported(tmp_path: Path, code: str, signal_name: str) -> None:
    result = run(tmp_path, code)
    assert result.run_status == "crashed"
    assert result.error == (
        f"the program was killed by {signal_name} / 程序被信号 {signal_name} 结束了"
    )


def test_estop_stops_the_run_and_the_robot(tmp_path: Path) -> None:
    stop = threading.Event()
    lines: list[str] = []

    def on_line(stream: str, line: str) -> None:
        lines.append(line)
        if line == "driving":
            stop.set()  # the teacher presses STOP while the robot drives

    result = run(
        tmp_path,
        """
        import time
        from hardware import Robot
        with Robot() as robot:
            robot.drive.forward(1)
            print("driving", flush=True)
            while True:
                time.sleep(0.01)
        """,
        on_line=on_line,
        stop=stop,
    )
    assert result.status == "stopped" and "e-stop" in (result.error or "")
    assert result.as_dict()["explanation"]["kind"] == "e-stop"
    assert "driving" in lines


def test_time_up_ends_a_program_that_sleeps_forever(tmp_path: Path) -> None:
    result = run(
        tmp_path, "import time\nwhile True:\n    time.sleep(1)\n", time_limit=5, wall_limit=30
    )
    assert result.run_status == "time-up"
    assert result.seconds == pytest.approx(5, abs=0.05)
    assert (
        result.wall_seconds < 60
    )  # it did not wait in real time (a generous bound, not a speed test)


def test_the_grader_cannot_be_fooled(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        """
        import json, os, socket, struct
        from lessons import report
        print("score: 100")
        print("PASSED lap_time_s=1.0")
        report("laps", [1.0])
        report("lap_time_s", 1.0)
        # talk to the robot server directly: there is no way to move the robot without driving it
        sock = socket.socket(fileno=int(os.environ["ROBOCLASS_REMOTE_FD"]))
        for op in ({"op": "teleport", "x": 1, "y": 1}, {"op": "call", "port": 1, "method": "__init__", "args": []}):
            data = json.dumps(op).encode()
            sock.sendall(struct.pack("<I", len(data)) + data)
            size = struct.unpack("<I", sock.recv(4))[0]
            print(sock.recv(size).decode())
        """,
    )
    assert result.run_status == "finished"
    assert result.score <= 10 and result.status == "failed"
    assert result.grade.metrics["laps"] == 0
    assert "unknown operation 'teleport'" in result.output
    assert "bad port call" in result.output
    assert {k: result.reports[0][k] for k in ("name", "value")} == {"name": "laps", "value": [1.0]}


def test_reading_a_missing_part_is_a_clear_error(tmp_path: Path) -> None:
    result = run(tmp_path, "from hardware import Robot\nrobot = Robot()\nprint(robot.lidar)\n")
    assert result.run_status == "error"
    assert "has no part called 'lidar'" in (result.error or "")
