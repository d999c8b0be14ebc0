"""Pseudonymous results from every school, each stored once (by the robot's result id).

A batch goes in with one statement (``INSERT ... SELECT FROM unnest(...) ON
CONFLICT DO NOTHING``): a result a school sends again, after a bridge cut or
a restart, is stored once; the rooms a batch names are remembered too.

A class a school deletes reaches the district (:meth:`ResultStore.purge`): its
students' results and challenge tries of that school go, and their pseudonyms
are kept in ``purged`` so a result of theirs that comes later is not stored.
"""

from __future__ import annotations

import builtins
import time
from collections.abc import Sequence
from typing import Any

from district.db import Db
from district.records import ClassProgress, ResultFilter, ResultRow, SchoolProgress, StoredResult

__all__ = ["MAX_LIST", "ResultStore"]

#: Most results one list answers with.
MAX_LIST = 10_000

_COLUMNS = (
    "result_id, school, room, class, student, grade_band, lesson_id, score, status, at, "
    "received, challenge"
)
_INSERT = (
    f"INSERT INTO results ({_COLUMNS}) "  # noqa: S608 - fixed column names
    "SELECT r, s, rm, c, st, g, l, sc, stt, a, %s, ch FROM unnest("
    "%s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[], "
    "%s::float8[], %s::text[], %s::float8[], %s::text[]) "
    "AS v(r, s, rm, c, st, g, l, sc, stt, a, ch) "
    "WHERE NOT EXISTS (SELECT 1 FROM purged p WHERE p.school = v.s AND p.student = v.st) "
    "ON CONFLICT (result_id) DO NOTHING RETURNING result_id"
)
_ROOMS = (
    "INSERT INTO rooms (school, room, first_seen, last_seen) "
    "SELECT DISTINCT s, r, %s::float8, %s::float8 FROM unnest(%s::text[], %s::text[]) AS v(s, r) "
    "WHERE EXISTS (SELECT 1 FROM schools WHERE id = v.s) "
    "ON CONFLICT (school, room) DO UPDATE SET last_seen = EXCLUDED.last_seen"
)
_COUNTS = (
    "count(*) AS results, count(DISTINCT student) AS students, "
    "count(DISTINCT lesson_id) AS lessons, "
    "count(*) FILTER (WHERE status = 'SUCCEEDED') AS succeeded, "
    "avg(score) AS mean_score, max(received) AS last"
)


def _where(f: ResultFilter) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    args: list[Any] = []
    for column, value in (
        ("school", f.school),
        ("lesson_id", f.lesson),
        ("grade_band", f.grade_band),
        ("class", f.class_),
        ("challenge", f.challenge),
    ):
        if value is not None:
            clauses.append(f"{column} = %s")
            args.append(value)
    if f.since is not None:
        clauses.append("received >= %s")
        args.append(f.since)
    if f.until is not None:
        clauses.append("received < %s")
        args.append(f.until)
    return (f" WHERE {' AND '.join(clauses)}" if clauses else ""), args


