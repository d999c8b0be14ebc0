"""The device's own small database: results not yet acked, and jobs it has seen.

A result goes into the outbox *before* it is published and leaves it only
when the console acks it, so a broker restart, a Wi-Fi drop or an agent
restart loses nothing. Jobs seen are remembered so a job the console re-sends
is never run twice::

    with Outbox(path) as box:
        box.put(result_id, job, topic, payload)
        for item in box.pending(): ...
        box.ack(result_id)
"""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from rcbase.closeable import Closeable

__all__ = ["Outbox", "Pending"]

_SCHEMA = [
    """CREATE TABLE IF NOT EXISTS outbox (
        result_id TEXT PRIMARY KEY, job TEXT NOT NULL, topic TEXT NOT NULL,
        payload BLOB NOT NULL, created REAL NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS jobs (
        job TEXT PRIMARY KEY, status TEXT NOT NULL, reason TEXT, updated REAL NOT NULL)""",
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
]

_SET_JOB = (
    "INSERT INTO jobs VALUES (?, ?, ?, ?) ON CONFLICT(job) DO UPDATE SET "
    "status = excluded.status, reason = excluded.reason, updated = excluded.updated"
)


@dataclass(frozen=True)
class Pending:
    result_id: str
    job: str
    topic: str
    payload: bytes


class Outbox(Closeable):
    """SQLite (WAL) at ``path``; every method is thread-safe."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        for statement in _SCHEMA:
            self._db.execute(statement)
        #: results waiting for their ack, kept here too: telemetry and the re-send
        #: check ask several times a second, and most of the time it is 0
        self._waiting = int(self._db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])

    # -- results -------------------------------------------------------------

    def put(
        self,
        result_id: str,
        job: str,
        topic: str,
        payload: bytes,
        status: str | None = None,
        reason: str | None = None,
    ) -> None:
        """Keep a result; with ``status``, the job's final status in the same transaction.

        One transaction, so an agent killed in between never finds a job still
        running whose result is already waiting to be sent.
        """
        now = time.time()
        with self._lock:
            self._db.execute("BEGIN")
            try:
                added = self._db.execute(
                    "INSERT OR IGNORE INTO outbox VALUES (?, ?, ?, ?, ?)",
                    (result_id, job, topic, payload, now),
                ).rowcount
                if status is not None:
                    self._db.execute(_SET_JOB, (job, status, reason, now))
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
            self._waiting += added

    def count(self) -> int:
        """How many results wait for their ack."""
        with self._lock:
            return self._waiting

    def pending(self) -> list[Pending]:
        with self._lock:
            if self._waiting == 0:
                return []
            rows = self._db.execute(
                "SELECT result_id, job, topic, payload FROM outbox ORDER BY created"
            ).fetchall()
        return [Pending(r[0], r[1], r[2], bytes(r[3])) for r in rows]

    def ack(self, *result_ids: str) -> int:
        """Forget acked results; how many were still here."""
        with self._lock:
            self._db.execute("BEGIN")
            try:
                cur = self._db.executemany(
                    "DELETE FROM outbox WHERE result_id = ?", [(r,) for r in result_ids]
                )
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
            self._waiting -= cur.rowcount
        return cur.rowcount

    # -- jobs seen -----------------------------------------------------------

    def job_status(self, job: str) -> tuple[str, str | None] | None:
        with self._lock:
            row = self._db.execute(
                "SELECT status, reason FROM jobs WHERE job = ?", (job,)
            ).fetchone()
        return None if row is None else (str(row[0]), row[1])

    def set_job(self, job: str, status: str, reason: str | None = None) -> None:
        with self._lock:
            self._db.execute(_SET_JOB, (job, status, reason, time.time()))

    def jobs_in(self, statuses: set[str]) -> list[str]:
        marks = ",".join("?" * len(statuses))
        with self._lock:
            rows = self._db.execute(
                f"SELECT job FROM jobs WHERE status IN ({marks})",  # noqa: S608 - only placeholders
                sorted(statuses),
            ).fetchall()
        return [str(r[0]) for r in rows]

    # -- small settings ------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def forget_room(self) -> None:
        """Drop everything owed to or learnt from this room (the robot is moving to another):
        unsent results, job states, the e-stop epoch. The next room starts from nothing."""
        with self._lock:
            for table in ("outbox", "jobs", "meta"):
                self._db.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
            self._waiting = 0

    # -- lifecycle -----------------------------------------------------------

    def _close(self) -> None:
        with self._lock:
            self._db.close()
