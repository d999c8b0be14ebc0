"""Results the devices sent, each stored exactly once.

Results go in idempotently (one per job, one per result id), so a result
re-sent from a device's outbox is stored once; storing a result moves its
job to the result's status.
"""

from __future__ import annotations

import builtins
import functools
import itertools
import json
import time
from collections.abc import Sequence
from typing import Any

from fleet.console.store.records import Result, ResultFilter
from fleet.console.store.sql import Connection, Row, chunks, marks
from fleet.core.protocol import TERMINAL, JobResult, Status

__all__ = ["ResultStore"]

_TERMINAL = tuple(s.value for s in TERMINAL)


def _reason(msg: JobResult) -> str | None:
    reason = msg.result.get("reason")
    return None if reason is None else str(reason)


def _result_row(msg: JobResult) -> tuple[str, str, str, str, float | None, str]:
    """A result's values for :func:`_insert_results_sql`."""
    score = msg.result.get("score")
    return (
        msg.result_id,
        msg.job,
        msg.device,
        msg.status.value,
        float(score) if isinstance(score, int | float) else None,
        json.dumps(msg.result, ensure_ascii=False),
    )


@functools.lru_cache(maxsize=32)
def _insert_results_sql(rows: int) -> str:
    """Insert ``rows`` results (each once: ``ON CONFLICT DO NOTHING``; ``WHERE true`` tells
    SQLite's parser the ``ON`` is not a join's): the time received, then :func:`_result_row`'s
    6 values a row. A result's student is the one its job was pushed for, else the one
    bound to its device now."""
    values = ",".join(["(?,?,?,?,?,?)"] * rows)
    return f"""INSERT INTO results
    (result_id, job, device, student_id, lesson_id, status, score, result, received)
    SELECT v.column1, v.column2, v.column3, COALESCE(j.student_id, d.student_id), j.lesson_id,
        v.column4, CAST(v.column5 AS REAL), v.column6, ?
    FROM (VALUES {values}) AS v
    LEFT JOIN jobs j ON j.job = v.column2
    LEFT JOIN devices d ON d.device = v.column3
    WHERE true ON CONFLICT DO NOTHING"""  # noqa: S608 - placeholders only


@functools.lru_cache(maxsize=32)
def _move_jobs_sql(rows: int) -> str:
    """Move ``rows`` jobs to their results' status (a finished job stays finished): the
    time, then (job, status, reason) a row, then the final statuses."""
    values = ",".join(["(?,?,?)"] * rows)
    return f"""UPDATE jobs SET status = v.column2, reason = v.column3, updated = ?
    FROM (VALUES {values}) AS v
    WHERE jobs.job = v.column1 AND jobs.status NOT IN ({marks(len(TERMINAL))})"""  # noqa: S608


def _result(r: Row) -> Result:
    return Result(
        result_id=r["result_id"],
        job=r["job"],
        device=r["device"],
        student_id=r["student_id"],
        lesson_id=r["lesson_id"],
        status=Status(r["status"]),
        score=r["score"],
        result=json.loads(r["result"]),
        received=r["received"],
        student=r["student"],
        roster=r["roster"],
        handin=r["handin"],
    )


