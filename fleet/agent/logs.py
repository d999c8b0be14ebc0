"""A job's output to the console: lines batched, and throttled when a program floods them.

A student's ``while True: print(...)`` must not flood the room's broker. The
forwarder keeps lines until :meth:`LogForwarder.flush` (the agent flushes
every :data:`LOG_BATCH_S`) or until a batch is full, and lets through
:data:`LOG_CHARS_PER_S` characters a second on average, :data:`LOG_CHARS_BURST`
at once. Lines beyond that are counted and said once ("... N lines not
sent"); the job's result keeps the output's tail anyway::

    logs = LogForwarder(lambda job, lines: publish(LogBatch(device=..., job=job, lines=lines)))
    logs.line("j1", "stdout", "hello")
    logs.flush()
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from fleet.core.limits import TokenBucket
from fleet.core.protocol import LogLine

__all__ = [
    "BATCH_LINES",
    "LOG_BATCH_S",
    "LOG_CHARS_BURST",
    "LOG_CHARS_PER_S",
    "LogForwarder",
    "SendLines",
]

#: How often the agent flushes the lines it has (seconds).
LOG_BATCH_S = 0.25
#: A job's output on up/log: characters a second on average, and at once.
LOG_CHARS_PER_S = 4000
LOG_CHARS_BURST = 32_000
#: Lines in one batch at most before it goes at once (a LogBatch holds up to 200).
BATCH_LINES = 100
#: The longest line sent (a LogLine's limit); longer ones are cut.
MAX_LINE = 2000
#: What a line costs beyond its characters (so empty lines are not free).
LINE_COST = 16

#: Sends one batch: (job or None for the agent's own lines, the lines).
SendLines = Callable[[str | None, list[LogLine]], None]


class LogForwarder:
    """Batches and throttles a job's output lines; thread-safe, no thread of its own."""

    def __init__(
        self,
        send: SendLines,
        *,
        chars_per_s: float = LOG_CHARS_PER_S,
        burst: float = LOG_CHARS_BURST,
    ) -> None:
        self._send = send
        self._chars_per_s = chars_per_s
        self._lock = threading.Lock()
        self._bucket = TokenBucket(chars_per_s, burst)
        self._lines: list[LogLine] = []
        self._skipped = 0
        self._job: str | None = None

    def line(self, job: str, stream: str, text: str) -> None:
        """One line of ``job``'s output (``stream``: stdout, stderr, or anything: agent)."""
        kind = stream if stream in ("stdout", "stderr") else "agent"
        text = text[:MAX_LINE]
        with self._lock:
            self._job = job
            if not self._bucket.take(len(text) + LINE_COST):
                self._skipped += 1
                return
            self._lines.append(LogLine(stream=kind, line=text))
            full = len(self._lines) >= BATCH_LINES
        if full:
            self.flush()

    def flush(self) -> None:
        """Send the lines kept so far (and how many were held back), if any."""
        with self._lock:
            if self._skipped:
                self._lines.append(
                    LogLine(
                        stream="agent",
                        line=f"... {self._skipped} lines not sent (more than "
                        f"{self._chars_per_s:.0f} characters a second); "
                        "the result keeps the last lines",
                    )
                )
                self._skipped = 0
            lines, self._lines = self._lines, []
            job = self._job
        if lines:
            self._send(job, lines)

    def say(self, job: str | None, *texts: str) -> None:
        """Send the agent's own lines at once (not throttled: the agent says little)."""
        if texts:
            self._send(job, [LogLine(stream="agent", line=t[:MAX_LINE]) for t in texts])
