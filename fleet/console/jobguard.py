"""A job's status, result and log are taken only from the device the job was pushed to.

The broker lets a robot write only under its own ``dev/{device}/up/``, and
:func:`fleet.core.protocol.decode` checks that a payload names the device of
its topic; but a robot may still name *any* job in its topic. The console
asks the jobs store who each job was pushed to and drops the rest::

    guard = JobGuard(db.jobs.owners, drops)
    if guard.accepts("robot-01", "j5f3a"):      # robot-02's job: False, counted
        ...

A message for another device's job is counted as ``foreign_job`` in the
console's :class:`~fleet.core.protocol.DropCounter` (``GET /api/v1/stats``),
per sending device in :attr:`JobGuard.refused`, and logged at most once a
minute per device. One for a job the console never pushed is ``unknown_job``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable

from fleet.core.protocol import DropCounter

__all__ = ["FOREIGN_JOB", "UNKNOWN_JOB", "WARN_EVERY_S", "JobGuard"]

logger = logging.getLogger(__name__)

#: Drop reasons: a job pushed to another device; a job the console never pushed.
FOREIGN_JOB = "foreign_job"
UNKNOWN_JOB = "unknown_job"
#: At most one warning per sending device this often (s); every drop is counted.
WARN_EVERY_S = 60.0
#: Jobs whose device is remembered (a job never moves to another device).
OWNERS_KEPT = 4096

Owners = Callable[[list[str]], dict[str, str]]


class JobGuard:
    """Who each job was pushed to (from the store, remembered), and the drops of the rest."""

    def __init__(
        self,
        owners: Owners,
        drops: DropCounter,
        *,
        clock: Callable[[], float] = time.monotonic,
        warn_every_s: float = WARN_EVERY_S,
    ) -> None:
        self._owners = owners
        self._drops = drops
        self._clock = clock
        self._warn_every_s = warn_every_s
        self._lock = threading.Lock()
        self._known: OrderedDict[str, str] = OrderedDict()
        self._warned: dict[str, float] = {}
        #: Messages refused per sending device (another device's job, or no job of ours).
        self.refused: Counter[str] = Counter()

    def owners(self, jobs: Iterable[str]) -> dict[str, str]:
        """The device each of ``jobs`` was pushed to; jobs the console never pushed are left out."""
        wanted = set(jobs)
        with self._lock:
            found = {job: self._known[job] for job in wanted if job in self._known}
        missing = sorted(wanted - found.keys())
        if missing:
            fresh = self._owners(missing)
            with self._lock:
                for job, device in fresh.items():
                    self._known[job] = device
                    self._known.move_to_end(job)
                while len(self._known) > OWNERS_KEPT:
                    self._known.popitem(last=False)
            found.update(fresh)
        return found

    def accepts(self, device: str, job: str, kind: str = "message") -> bool:
        """True when ``job`` was pushed to ``device``; else the message is counted as dropped."""
        return self.judge(device, job, self.owners([job]).get(job), kind)

    def judge(self, device: str, job: str, owner: str | None, kind: str = "message") -> bool:
        """:meth:`accepts` with the job's ``owner`` already looked up (a batch of results)."""
        if owner == device:
            return True
        reason = UNKNOWN_JOB if owner is None else FOREIGN_JOB
        self._drops.add(reason)
        now = self._clock()
        with self._lock:
            self.refused[device] += 1
            count = self.refused[device]
            last = self._warned.get(device)
            warn = last is None or now - last >= self._warn_every_s
            if warn:
                self._warned[device] = now
        if warn:
            logger.warning(
                "dropped a %s from %s for job %s (%s); %d dropped from %s so far",
                kind,
                device,
                job,
                "another robot's job" if owner is not None else "not a job of this console",
                count,
                device,
            )
        return False

    def clear(self) -> None:
        """Forget the jobs remembered (jobs were deleted from the store: a class purged)."""
        with self._lock:
            self._known.clear()