class ResultStore:
    """``results``: one row per result id, from whichever school sent it first."""

    def __init__(self, db: Db) -> None:
        self._db = db

    def add_many(self, rows: Sequence[ResultRow]) -> list[bool]:
        """Store ``rows`` in one transaction; one flag each: stored now (True) or already here.

        Within one batch a result id that comes twice is stored once (the first).
        """
        if not rows:
            return []
        now = time.time()
        columns = list(zip(*(
            (r.result_id, r.school, r.room, r.class_, r.student, r.grade_band, r.lesson_id,
             r.score, r.status, r.at, r.challenge)
            for r in rows
        ), strict=True))  # fmt: skip
        with self._db.transaction() as conn:
            new = {
                row["result_id"]
                for row in conn.execute(_INSERT.encode(), (now, *map(list, columns))).fetchall()
            }
            conn.execute(_ROOMS.encode(), (now, now, list(columns[1]), list(columns[2])))
        flags = []
        for r in rows:
            flags.append(r.result_id in new)
            new.discard(r.result_id)  # a second copy in the same batch was not stored
        return flags

    def purge(self, school: str, students: Sequence[str]) -> tuple[int, int]:
        """Delete ``school``'s results and challenge tries of ``students`` (pseudonyms) and
        remember them, so none of theirs is stored again: ``(results, tries)`` deleted.

        Only ``school``'s rows: another school's student with the same pseudonym stays."""
        now, students = time.time(), sorted(set(students))
        with self._db.transaction() as conn:
            conn.execute(
                "INSERT INTO purged (school, student, at) SELECT %s, st, %s "
                "FROM unnest(%s::text[]) AS v(st) ON CONFLICT DO NOTHING",
                (school, now, students),
            )
            results = conn.execute(
                "DELETE FROM results WHERE school = %s AND student = ANY(%s)", (school, students)
            ).rowcount
            tries = 0
            found = conn.execute("SELECT to_regclass('challenge_tries') AS t").fetchone()
            if found is not None and found["t"] is not None:  # the pages' domain migrated
                tries = conn.execute(
                    "DELETE FROM challenge_tries WHERE school = %s AND student = ANY(%s)",
                    (school, students),
                ).rowcount
        return results, tries

    def purged(self, school: str, students: Sequence[str]) -> builtins.set[str]:
        """Which of ``students`` ``school`` has deleted."""
        rows = self._db.rows(
            "SELECT student FROM purged WHERE school = %s AND student = ANY(%s)",
            (school, list(students)),
        )
        return {str(r["student"]) for r in rows}

    def count(self, where: ResultFilter | None = None) -> int:
        clause, args = _where(where or ResultFilter())
        rows = self._db.rows(f"SELECT count(*) AS n FROM results{clause}", args)  # noqa: S608
        return int(rows[0]["n"])

    def list(
        self, where: ResultFilter | None = None, *, limit: int = 1000
    ) -> builtins.list[StoredResult]:
        """Results ``where`` lets through, oldest received first (at most ``limit``, capped)."""
        clause, args = _where(where or ResultFilter())
        rows = self._db.rows(
            f"SELECT {_COLUMNS} FROM results{clause} ORDER BY received, id LIMIT %s",  # noqa: S608
            [*args, max(1, min(limit, MAX_LIST))],
        )
        return [StoredResult(class_=r.pop("class"), **r) for r in rows]

    def by_school(self, where: ResultFilter | None = None) -> builtins.list[SchoolProgress]:
        """Per school: results, students, lessons, succeeded, mean score (under ``where``)."""
        clause, args = _where(where or ResultFilter())
        rows = self._db.rows(
            f"SELECT school, {_COUNTS} FROM results{clause} GROUP BY school ORDER BY school",  # noqa: S608
            args,
        )
        return [SchoolProgress(**r) for r in rows]

    def by_class(self, where: ResultFilter | None = None) -> builtins.list[ClassProgress]:
        """Per class of each school (under ``where``)."""
        clause, args = _where(where or ResultFilter())
        rows = self._db.rows(
            f"SELECT school, room, class, {_COUNTS} FROM results{clause} "  # noqa: S608
            "GROUP BY school, room, class ORDER BY school, room, class",
            args,
        )
        return [ClassProgress(class_=r.pop("class"), **r) for r in rows]

    def tally(
        self, school: str, days: int, margin_s: float
    ) -> tuple[float, float, dict[str, dict[int, int]]] | None:
        """``school``'s results per room and day of ``at`` over its last ``days`` days, up to
        ``margin_s`` before the newest (what may still be on its way is left out):
        ``(since, until, {room: {day: count}})``, or ``None`` for a school with none."""
        newest = self._db.rows("SELECT max(at) AS at FROM results WHERE school = %s", (school,))
        if not newest or newest[0]["at"] is None:
            return None
        until = float(newest[0]["at"]) - margin_s
        since = until - days * 86400.0
        rows = self._db.rows(
            "SELECT room, floor(at / 86400)::bigint AS day, count(*) AS n FROM results "
            "WHERE school = %s AND at >= %s AND at < %s GROUP BY room, day",
            (school, since, until),
        )
        rooms: dict[str, dict[int, int]] = {}
        for r in rows:
            rooms.setdefault(r["room"], {})[int(r["day"])] = int(r["n"])
        return since, until, rooms

    def by_lesson(self, where: ResultFilter | None = None) -> builtins.list[dict[str, Any]]:
        """Per lesson and grade band across schools: results, schools, students, mean score."""
        clause, args = _where(where or ResultFilter())
        return self._db.rows(
            "SELECT lesson_id, grade_band, count(*) AS results, "  # noqa: S608
            "count(DISTINCT school) AS schools, count(DISTINCT student) AS students, "
            "avg(score) AS mean_score FROM results"
            f"{clause} GROUP BY lesson_id, grade_band ORDER BY lesson_id, grade_band",
            args,
        )