class ResultStore:
    """``results``: one row per job that finished on its device."""

    def __init__(self, db: Connection) -> None:
        self._db = db

    def add(self, msg: JobResult) -> bool:
        """Store a result once; ``False`` when it (or one for its job) is already here."""
        with self._db.locked() as db:
            cur = db.execute(_insert_results_sql(1), (time.time(), *_result_row(msg)))
            return cur.rowcount > 0

    def add_many(self, msgs: Sequence[JobResult]) -> list[bool]:
        """Store results and move their jobs on, all in one transaction.

        One flag per message: ``True`` when it was stored, ``False`` when it
        (or a result for its job) was already here. A job's final status comes
        from its result, with the result's ``reason``; a finished job stays
        finished.
        """
        now = time.time()
        with self._db.transaction() as db:
            # one look for what is already here, then one statement per kind of row
            seen_ids: set[str] = set()
            seen_jobs: set[str] = set()
            for part in chunks(msgs):
                some = marks(len(part))
                for rid, job in db.execute(
                    "SELECT result_id, job FROM results "  # noqa: S608 - placeholders only
                    f"WHERE result_id IN ({some}) OR job IN ({some})",
                    (*(m.result_id for m in part), *(m.job for m in part)),
                ):
                    seen_ids.add(rid)
                    seen_jobs.add(job)
            added, rows = [], []
            moves: dict[str, JobResult] = {}  # per job: the result that sets its status
            for msg in msgs:
                here = moves.get(msg.job)
                if here is None or here.status not in TERMINAL:
                    moves[msg.job] = msg  # as if applied in turn: the first final one wins
                new = msg.result_id not in seen_ids and msg.job not in seen_jobs
                added.append(new)
                if not new:
                    continue
                seen_ids.add(msg.result_id)
                seen_jobs.add(msg.job)
                rows.append(_result_row(msg))
            # A statement for many rows at once: row by row, every step would give
            # up Python's GIL and wait to get it back from the busy network thread.
            for some_rows in chunks(rows):
                db.execute(_insert_results_sql(len(some_rows)), (now, *itertools.chain(*some_rows)))
            jobs = [(m.job, m.status.value, _reason(m)) for m in moves.values()]
            for these in chunks(jobs):
                db.execute(_move_jobs_sql(len(these)), (now, *itertools.chain(*these), *_TERMINAL))
        return added

    def list(
        self,
        *,
        device: str | None = None,
        student: str | None = None,
        lesson: str | None = None,
        status: str | None = None,
        since: float | None = None,
        student_id: str | None = None,
        roster: str | None = None,
        until: float | None = None,
    ) -> list[Result]:
        """Results, oldest first; ``student`` is the display name, ``student_id`` the pseudonym."""
        return self.matching(
            ResultFilter(device, student, lesson, status, since, student_id, roster, until)
        )

    def for_job(self, job: str) -> Result | None:
        """The result of ``job``, if it has arrived."""
        rows = self._db.rows(
            "SELECT r.result_id, r.job, r.device, r.student_id, r.lesson_id, r.status, r.score, "
            "r.result, r.received, s.name AS student, s.roster AS roster, h.id AS handin "
            "FROM results r LEFT JOIN students s ON s.id = r.student_id "
            "LEFT JOIN handins h ON h.job = r.job WHERE r.job = ?",
            (job,),
        )
        return _result(rows[0]) if rows else None

    def matching(self, where: ResultFilter) -> builtins.list[Result]:
        """The results ``where`` lets through, oldest first."""
        clauses: builtins.list[str] = []
        args: builtins.list[Any] = []
        for column, value in (
            ("r.device", where.device),
            ("s.name", where.student),
            ("r.lesson_id", where.lesson),
            ("r.status", where.status),
            ("r.student_id", where.student_id),
            ("s.roster", where.roster),
        ):
            if value is not None:
                clauses.append(f"{column} = ?")
                args.append(value)
        if where.since is not None:
            clauses.append("r.received >= ?")
            args.append(where.since)
        if where.until is not None:
            clauses.append("r.received < ?")
            args.append(where.until)
        clause = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self._db.rows(
            "SELECT r.result_id, r.job, r.device, r.student_id, r.lesson_id, r.status, r.score, "  # noqa: S608 - fixed column names
            "r.result, r.received, s.name AS student, s.roster AS roster, h.id AS handin "
            "FROM results r LEFT JOIN students s ON s.id = r.student_id "
            f"LEFT JOIN handins h ON h.job = r.job{clause} ORDER BY r.received, r.rowid",
            args,
        )
        return [_result(r) for r in rows]
