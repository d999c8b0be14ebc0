"""Each job's newest log lines, in memory, bounded per job and per device.

A robot can only push out its own jobs' lines: every device has its own
budget (a few jobs, a number of characters), and the console hands a batch
here only once :class:`fleet.console.jobguard.JobGuard` has said the job is
that device's::

    logs = JobLogs()
    logs.add("robot-01", "j5f3a", [{"job": "j5f3a", "stream": "stdout", "line": "lap 1"}])
    logs.get("j5f3a")        # [{"job": "j5f3a", "stream": "stdout", "line": "lap 1"}]
"""

from __future__ import annotations

import threading
from collections import OrderedDict, deque
from collections.abc import Iterable
from typing import Any

__all__ = ["JOB_LOGS_PER_DEVICE", "JOB_LOG_CHARS_PER_DEVICE", "JOB_LOG_LINES", "JobLogs"]

#: A job's newest lines kept.
JOB_LOG_LINES = 500
#: A device's newest jobs whose lines are kept.
JOB_LOGS_PER_DEVICE = 8
#: Characters of lines kept for one device's jobs together (its oldest go first).
JOB_LOG_CHARS_PER_DEVICE = 512 * 1024

Line = dict[str, Any]


class _JobLog:
    __slots__ = ("chars", "lines")

    def __init__(self, most: int) -> None:
        self.lines: deque[Line] = deque(maxlen=most)
        self.chars = 0


class JobLogs:
    """job -> its newest lines; a device's oldest jobs (then lines) go when it is over budget."""

    def __init__(
        self,
        *,
        lines_per_job: int = JOB_LOG_LINES,
        jobs_per_device: int = JOB_LOGS_PER_DEVICE,
        chars_per_device: int = JOB_LOG_CHARS_PER_DEVICE,
    ) -> None:
        self.lines_per_job = lines_per_job
        self.jobs_per_device = jobs_per_device
        self.chars_per_device = chars_per_device
        self._lock = threading.Lock()
        self._devices: dict[str, OrderedDict[str, _JobLog]] = {}
        self._device_of: dict[str, str] = {}

    def add(self, device: str, job: str, lines: Iterable[Line]) -> None:
        """Keep ``lines`` of ``device``'s ``job`` (the caller checked the job is the device's)."""
        with self._lock:
            jobs = self._devices.setdefault(device, OrderedDict())
            log = jobs.get(job)
            if log is None:
                log = jobs[job] = _JobLog(self.lines_per_job)
                self._device_of[job] = device
            jobs.move_to_end(job)
            for line in lines:
                if len(log.lines) == log.lines.maxlen:
                    log.chars -= len(log.lines[0].get("line", ""))
                log.lines.append(line)
                log.chars += len(line.get("line", ""))
            self._trim(jobs, keep=job)

    def _trim(self, jobs: OrderedDict[str, _JobLog], keep: str) -> None:
        """The device's oldest jobs out until it is within budget; then ``keep``'s oldest lines."""
        while len(jobs) > self.jobs_per_device or (
            len(jobs) > 1 and sum(x.chars for x in jobs.values()) > self.chars_per_device
        ):
            oldest, _ = jobs.popitem(last=False)
            self._device_of.pop(oldest, None)
        log = jobs[keep]
        while log.chars > self.chars_per_device and log.lines:
            log.chars -= len(log.lines.popleft().get("line", ""))

    def get(self, job: str) -> list[Line] | None:
        """The kept lines of ``job``, oldest first; None when none are kept."""
        with self._lock:
            device = self._device_of.get(job)
            if device is None:
                return None
            return list(self._devices[device][job].lines)

    def device_of(self, job: str) -> str | None:
        """The device whose lines of ``job`` are kept, if any are."""
        with self._lock:
            return self._device_of.get(job)

    def forget(self, devices: Iterable[str]) -> None:
        """Drop every kept line of ``devices``' jobs (a class purged)."""
        with self._lock:
            for device in devices:
                for job in self._devices.pop(device, {}):
                    self._device_of.pop(job, None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._device_of)
