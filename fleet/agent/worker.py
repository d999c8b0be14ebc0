"""The agent's jobs, one at a time: a queue, the one running, cancel and halt.

The worker's thread takes verified jobs in order and hands each to
``execute`` (:class:`fleet.agent.jobs.JobExecutor`). A lesson waits while the
room is e-stopped; installing a model never moves the robot, so it does not
wait. Whoever stops a running job (the teacher's cancel, the e-stop, the
offline watch, the agent closing) sets its stop event and says why; the
first reason stays unless it is forced::

    with JobWorker(execute, latch, name="robot-07").start() as worker:
        worker.submit(doc)
        worker.cancel(doc.job)            # "queued", "running" or None
        worker.halt("emergency stop by ms-li", Status.CANCELED)
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, Protocol, Self

from fleet.core.protocol import JobDocument, Status
from rcbase.closeable import Closeable

__all__ = ["Gate", "JobWorker", "Running"]

logger = logging.getLogger(__name__)

#: How often a lesson waiting for the e-stop to clear looks whether the agent is closing.
WAIT_STEP_S = 0.25


class Gate(Protocol):
    """What a lesson waits for (:class:`fleet.agent.estop.EStopLatch` is one)."""

    @property
    def active(self) -> bool: ...

    def wait_clear(self, timeout: float | None = None) -> bool: ...


@dataclass
class Running:
    """The job running now, its stop event, and why it was stopped (if it was)."""

    job: JobDocument
    stop: threading.Event = field(default_factory=threading.Event)
    #: Set with :attr:`status` by whoever stops the job; the job's result says it.
    reason: str | None = None
    status: Status | None = None

    @property
    def stopping(self) -> bool:
        return self.stop.is_set()


class JobWorker(Closeable):
    """Runs queued jobs one at a time on its own thread."""

    def __init__(
        self,
        execute: Callable[[Running], None],
        gate: Gate,
        *,
        name: str = "agent",
        on_done: Callable[[], None] | None = None,
    ) -> None:
        self._execute = execute
        self._gate = gate
        self._on_done = on_done
        self._lock = threading.Lock()
        self._queue: queue.Queue[JobDocument | None] = queue.Queue()
        self._queued: set[str] = set()
        self._running: Running | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._work, name=f"agent-{name}-jobs", daemon=True)

    def start(self) -> Self:
        if not self._thread.is_alive() and not self.closed:
            self._thread.start()
        return self

    # -- what others may read ------------------------------------------------

    @property
    def current(self) -> Running | None:
        return self._running

    @property
    def current_job(self) -> str | None:
        running = self._running
        return None if running is None else running.job.job

    @property
    def busy(self) -> bool:
        return self._running is not None

    def queued(self) -> list[str]:
        """The jobs waiting (sorted by id)."""
        with self._lock:
            return sorted(self._queued)

    # -- what others may ask -------------------------------------------------

    def submit(self, doc: JobDocument) -> None:
        """Queue a verified job (say QUEUED first: the worker may start it at once)."""
        with self._lock:
            self._queued.add(doc.job)
        self._queue.put(doc)

    def cancel(self, job: str) -> Literal["running", "queued"] | None:
        """Cancel ``job``: stop it if it runs, drop it if it waits; where it was, or None."""
        with self._lock:
            running = self._running
            if running is not None and running.job.job == job:
                self._halt(running, "canceled by the teacher", Status.CANCELED)
                return "running"
            if job in self._queued:
                self._queued.discard(job)
                return "queued"
        return None

    def halt(
        self, reason: str, status: Status, *, job: str | None = None, force: bool = False
    ) -> bool:
        """Stop the running job (only if it is ``job``, when given); True if one was stopped.

        A job already stopping keeps its first reason unless ``force``.
        """
        with self._lock:
            running = self._running
            if running is None or (job is not None and running.job.job != job):
                return False
            if running.stopping and not force:
                return False
            self._halt(running, reason, status)
            return True

    @staticmethod
    def _halt(running: Running, reason: str, status: Status) -> None:
        running.reason = reason
        running.status = status
        running.stop.set()

    # -- the thread ----------------------------------------------------------

    def _close(self) -> None:
        self._stop.set()
        self.halt("the agent stopped", Status.FAILED, force=True)
        self._queue.put(None)
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _work(self) -> None:
        while not self._stop.is_set():
            doc = self._queue.get()
            if doc is None:
                return
            running = self._begin(doc)
            if running is None:
                continue
            try:
                self._execute(running)
            except Exception:  # execute ends every job itself; this is a bug, not the job's
                logger.exception("job %s ended without a final status", doc.job)
            finally:
                with self._lock:
                    self._running = None
                if self._on_done is not None:
                    self._on_done()

    def _begin(self, doc: JobDocument) -> Running | None:
        """The job as running, once it may start; None if canceled or the agent is closing."""
        while not self._stop.is_set():
            with self._lock:
                if doc.job not in self._queued:
                    return None  # canceled while queued
                # Read under our lock: an e-stop sets the gate before it halts the running
                # job, so a lesson either sees it here or is halted once it runs.
                if doc.lesson is None or not self._gate.active:
                    self._queued.discard(doc.job)
                    running = Running(doc)
                    self._running = running
                    return running
            self._gate.wait_clear(WAIT_STEP_S)
        return None
