"""The offline watch on its own: a job outliving its time without the console is stopped."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fleet.agent.lease import RobotLease
from fleet.agent.offline import OfflineWatch
from fleet.agent.worker import JobWorker, Running
from fleet.core.protocol import Status
from tests.unit.agent_fakes import FakeClock, FakeGate, FakeRobot, lesson_job, wait_for


class Held:
    """Runs each job until it is stopped; keeps how it was stopped."""

    def __init__(self) -> None:
        self.stopped: list[tuple[str | None, Status | None]] = []

    def __call__(self, running: Running) -> None:
        running.stop.wait(10)
        self.stopped.append((running.reason, running.status))


@pytest.fixture
def parts() -> Iterator[tuple[JobWorker, FakeRobot, Held]]:
    held, robot = Held(), FakeRobot()
    with JobWorker(held, FakeGate()).start() as worker:
        yield worker, robot, held
        for job in ("j1", "j2"):
            worker.cancel(job)


def test_a_job_is_stopped_once_offline_longer_than_it_allows(
    parts: tuple[JobWorker, FakeRobot, Held],
) -> None:
    worker, robot, held = parts
    clock = FakeClock()
    watch = OfflineWatch(worker, RobotLease(robot), clock=clock)
    worker.submit(lesson_job("j1", max_offline_s=10))
    assert wait_for(lambda: worker.busy)
    assert not watch.check()  # connected
    watch.lost()
    assert watch.since == clock.now
    clock.now += 10
    assert not watch.check()  # not longer than allowed yet
    clock.now += 0.5
    assert watch.check()
    assert robot.calls == ["stop"]
    assert wait_for(
        lambda: held.stopped == [("lost the console for more than 10 s", Status.FAILED)]
    )
    assert not watch.check()  # nothing runs now


def test_back_in_time_the_job_goes_on(parts: tuple[JobWorker, FakeRobot, Held]) -> None:
    worker, robot, _held = parts
    clock = FakeClock()
    watch = OfflineWatch(worker, RobotLease(robot), clock=clock)
    worker.submit(lesson_job("j1", max_offline_s=10))
    assert wait_for(lambda: worker.busy)
    watch.lost()
    clock.now += 5
    watch.back()
    clock.now += 60
    assert not watch.check() and watch.since is None
    assert robot.calls == [] and worker.busy


def test_a_job_already_stopping_keeps_its_reason(parts: tuple[JobWorker, FakeRobot, Held]) -> None:
    worker, robot, held = parts
    clock = FakeClock()
    watch = OfflineWatch(worker, RobotLease(robot), clock=clock)
    worker.submit(lesson_job("j1", max_offline_s=1))
    assert wait_for(lambda: worker.busy)
    running = worker.current
    assert running is not None
    worker.halt("emergency stop by ms-li", Status.CANCELED)
    watch.lost()
    clock.now += 5
    assert not watch.check()
    assert wait_for(lambda: held.stopped == [("emergency stop by ms-li", Status.CANCELED)])
