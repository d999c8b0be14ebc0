"""Job statuses and results to the console; results re-sent from the outbox until acked.

A result goes into the :class:`~fleet.agent.outbox.Outbox` *before* it is
published, in the same transaction as the job's final status, and leaves it
only when the console acks it. The sender's thread publishes every result
not yet acked: a new one at once, one already sent on this connection again
after ``resend_s`` (so a finished job does not re-send every other result
still waiting for its ack), and all of them again after a reconnect::

    with ResultSender(outbox, link, topics, "robot-07").start() as results:
        results.status("j1", Status.IN_PROGRESS)
        results.finish("j1", Status.SUCCEEDED, {"status": "passed"}, None)
        results.acked(result_id)         # the console's ack
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol, Self

from fleet.agent.outbox import Outbox
from fleet.core.protocol import MAX_PAYLOAD, JobResult, JobStatus, Status, Topics, encode
from rcbase.closeable import Closeable

__all__ = ["FORGOTTEN", "Publisher", "ResultSender", "fit_result"]

logger = logging.getLogger(__name__)

#: A job's state in the outbox when it was queued as the agent stopped: the console
#: sends it again on the agent's next birth, and it is taken as new then.
FORGOTTEN = "FORGOTTEN"
#: The longest reason a status carries (JobStatus's limit).
MAX_REASON = 500


class Publisher(Protocol):
    """What the sender publishes with (:class:`fleet.core.link.Link` is one)."""

    @property
    def connected(self) -> bool: ...

    def publish(
        self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False
    ) -> bool: ...


def _size(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False).encode())


def fit_result(result: dict[str, Any]) -> dict[str, Any]:
    """Trim a result's output (its tail is kept) so the message fits the size limit."""
    room = MAX_PAYLOAD - 4096
    if _size(result) <= room:
        return result
    trimmed = {**result, "output": "", "truncated": True}
    left = room - _size(trimmed)
    output = result.get("output")
    if left > 0 and isinstance(output, str):
        tail = output[-(left // 4) :]  # up to 4 bytes per character once escaped
        trimmed["output"] = tail
        return trimmed
    if left > 0:
        return trimmed
    keep = ("lesson", "status", "score", "run_status", "seconds", "error", "reason", "explanation")
    return {k: result[k] for k in keep if k in result} | {"truncated": True}


class ResultSender(Closeable):
    """Says each job's status and keeps sending its result until the console acks it."""

    def __init__(
        self,
        outbox: Outbox,
        link: Publisher,
        topics: Topics,
        device: str,
        *,
        resend_s: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.outbox = outbox
        self.device = device
        self.resend_s = resend_s
        self._link = link
        self._topics = topics
        self._clock = clock
        self._lock = threading.Lock()
        #: result id -> when it was last published on the current connection
        self._sent: dict[str, float] = {}
        self._nudge = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"agent-{device}-results", daemon=True
        )

    def start(self) -> Self:
        if not self._thread.is_alive() and not self.closed:
            self._thread.start()
        return self

    def _close(self) -> None:
        self._stop.set()
        self._nudge.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    # -- statuses and results ------------------------------------------------

    def status(self, job: str, status: Status, reason: str | None = None) -> None:
        """Note ``job``'s status here and say it to the console (QoS 1, not kept if offline)."""
        reason = None if reason is None else reason[:MAX_REASON]
        self.outbox.set_job(job, status.value, reason)
        msg = JobStatus(device=self.device, job=job, status=status, reason=reason, ts=time.time())
        self._link.publish(self._topics.status(self.device, job), encode(msg))

    def finish(
        self, job: str, status: Status, result: dict[str, Any] | None, reason: str | None
    ) -> None:
        """The job's final status; its result (if any) goes into the outbox first."""
        if result is not None:
            if reason is not None and not result.get("reason"):
                # The result carries the reason: after a time offline it may reach
                # the console without the status message that also said it.
                result = {**result, "reason": reason}
            msg = JobResult(
                device=self.device,
                job=job,
                result_id=secrets.token_hex(16),
                status=status,
                result=fit_result(result),
                ts=time.time(),
            )
            topic = self._topics.result(self.device, job)
            self.outbox.put(msg.result_id, job, topic, encode(msg), status.value, reason)
        self.status(job, status, reason)
        self.nudge()

    def recover(self) -> None:
        """Jobs a previous run left behind end in a clear state now."""
        for job in self.outbox.jobs_in({Status.IN_PROGRESS.value}):
            logger.warning("job %s was running when the agent stopped: FAILED", job)
            reason = "the agent restarted during the run"
            self.finish(job, Status.FAILED, {"status": "error", "reason": reason}, reason)
        for job in self.outbox.jobs_in({Status.QUEUED.value}):
            self.outbox.set_job(job, FORGOTTEN)  # the console re-sends it on our birth

    # -- acks and re-sends ---------------------------------------------------

    def acked(self, *result_ids: str) -> None:
        """The console has these results: forget them."""
        self.outbox.ack(*result_ids)
        with self._lock:
            for result_id in result_ids:
                self._sent.pop(result_id, None)

    def connected(self) -> None:
        """A new connection: every result not yet acked goes again, now."""
        with self._lock:
            self._sent.clear()
        self.nudge()

    def nudge(self) -> None:
        """Send what is due now rather than at the next ``resend_s``."""
        self._nudge.set()

    def send_due(self) -> int:
        """Publish the results not acked and not sent in the last ``resend_s``; how many."""
        sent = 0
        now = self._clock()
        for item in self.outbox.pending():
            with self._lock:
                last = self._sent.get(item.result_id)
            if last is not None and now - last < self.resend_s:
                continue
            if self._link.publish(item.topic, item.payload):
                sent += 1
                with self._lock:
                    self._sent[item.result_id] = now
        return sent

    def _run(self) -> None:
        while not self._stop.is_set():
            self._nudge.wait(self.resend_s)
            self._nudge.clear()
            if self._stop.is_set():
                return
            if self._link.connected:
                try:
                    self.send_due()
                except Exception:  # a broken database must not end the re-sends for good
                    logger.exception("sending results failed")
