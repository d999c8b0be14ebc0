"""The job executor on its own: a lesson from its bundle to its final status and result."""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fleet.agent.jobs import JobContext, JobExecutor
from fleet.agent.lease import RobotLease
from fleet.agent.logs import LogForwarder
from fleet.agent.outbox import Outbox
from fleet.agent.results import ResultSender
from fleet.agent.worker import Running
from fleet.core.bundles import BundleCache
from fleet.core.protocol import BundleRef, JobResult, Status, Topics
from tests.unit.agent_fakes import FakeLink, FakeRobot, lesson_job

BUNDLE = b"a lesson"
REF = BundleRef(
    id="lesson",
    sha256=hashlib.sha256(BUNDLE).hexdigest(),
    size=len(BUNDLE),
    inline=base64.b64encode(BUNDLE).decode(),
)


class Parts:
    def __init__(self, tmp: Path) -> None:
        self.outbox = Outbox(tmp / "agent.sqlite")
        self.link = FakeLink()
        self.results = ResultSender(self.outbox, self.link, Topics("school", "room1"), "r1")
        self.lines: list[tuple[str | None, list[str]]] = []
        self.logs = LogForwarder(
            lambda job, lines: self.lines.append((job, [x.line for x in lines]))
        )
        self.robot = FakeRobot()
        self.started = 0
        self.seen: list[JobContext] = []

    def executor(self, runner: Any) -> JobExecutor:
        def on_start() -> None:
            self.started += 1

        return JobExecutor(runner=runner, cache=BundleCache(self.outbox.path.parent / "bundles"),
                           results=self.results, logs=self.logs, lease=RobotLease(self.robot),
                           console_url=lambda: None, backend="sim", kit="sim",
                           on_start=on_start)  # fmt: skip

    def result(self, job: str) -> dict[str, Any]:
        (item,) = [p for p in self.outbox.pending() if p.job == job]
        return JobResult.model_validate_json(item.payload).result


@pytest.fixture
def parts(tmp_path: Path) -> Iterator[Parts]:
    p = Parts(tmp_path)
    yield p
    p.outbox.close()


def test_a_lesson_runs_with_the_robot_and_ends_with_its_result(parts: Parts) -> None:
    def runner(ctx: JobContext) -> dict[str, Any]:
        parts.seen.append(ctx)
        assert ctx.bundle.read_bytes() == BUNDLE and ctx.robot is parts.robot
        ctx.on_line("stdout", "driving")
        return {"status": "failed", "score": 40}  # graded: the job itself succeeded

    parts.executor(runner)(Running(lesson_job("j1", lesson=REF)))
    assert parts.outbox.job_status("j1") == ("SUCCEEDED", None)
    assert parts.result("j1") == {"status": "failed", "score": 40}
    assert parts.started == 1 and parts.robot.calls == ["stop"]  # it ends stopped
    assert parts.lines == [("j1", ["driving"])]
    assert parts.seen[0].backend == "sim" and parts.seen[0].job.time_limit_s == 300.0


@pytest.mark.parametrize(
    ("outcome", "status"),
    [("error", "FAILED"), ("timeout", "TIMED_OUT"), ("stopped", "CANCELED"), ("?", "FAILED")],
)
def test_the_lesson_status_says_the_job_status(parts: Parts, outcome: str, status: str) -> None:
    parts.executor(lambda ctx: {"status": outcome})(Running(lesson_job("j1", lesson=REF)))
    assert parts.outbox.job_status("j1") == (status, outcome)


def test_a_stopped_job_says_who_stopped_it(parts: Parts) -> None:
    running = Running(lesson_job("j1", lesson=REF))

    def runner(ctx: JobContext) -> dict[str, Any]:
        running.reason, running.status = "emergency stop by ms-li", Status.CANCELED
        ctx.stop.set()
        return {"status": "passed", "score": 100}

    parts.executor(runner)(running)
    assert parts.outbox.job_status("j1") == ("CANCELED", "emergency stop by ms-li")
    assert parts.result("j1")["status"] == "stopped"


def test_a_broken_runner_ends_failed_and_the_robot_stopped(parts: Parts) -> None:
    def runner(ctx: JobContext) -> dict[str, Any]:
        raise ZeroDivisionError("oops")

    parts.executor(runner)(Running(lesson_job("j1", lesson=REF)))
    assert parts.outbox.job_status("j1") == ("FAILED", "ZeroDivisionError: oops")
    assert parts.robot.calls == ["stop"]


def test_an_expired_job_or_a_bad_bundle_never_starts(parts: Parts) -> None:
    ran: list[str] = []
    execute = parts.executor(lambda ctx: ran.append("ran") or {"status": "passed"})
    now = time.time()
    execute(Running(lesson_job("old", lesson=REF, issued=now - 60, expires=now - 1)))
    assert parts.outbox.job_status("old") == ("REJECTED", "job expired before it could start")
    wrong = REF.model_copy(update={"sha256": "cd" * 32})
    execute(Running(lesson_job("bad", lesson=wrong)))
    assert parts.outbox.job_status("bad")[0] == "REJECTED"
    assert ran == [] and parts.started == 0 and parts.robot.calls == []


def test_a_failure_of_the_agent_itself_still_ends_the_job(parts: Parts) -> None:
    def stop() -> None:
        raise OSError("the motor board did not answer")

    parts.robot.stop = stop
    parts.executor(lambda ctx: {"status": "passed"})(Running(lesson_job("j1", lesson=REF)))
    status, reason = parts.outbox.job_status("j1") or ("", "")
    assert (
        status == "FAILED" and reason == "the agent failed: OSError: the motor board did not answer"
    )
    assert parts.result("j1")["status"] == "error"
