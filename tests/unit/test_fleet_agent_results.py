"""The result sender on its own: the outbox first, re-sends until acked, statuses, recovery."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from fleet.agent.outbox import Outbox
from fleet.agent.results import FORGOTTEN, ResultSender, fit_result
from fleet.core.protocol import MAX_PAYLOAD, JobResult, JobStatus, Status, Topics
from tests.unit.agent_fakes import FakeClock, FakeLink, wait_for

TOPICS = Topics("school", "room1")


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[Outbox]:
    with Outbox(tmp_path / "agent.sqlite") as box:
        yield box


def sender(outbox: Outbox, link: FakeLink, clock: FakeClock | None = None) -> ResultSender:
    return ResultSender(outbox, link, TOPICS, "r1", resend_s=2.0, clock=clock or FakeClock())


def results_sent(link: FakeLink) -> list[JobResult]:
    return [
        JobResult.model_validate_json(s.payload) for s in link.sent if s.topic.endswith("/result")
    ]


def test_a_result_is_kept_before_its_status_is_said(outbox: Outbox) -> None:
    link = FakeLink()
    results = sender(outbox, link)
    results.finish("j1", Status.FAILED, {"status": "error"}, "the lesson broke")
    assert outbox.job_status("j1") == ("FAILED", "the lesson broke")
    (pending,) = outbox.pending()
    assert pending.topic == TOPICS.result("r1", "j1")
    kept = JobResult.model_validate_json(pending.payload)
    assert kept.result == {"status": "error", "reason": "the lesson broke"}  # it says why too
    (said,) = link.sent
    assert said.topic == TOPICS.status("r1", "j1") and not said.retain
    assert JobStatus.model_validate_json(said.payload).reason == "the lesson broke"


def test_results_are_re_sent_until_acked(outbox: Outbox) -> None:
    link, clock = FakeLink(), FakeClock()
    results = sender(outbox, link, clock)
    results.finish("j1", Status.SUCCEEDED, {"status": "passed"}, None)
    assert results.send_due() == 1  # new: at once
    results.finish("j2", Status.SUCCEEDED, {"status": "passed"}, None)
    assert results.send_due() == 1  # only j2: j1 waits resend_s for its ack
    clock.now += 2.5
    assert results.send_due() == 2  # neither acked: both again
    first = results_sent(link)[0].result_id
    results.acked(first, "unknown")
    assert outbox.count() == 1
    clock.now += 2.5
    assert results.send_due() == 1
    assert results_sent(link)[-1].job == "j2"


def test_a_new_connection_sends_everything_not_acked_again(outbox: Outbox) -> None:
    link = FakeLink()
    results = sender(outbox, link)
    results.finish("j1", Status.SUCCEEDED, {"status": "passed"}, None)
    assert results.send_due() == 1
    assert results.send_due() == 0
    results.connected()
    assert results.send_due() == 1


def test_nothing_counts_as_sent_while_offline(outbox: Outbox) -> None:
    link = FakeLink(connected=False)
    results = sender(outbox, link)
    results.finish("j1", Status.SUCCEEDED, {"status": "passed"}, None)  # the status is lost
    assert results.send_due() == 0
    link.up = True
    assert results.send_due() == 1  # the result is not
    assert outbox.count() == 1


def test_the_thread_sends_a_new_result_at_once(outbox: Outbox) -> None:
    link = FakeLink()
    with ResultSender(outbox, link, TOPICS, "r1", resend_s=60).start() as results:
        results.finish("j1", Status.SUCCEEDED, {"status": "passed"}, None)
        assert wait_for(lambda: len(results_sent(link)) == 1, 5)
    assert results.closed and not results._thread.is_alive()


def test_jobs_left_behind_by_a_previous_run_end_clearly(outbox: Outbox) -> None:
    outbox.set_job("running", Status.IN_PROGRESS.value)
    outbox.set_job("waiting", Status.QUEUED.value)
    outbox.set_job("done", Status.SUCCEEDED.value)
    link = FakeLink(connected=False)
    sender(outbox, link).recover()
    assert outbox.job_status("running") == ("FAILED", "the agent restarted during the run")
    assert outbox.job_status("waiting") == (FORGOTTEN, None)  # the console sends it again
    assert outbox.job_status("done") == ("SUCCEEDED", None)
    (kept,) = outbox.pending()
    assert JobResult.model_validate_json(kept.payload).result["status"] == "error"


def test_a_long_reason_is_cut_to_the_status_limit(outbox: Outbox) -> None:
    link = FakeLink()
    sender(outbox, link).status("j1", Status.REJECTED, "x" * 900)
    assert len(JobStatus.model_validate_json(link.sent[0].payload).reason or "") == 500


def test_a_huge_output_is_trimmed_to_its_tail() -> None:
    small = {"status": "passed", "output": "hello"}
    assert fit_result(small) is small
    huge = {"status": "passed", "score": 90, "output": "a" * MAX_PAYLOAD + "the end"}
    fitted = fit_result(huge)
    assert fitted["truncated"] and fitted["output"].endswith("the end")
    assert len(json.dumps(fitted)) < MAX_PAYLOAD - 4096
    nothing_fits = {"status": "passed", "score": 90, "junk": "b" * MAX_PAYLOAD}
    assert fit_result(nothing_fits) == {"status": "passed", "score": 90, "truncated": True}
