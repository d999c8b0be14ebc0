"""Identify and preflight on their own: tracked threads, quiet while stopped, joined on close."""

from __future__ import annotations

from fleet.agent.errands import BLINKS, Errands
from fleet.agent.lease import RobotLease
from hardware import Robot
from tests.unit.agent_fakes import FakeRobot, wait_for


def test_identify_blinks_and_beeps_then_ends_off() -> None:
    robot = FakeRobot(parts=("led", "buzzer"))
    with Errands(RobotLease(robot), stopped=lambda: False, busy=lambda: False,
                 report=lambda s, lines: None) as errands:  # fmt: skip
        assert errands.identify()
        assert not errands.identify()  # one at a time
        assert wait_for(lambda: robot.calls.count("led.off") >= BLINKS // 2 + 1)
    assert robot.calls[:2] == ["led.on", "buzzer.beep"]
    assert robot.calls[-2:] == ["led.off", "buzzer.stop"]


def test_identify_is_quiet_while_the_room_is_stopped_and_ends_on_close() -> None:
    robot = FakeRobot(parts=("led", "buzzer"))
    errands = Errands(RobotLease(robot), stopped=lambda: True, busy=lambda: False,
                      report=lambda s, lines: None)  # fmt: skip
    assert errands.identify()
    errands.close()  # at once, not after the whole pattern
    assert "buzzer.beep" not in robot.calls
    assert robot.calls[0] == "led.on" and robot.calls[-1] == "buzzer.stop"
    assert not errands.identify()  # closed


def test_preflight_reports_each_part_between_jobs() -> None:
    reports: list[tuple[dict[str, int], list[str]]] = []
    busy, stopped = [True], [False]
    with Robot(kit="sim", backend="sim", realtime=False) as robot:
        errands = Errands(RobotLease(robot), stopped=lambda: stopped[0], busy=lambda: busy[0],
                          report=lambda s, lines: reports.append((s, lines)))  # fmt: skip
        with errands:
            assert errands.preflight()
            assert wait_for(lambda: not errands._threads["preflight"].is_alive())
            assert reports == []  # a job runs: not now
            busy[0], stopped[0] = False, True
            assert errands.preflight()
            assert wait_for(lambda: not errands._threads["preflight"].is_alive())
            assert reports == []  # the room is stopped: not now
            stopped[0] = False
            assert errands.preflight()
            assert wait_for(lambda: reports, 30)
    summary, lines = reports[0]
    assert set(summary) == {"ok", "warn", "fail"} and sum(summary.values()) == len(lines)
    assert all(line.startswith("preflight ") for line in lines)
