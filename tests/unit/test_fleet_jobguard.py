"""A job's status, result and log count only from the robot the job was pushed to, and a
robot's log lines cannot push another robot's job log out of the console's memory.

The attacks go through the console's own ingest (``Console._on_message``, what the
broker delivers); tests/security/test_fleet_attacks.py makes them over real Mosquitto.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from fleet.console.api import ApiServer
from fleet.console.console import Console, ConsoleConfig
from fleet.console.jobguard import FOREIGN_JOB, UNKNOWN_JOB, JobGuard
from fleet.console.joblogs import JOB_LOGS_PER_DEVICE, JobLogs
from fleet.console.store import JobState
from fleet.core.protocol import (
    DeviceState,
    DropCounter,
    JobResult,
    JobStatus,
    LogBatch,
    LogLine,
    Status,
    encode,
)
from tests.conftest import free_port


@pytest.fixture
def console(tmp_path: Path) -> Iterator[Console]:
    # no broker: messages are handed to the ingest as the network thread would
    with Console(ConsoleConfig("127.0.0.1", free_port(), tmp_path / "console")) as c:
        for device in ("robot-01", "robot-02"):
            born = DeviceState(device=device, session=f"s-{device}", online=True, ts=time.time())
            c._on_message(c.topics.state(device), encode(born))
        c.db.jobs.add_many(
            [
                ("j1", "robot-01", "line-follow", "0" * 64, "{}"),
                ("j2", "robot-02", "line-follow", "0" * 64, "{}"),
            ]
        )
        yield c


def result(device: str, job: str, score: float) -> JobResult:
    graded = "passed" if score == 100 else "failed"
    return JobResult(
        device=device,
        job=job,
        result_id=f"res-{device}-{job}-{score}",
        status=Status.SUCCEEDED if score == 100 else Status.FAILED,
        result={"status": graded, "score": score},
        ts=time.time(),
    )


def send_result(console: Console, msg: JobResult) -> None:
    console._on_message(console.topics.result(msg.device, msg.job), encode(msg))


def say(console: Console, device: str, job: str | None, *lines: str) -> None:
    batch = LogBatch(
        device=device, job=job, lines=[LogLine(stream="stdout", line=x) for x in lines]
    )
    console._on_message(console.topics.log(device), encode(batch))


def test_a_result_for_another_robots_job_is_dropped_counted_and_the_real_one_kept(
    console: Console, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "fleet.console.jobguard")
    # robot-01's certificate, under robot-01's own topic, naming robot-02's job
    for score in (0, 1, 2):
        send_result(console, result("robot-01", "j2", score))
    status = JobStatus(device="robot-01", job="j2", status=Status.FAILED, reason="forged", ts=1.0)
    console._on_message(console.topics.status("robot-01", "j2"), encode(status))
    assert console.wait_for(lambda: console.drops.snapshot().get(FOREIGN_JOB) == 4, 5)
    assert console.guard.refused == {"robot-01": 4}
    assert not console.db.results.list()
    job = console.db.jobs.get("j2")
    assert job is not None and (job.status, job.reason) == (JobState.PENDING, None)
    # logged once for robot-01, however many it sends
    warned = [r.getMessage() for r in caplog.records if "robot-01" in r.getMessage()]
    assert len(warned) == 1 and "another robot's job" in warned[0]

    # robot-02's real result: stored, and the teacher sees its score
    send_result(console, result("robot-02", "j2", 100))
    assert console.wait_for(lambda: len(console.db.results.list()) == 1, 5)
    (stored,) = console.db.results.list()
    assert (stored.device, stored.job, stored.score) == ("robot-02", "j2", 100)
    job = console.db.jobs.get("j2")
    assert job is not None and job.status == JobState.SUCCEEDED
    assert console.results_stored == 1 and console.results_duplicate == 0
    assert console.drops.snapshot() == {FOREIGN_JOB: 4}


def test_a_result_for_a_job_never_pushed_is_dropped(console: Console) -> None:
    send_result(console, result("robot-01", "j-made-up", 100))
    send_result(console, result("robot-01", "j1", 100))  # its own: stored
    assert console.wait_for(lambda: console.results_stored == 1, 5)
    assert [r.job for r in console.db.results.list()] == ["j1"]
    assert console.drops.snapshot() == {UNKNOWN_JOB: 1}


def test_log_lines_for_another_robots_job_go_nowhere(console: Console) -> None:
    say(console, "robot-02", "j2", "robot-02's own line")
    say(console, "robot-01", "j2", "a fake line in robot-02's log")
    say(console, "robot-01", "j1", "robot-01's own line")
    assert [x["line"] for x in console.job_log("j2") or []] == ["robot-02's own line"]
    assert [x["line"] for x in console.logs["robot-01"]] == ["robot-01's own line"]
    assert console.drops.snapshot() == {FOREIGN_JOB: 1}


def test_made_up_job_ids_cannot_push_another_robots_job_log_out(console: Console) -> None:
    say(console, "robot-02", "j2", "robot-02's lap 1")
    for n in range(205):  # the attack of issue 19: 205 batches, each for a made-up job
        say(console, "robot-01", f"jfake{n:03d}", f"junk {n}")
    assert [x["line"] for x in console.job_log("j2") or []] == ["robot-02's lap 1"]
    assert console.job_log("jfake000") is None  # never a job of this console: no job log
    assert len(console.logs["robot-01"]) <= 200  # the robot's own log stays bounded
    assert console.drops.total == 0  # its own log is its own business


def test_a_robot_with_many_jobs_evicts_only_its_own_logs() -> None:
    logs = JobLogs(lines_per_job=3, jobs_per_device=2, chars_per_device=100)
    logs.add("robot-02", "theirs", [{"line": "kept"}])
    for n in range(10):
        logs.add("robot-01", f"mine{n}", [{"line": f"{n}-{i}"} for i in range(5)])
    assert logs.get("theirs") == [{"line": "kept"}]
    assert len(logs) == 3  # robot-01's newest two, and robot-02's
    assert logs.get("mine9") == [{"line": "9-2"}, {"line": "9-3"}, {"line": "9-4"}]
    assert logs.get("mine7") is None
    logs.add("robot-01", "mine9", [{"line": "x" * 60}, {"line": "y" * 60}])
    assert logs.get("mine8") is None  # over its characters: its older job goes first
    assert logs.get("mine9") == [{"line": "y" * 60}]  # then the job's oldest lines
    assert logs.get("theirs") == [{"line": "kept"}]
    logs.forget(["robot-01"])
    assert len(logs) == 1 and logs.device_of("theirs") == "robot-02"
    assert JOB_LOGS_PER_DEVICE >= 2


def test_the_guard_warns_again_after_a_while_and_remembers_owners() -> None:
    asked: list[list[str]] = []
    now = [0.0]

    def owners(jobs: list[str]) -> dict[str, str]:
        asked.append(jobs)
        return {j: "robot-02" for j in jobs if j.startswith("j")}

    drops = DropCounter()
    guard = JobGuard(owners, drops, clock=lambda: now[0], warn_every_s=60)
    assert guard.accepts("robot-02", "j2")
    assert guard.accepts("robot-02", "j2")
    assert asked == [["j2"]]  # a job never moves: asked once
    assert not guard.accepts("robot-01", "j2")
    assert not guard.accepts("robot-01", "x9")
    assert drops.snapshot() == {FOREIGN_JOB: 1, UNKNOWN_JOB: 1}
    assert guard.refused == {"robot-01": 2}
    guard.clear()
    assert guard.accepts("robot-02", "j2") and asked[-1] == ["j2"]


def test_the_teacher_reads_the_drops_in_the_stats(console: Console) -> None:
    send_result(console, result("robot-01", "j2", 0))
    assert console.wait_for(lambda: console.drops.total == 1, 5)
    console.db.accounts.add_teacher("ms-li", "a long secret")
    token = console.db.accounts.new_token("ms-li", "test")
    with ApiServer(console) as server:
        request = urllib.request.Request(
            f"{server.url}/api/v1/stats", headers={"Authorization": f"Bearer {token}"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            stats = json.load(response)
    assert stats["dropped"] == {FOREIGN_JOB: 1}
    assert stats["results_stored"] == 0
