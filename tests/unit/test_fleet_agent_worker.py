"""The job worker on its own: one job at a time, cancel, halt, the e-stop gate, closing."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from fleet.agent.worker import JobWorker, Running
from fleet.core.protocol import Status
from tests.unit.agent_fakes import FakeGate, lesson_job, model_job, wait_for


class Jobs:
    """An ``execute`` that records each job and, if asked, runs until the job is stopped."""

    def __init__(self) -> None:
        self.ran: list[str] = []
        self.stopped: list[tuple[str, str | None, Status | None]] = []
        self.hold = threading.Event()  # set: jobs run until stopped
        self.started = threading.Event()

    def __call__(self, running: Running) -> None:
        self.ran.append(running.job.job)
        self.started.set()
        if self.hold.is_set():
            running.stop.wait(10)
        if running.stopping:
            self.stopped.append((running.job.job, running.reason, running.status))


@pytest.fixture
def gate() -> FakeGate:
    return FakeGate()


@pytest.fixture
def jobs() -> Jobs:
    return Jobs()


@pytest.fixture
def worker(jobs: Jobs, gate: FakeGate) -> Iterator[JobWorker]:
    done: list[str] = []
    with JobWorker(jobs, gate, name="r1", on_done=lambda: done.append("done")).start() as w:
        w.done = done  # type: ignore[attr-defined]
        yield w
    assert w.closed


def test_jobs_run_one_at_a_time_in_order(worker: JobWorker, jobs: Jobs) -> None:
    for n in range(3):
        worker.submit(lesson_job(f"j{n}"))
    assert wait_for(lambda: len(worker.done) == 3)  # type: ignore[attr-defined]
    assert jobs.ran == ["j0", "j1", "j2"]
    assert worker.current is None and not worker.busy and worker.queued() == []


def test_the_running_job_is_known_while_it_runs(worker: JobWorker, jobs: Jobs) -> None:
    jobs.hold.set()
    worker.submit(lesson_job("j1"))
    worker.submit(lesson_job("j2"))
    assert wait_for(lambda: worker.current_job == "j1")
    assert worker.busy and worker.queued() == ["j2"]
    assert worker.halt("stop", Status.CANCELED)
    assert wait_for(lambda: worker.current_job == "j2")
    worker.halt("stop", Status.CANCELED)
    assert wait_for(lambda: not worker.busy)


def test_cancel_stops_a_running_job_and_drops_a_queued_one(worker: JobWorker, jobs: Jobs) -> None:
    jobs.hold.set()
    worker.submit(lesson_job("j1"))
    worker.submit(lesson_job("j2"))
    assert wait_for(lambda: worker.current_job == "j1")
    assert worker.cancel("j2") == "queued"
    assert worker.cancel("j1") == "running"
    assert worker.cancel("nope") is None
    assert wait_for(lambda: not worker.busy)
    assert jobs.ran == ["j1"]  # j2 never ran
    assert jobs.stopped == [("j1", "canceled by the teacher", Status.CANCELED)]


def test_the_first_reason_stays_unless_forced(worker: JobWorker, jobs: Jobs) -> None:
    jobs.hold.set()
    worker.submit(lesson_job("j1"))
    assert wait_for(lambda: worker.current_job == "j1")
    running = worker.current
    assert running is not None
    assert not worker.halt("not me", Status.FAILED, job="j9")  # another job: nothing
    assert not running.stopping
    assert worker.halt("emergency stop by ms-li", Status.CANCELED)
    assert not worker.halt("lost the console", Status.FAILED)  # already stopping
    assert (running.reason, running.status) == ("emergency stop by ms-li", Status.CANCELED)
    assert wait_for(lambda: not worker.busy)
    assert jobs.stopped == [("j1", "emergency stop by ms-li", Status.CANCELED)]


def test_a_lesson_waits_for_the_e_stop_to_clear_a_model_does_not(
    worker: JobWorker, jobs: Jobs, gate: FakeGate
) -> None:
    gate.stop()
    worker.submit(lesson_job("lesson"))
    worker.submit(model_job("model"))
    assert not wait_for(lambda: jobs.ran, 0.3)  # the lesson waits, and the model behind it
    gate.clear()
    assert wait_for(lambda: jobs.ran == ["lesson", "model"])
    gate.stop()
    worker.submit(model_job("model2"))  # installing a model never moves the robot
    assert wait_for(lambda: jobs.ran[-1:] == ["model2"])


def test_a_lesson_canceled_while_it_waits_for_the_clear_never_runs(
    worker: JobWorker, jobs: Jobs, gate: FakeGate
) -> None:
    gate.stop()
    worker.submit(lesson_job("j1"))
    assert wait_for(lambda: worker.queued() == ["j1"])
    assert worker.cancel("j1") == "queued"
    gate.clear()
    worker.submit(lesson_job("j2"))
    assert wait_for(lambda: jobs.ran == ["j2"])


def test_closing_stops_the_running_job_and_joins(jobs: Jobs, gate: FakeGate) -> None:
    jobs.hold.set()
    worker = JobWorker(jobs, gate, name="r1").start()
    worker.submit(lesson_job("j1"))
    assert jobs.started.wait(5)
    worker.close()
    assert jobs.stopped == [("j1", "the agent stopped", Status.FAILED)]
    assert not worker._thread.is_alive()
    worker.close()  # twice is fine


def test_closing_while_a_lesson_waits_for_the_clear(jobs: Jobs, gate: FakeGate) -> None:
    gate.stop()
    worker = JobWorker(jobs, gate, name="r1").start()
    worker.submit(lesson_job("j1"))
    worker.close()
    assert jobs.ran == [] and not worker._thread.is_alive()


def test_a_broken_execute_does_not_end_the_worker(gate: FakeGate) -> None:
    ran: list[str] = []

    def execute(running: Running) -> None:
        ran.append(running.job.job)
        raise RuntimeError("a bug")

    with JobWorker(execute, gate).start() as worker:
        worker.submit(lesson_job("j1"))
        worker.submit(lesson_job("j2"))
        assert wait_for(lambda: ran == ["j1", "j2"])
