"""The robot lease on its own: a job drives the robot or borrows the hardware; it ends stopped."""

from __future__ import annotations

import pytest

from fleet.agent.lease import RobotLease
from tests.unit.agent_fakes import FakeRobot


def test_a_job_drives_the_agents_robot_and_it_ends_stopped() -> None:
    robot = FakeRobot()
    lease = RobotLease(robot)
    with lease.for_job() as lent:
        assert lent is robot
        assert robot.calls == []
    assert robot.calls == ["stop"]
    with pytest.raises(RuntimeError), lease.for_job():
        raise RuntimeError("the runner broke")
    assert robot.calls == ["stop", "stop"]  # stopped all the same


def test_a_runner_that_opens_the_kit_gets_the_hardware_and_the_lease_opens_it_again() -> None:
    held, again = FakeRobot(), FakeRobot()
    lease = RobotLease(held, lends=True, opener=lambda: again)
    with lease.for_job() as lent:
        assert lent is None  # the job opens the kit itself
        assert held.closed  # closing stopped it and freed the pins
    assert lease.robot is again and again.calls == []
    lease.close()
    assert again.closed  # the lease opened it: the lease closes it


def test_taken_back_e_stopped_while_the_room_is_stopped() -> None:
    stopped = [False]
    again = FakeRobot()
    lease = RobotLease(FakeRobot(), lends=True, opener=lambda: again, stopped=lambda: stopped[0])
    with lease.for_job():
        stopped[0] = True  # the e-stop came while the job had the hardware
    assert again.calls == ["estop"]


def test_without_a_way_to_open_it_again_the_agent_goes_on_without_a_robot() -> None:
    lease = RobotLease(FakeRobot(), lends=True)
    with lease.for_job():
        pass
    assert lease.robot is None and lease.usable() is None

    def broken() -> FakeRobot:
        raise OSError("the pins are gone")

    lease = RobotLease(FakeRobot(), lends=True, opener=broken)
    with lease.for_job():
        pass
    assert lease.robot is None
    lease.stop()  # nothing to stop: no error
    lease.estop()


def test_an_agent_that_ends_during_a_lent_job_closes_what_it_opens_after() -> None:
    again = FakeRobot()
    lease = RobotLease(FakeRobot(), lends=True, opener=lambda: again)
    with lease.for_job():
        lease.close()
    assert again.closed


def test_e_stop_and_clear_reach_the_robot_held_now() -> None:
    robot = FakeRobot()
    lease = RobotLease(robot, stopped=lambda: True)
    assert robot.calls == ["estop"]  # a restarted agent in a stopped room
    lease.clear_stop()
    lease.estop()
    assert robot.calls == ["estop", "clear_stop", "estop"]


def test_closing_leaves_the_callers_robot_stopped_and_open() -> None:
    robot = FakeRobot()
    with RobotLease(robot) as lease:
        pass
    assert lease.closed
    assert robot.calls == ["stop"] and not robot.closed
    robot.close()
    RobotLease(robot).close()  # a closed robot: nothing to do
    assert robot.calls == ["stop", "close"]
