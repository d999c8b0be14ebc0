"""Jobs the console pushed, and where each one is.

The store is the source of truth: what it says is pending is sent again
when a device is born again. Jobs made in one transaction share their
``created`` time: ``rowid`` (SQLite's own; a column on PostgreSQL) keeps
them in the order they were made.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from fleet.console.store.records import Job, JobState, PendingJob, StoredJob
from fleet.console.store.sql import Connection, chunks, marks
from fleet.core.protocol import TERMINAL, Status

__all__ = ["JobStore", "NewJob"]

#: A job to add: ``(job, device, lesson_id, sha256, doc)``.
NewJob = tuple[str, str, str, str, str]

_TERMINAL = tuple(s.value for s in TERMINAL)


class JobStore:
    """``jobs``: one row per job, its status moved on by the device's reports and results."""

    def __init__(self, db: Connection) -> None:
        self._db = db

    def add(self, job: str, device: str, lesson_id: str, sha256: str, doc: str) -> None:
        """Add one job, PENDING."""
        self.add_many([(job, device, lesson_id, sha256, doc)])

    def add_many(self, rows: Sequence[NewJob]) -> None:
        """Add ``(job, device, lesson_id, sha256, doc)`` rows, PENDING, in one transaction."""
        now = time.time()
        with self._db.transaction() as db:
            db.executemany(  # the job is for the student bound to the device now
                """INSERT INTO jobs (job, device, lesson_id, sha256, status, reason, doc,
                       created, updated, student_id)
                   VALUES (?1, ?2, ?3, ?4, 'PENDING', NULL, ?5, ?6, ?6,
                       (SELECT student_id FROM devices WHERE device = ?2))""",
                [(*row, now) for row in rows],
            )

    def set_status(self, job: str, status: Status, reason: str | None) -> bool:
        """Move a job on; a finished job stays finished (and a running one is not queued again)."""
        return (
            self._db.execute(
                f"UPDATE jobs SET status = ?, reason = ?, updated = ? WHERE job = ? "  # noqa: S608 - placeholders only
                f"AND status NOT IN ({marks(len(_TERMINAL))}) "
                "AND NOT (status = 'IN_PROGRESS' AND ? = 'QUEUED')",
                (status.value, reason, time.time(), job, *_TERMINAL, status.value),
            )
            > 0
        )

    def pending(self, device: str) -> list[PendingJob]:
        """``device``'s jobs that have not finished, oldest first."""
        rows = self._db.rows(
            f"SELECT job, doc, status FROM jobs WHERE device = ? AND status NOT IN ({marks(len(_TERMINAL))}) "  # noqa: S608 - placeholders only
            "ORDER BY created, rowid",
            (device, *_TERMINAL),
        )
        return [PendingJob(r["job"], r["doc"], JobState(r["status"])) for r in rows]

    def unfinished(self, device: str, student_id: str, since: float) -> int:
        """How many of ``student_id``'s jobs on ``device`` made after ``since`` have not ended."""
        rows = self._db.rows(
            "SELECT COUNT(*) AS n FROM jobs WHERE device = ? AND student_id = ? AND created >= ? "
            "AND status IN ('PENDING', 'QUEUED', 'IN_PROGRESS')",
            (device, student_id, since),
        )
        return int(rows[0]["n"])

    def count(self, status: JobState) -> int:
        """How many jobs are in ``status`` now (counted by the store, no row read)."""
        rows = self._db.rows("SELECT COUNT(*) AS n FROM jobs WHERE status = ?", (status.value,))
        return int(rows[0]["n"])

    def list(self, device: str | None = None) -> list[Job]:
        """Every job (or ``device``'s), oldest first."""
        select = "SELECT job, device, lesson_id, sha256, status, reason, created, updated FROM jobs"
        if device is None:
            rows = self._db.rows(f"{select} ORDER BY created, rowid")
        else:
            rows = self._db.rows(f"{select} WHERE device = ? ORDER BY created, rowid", (device,))
        return [
            Job(
                job=r["job"],
                device=r["device"],
                lesson_id=r["lesson_id"],
                sha256=r["sha256"],
                status=JobState(r["status"]),
                reason=r["reason"],
                created=r["created"],
                updated=r["updated"],
            )
            for r in rows
        ]

    def get(self, job: str) -> StoredJob | None:
        """One job with its document, or ``None``."""
        rows = self._db.rows(
            "SELECT job, device, lesson_id, sha256, status, reason, doc, created, updated, "
            "student_id FROM jobs WHERE job = ?",
            (job,),
        )
        if not rows:
            return None
        r = rows[0]
        return StoredJob(
            job=r["job"],
            device=r["device"],
            lesson_id=r["lesson_id"],
            sha256=r["sha256"],
            status=JobState(r["status"]),
            reason=r["reason"],
            doc=r["doc"],
            created=r["created"],
            updated=r["updated"],
            student_id=r["student_id"],
        )

    def owners(self, jobs: Sequence[str]) -> dict[str, str]:
        """The device each of ``jobs`` was pushed to; jobs not in the store are left out."""
        found: dict[str, str] = {}
        for part in chunks(jobs):
            rows = self._db.rows(
                f"SELECT job, device FROM jobs WHERE job IN ({marks(len(part))})",  # noqa: S608 - placeholders only
                tuple(part),
            )
            found.update((r["job"], r["device"]) for r in rows)
        return found
