"""A robot ends stopped however its program ends: checked in real child processes."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

# The child drives forward on MockFactory pins, says "driving", then waits.
# Its pin states are written at exit by a handler registered *before* the
# robot, so it runs after the robot's own stop (atexit runs last-in first-out).
CHILD = textwrap.dedent(
    """
    import atexit, json, sys, threading
    from gpiozero.pins.mock import MockFactory, MockPWMPin
    from hardware import Robot, load_kit

    factory = MockFactory(pin_class=MockPWMPin)
    out = sys.argv[1]
    mode = sys.argv[2]

    def dump():
        states = {n: factory.pin(n).state for n in (17, 27, 22, 23)}
        with open(out, "w") as f:
            json.dump(states, f)

    atexit.register(dump)
    kit = load_kit("generic-l298n").model_copy(update={"parts": {}})
    robot = Robot(kit, backend="gpio", pin_factory=factory)
    robot.drive.forward(0.7)
    print("driving", {n: factory.pin(n).state for n in (17, 22)}, flush=True)
    if mode == "wait":
        threading.Event().wait(60)
    elif mode == "raise":
        raise RuntimeError("student bug")
    elif mode == "fall-off-the-end":
        pass
    """
)


def run_child(
    tmp_path: Path, mode: str, send: signal.Signals | None
) -> tuple[dict[str, float], int]:
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    out = tmp_path / "pins.json"
    proc = subprocess.Popen(
        [sys.executable, str(script), str(out), mode],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith("driving"), (line, proc.stderr.read() if proc.stderr else "")
    assert "0.7" in line  # the motors really were running
    if send is not None:
        proc.send_signal(send)
    proc.wait(timeout=30)
    return json.loads(out.read_text()), proc.returncode


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_signal_stops_the_motors(tmp_path: Path, sig: signal.Signals) -> None:
    states, code = run_child(tmp_path, "wait", sig)
    assert states == {"17": 0, "27": 0, "22": 0, "23": 0}
    assert code != 0


def test_uncaught_exception_stops_the_motors(tmp_path: Path) -> None:
    states, code = run_child(tmp_path, "raise", None)
    assert set(states.values()) == {0}
    assert code == 1


def test_end_of_program_without_close_stops_the_motors(tmp_path: Path) -> None:
    states, code = run_child(tmp_path, "fall-off-the-end", None)
    assert set(states.values()) == {0}
    assert code == 0


LOCKED_CHILD = """
import sys, threading, time
from hardware import safety

held = threading.Lock()

class Board:
    # stopping needs the lock that the interrupted code holds (a serial write)
    def emergency_stop_now(self):
        with held:
            print("stopped", flush=True)

safety.register(Board())
held.acquire()
try:
    print("holding", flush=True)
    while True:
        time.sleep(0.05)
finally:
    held.release()
"""


def test_a_signal_during_a_locked_write_still_ends_stopped() -> None:
    proc = subprocess.Popen([sys.executable, "-c", LOCKED_CHILD], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "holding"
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=30)  # a handler waiting on the lock would hang here
    assert proc.returncode == 128 + signal.SIGTERM
    assert "stopped" in out  # once the lock was free (the thread, or the exit hook)
