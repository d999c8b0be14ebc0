"""Stop a running lesson when the broker has been gone longer than the lesson allows.

A job says how long it may run without the console (``max_offline_s``): a
robot out of reach of the teacher's STOP must not drive on for long. The
agent tells the watch when its connection goes and comes back, and calls
:meth:`OfflineWatch.check` a few times a second::

    watch = OfflineWatch(worker, lease)
    watch.lost()            # the link's on_disconnect
    watch.check()           # the agent's heartbeat: stops the robot and the job once too long
    watch.back()            # the link's on_connect

Jobs queued while offline still run (each may be stopped by its own limit).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from fleet.agent.lease import RobotLease
from fleet.agent.worker import JobWorker
from fleet.core.protocol import Status

__all__ = ["OfflineWatch"]

logger = logging.getLogger(__name__)


class OfflineWatch:
    """Knows since when the broker is gone, and stops the job that outlives its limit."""

    def __init__(
        self,
        worker: JobWorker,
        lease: RobotLease,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._worker = worker
        self._lease = lease
        self._clock = clock
        self._lock = threading.Lock()
        self._since: float | None = None

    @property
    def since(self) -> float | None:
        """When (``clock``) the broker went; None while connected."""
        return self._since

    def lost(self) -> None:
        with self._lock:
            self._since = self._clock()

    def back(self) -> None:
        with self._lock:
            self._since = None

    def check(self) -> bool:
        """Stop the running job (and the robot) if offline longer than it allows; True if so."""
        with self._lock:
            since = self._since
        running = self._worker.current
        if since is None or running is None or running.stopping:
            return False
        allowed = running.job.max_offline_s
        if self._clock() - since <= allowed:
            return False
        logger.warning("lost the broker for > %.0f s: stopping job %s", allowed, running.job.job)
        self._lease.stop()
        reason = f"lost the console for more than {allowed:.0f} s"
        return self._worker.halt(reason, Status.FAILED, job=running.job.job)
