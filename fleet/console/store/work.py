"""Students' work: their code for each lesson (autosaved versions) and their hand-ins.

A save within :data:`SAME_VERSION_S` of the last one replaces it; a later
one is a new version, and only the newest :data:`KEEP_VERSIONS` of a
student's lesson are kept. A hand-in keeps the exact code that was graded
(its text and SHA-256) under the job that graded it, so the result the job
earns (``results``, by job) is shown with the code that earned it.

::

    work.save_code(student_id, "follow-the-line", code)
    work.add_handin(student_id, "follow-the-line", Place.SIM, job, code)
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time

from fleet.console.store.classrecords import CodeVersion, HandIn, Place
from fleet.console.store.sql import Connection, Row

__all__ = [
    "KEEP_VERSIONS",
    "MAX_CODE",
    "SAME_VERSION_S",
    "SIMULATOR",
    "WorkStore",
    "code_sha256",
]

#: The device name of results graded in the simulator on the console.
SIMULATOR = "simulator"

#: Saves this close to the last one replace it (autosave every few seconds is one version).
SAME_VERSION_S = 120.0
#: Versions kept per student and lesson.
KEEP_VERSIONS = 50
#: The largest program a student may save or run (characters).
MAX_CODE = 64 * 1024

_HANDIN = (
    "SELECT h.id, h.student_id, h.lesson_id, h.place, h.job, h.code_sha256, h.code, h.created, "
    "r.status AS status, r.score AS score, r.result AS result "
    "FROM handins h LEFT JOIN results r ON r.job = h.job"
)


def code_sha256(code: str) -> str:
    """The SHA-256 of a program's UTF-8 bytes, as results and hand-ins name it."""
    return hashlib.sha256(code.encode()).hexdigest()


def _version(r: Row) -> CodeVersion:
    return CodeVersion(
        r["student_id"], r["lesson_id"], r["version"], r["code"], r["saved"], r["blocks"]
    )


def _handin(r: Row) -> HandIn:
    return HandIn(
        r["id"],
        r["student_id"],
        r["lesson_id"],
        Place(r["place"]),
        r["job"],
        r["code_sha256"],
        r["code"],
        r["created"],
        r["status"],
        r["score"],
        json.loads(r["result"]) if r["result"] else None,
    )


class WorkStore:
    """``student_code`` and ``handins``."""

    def __init__(self, db: Connection) -> None:
        self._db = db

    def save_code(
        self, student_id: str, lesson_id: str, code: str, blocks: str | None = None
    ) -> CodeVersion:
        """Save the student's code for a lesson, and the blocks that made it (see the
        module's rules on versions)."""
        now = time.time()
        with self._db.transaction() as db:
            last = db.execute(
                "SELECT version, saved FROM student_code WHERE student_id = ? AND lesson_id = ? "
                "ORDER BY version DESC LIMIT 1",
                (student_id, lesson_id),
            ).fetchone()
            if last is not None and now - last["saved"] < SAME_VERSION_S:
                version = int(last["version"])
                db.execute(
                    "UPDATE student_code SET code = ?, saved = ?, blocks = ? "
                    "WHERE student_id = ? AND lesson_id = ? AND version = ?",
                    (code, now, blocks, student_id, lesson_id, version),
                )
            else:
                version = 1 if last is None else int(last["version"]) + 1
                db.execute(
                    "INSERT INTO student_code VALUES (?, ?, ?, ?, ?, ?)",
                    (student_id, lesson_id, version, code, now, blocks),
                )
                db.execute(
                    "DELETE FROM student_code WHERE student_id = ? AND lesson_id = ? AND version <= ?",
                    (student_id, lesson_id, version - KEEP_VERSIONS),
                )
        return CodeVersion(student_id, lesson_id, version, code, now, blocks)

    def code(
        self, student_id: str, lesson_id: str, version: int | None = None
    ) -> CodeVersion | None:
        """One version of the student's code for a lesson (default: the newest)."""
        rows = self._db.rows(
            "SELECT * FROM student_code WHERE student_id = ?1 AND lesson_id = ?2 "
            "AND (CAST(?3 AS INTEGER) IS NULL OR version = ?3) ORDER BY version DESC LIMIT 1",
            (student_id, lesson_id, version),
        )
        return _version(rows[0]) if rows else None

    def history(self, student_id: str, lesson_id: str) -> list[CodeVersion]:
        """Every kept version, newest first."""
        rows = self._db.rows(
            "SELECT * FROM student_code WHERE student_id = ? AND lesson_id = ? ORDER BY version DESC",
            (student_id, lesson_id),
        )
        return [_version(r) for r in rows]

    def latest_code(self, student_ids: list[str]) -> dict[str, CodeVersion]:
        """Each student's most recently saved code (any lesson)."""
        out: dict[str, CodeVersion] = {}
        for student_id in student_ids:
            rows = self._db.rows(
                "SELECT * FROM student_code WHERE student_id = ? ORDER BY saved DESC LIMIT 1",
                (student_id,),
            )
            if rows:
                out[student_id] = _version(rows[0])
        return out

    def add_handin(
        self, student_id: str, lesson_id: str, place: Place, job: str, code: str
    ) -> HandIn:
        """Record a hand-in: the exact code, graded by ``job``."""
        handin = HandIn(
            f"h-{secrets.token_hex(8)}",
            student_id,
            lesson_id,
            place,
            job,
            code_sha256(code),
            code,
            time.time(),
            None,
            None,
            None,
        )
        self._db.execute(
            "INSERT INTO handins VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (*list(handin.to_json().values())[:8],),
        )
        return handin

    def add_graded(
        self, student_id: str, lesson_id: str, code: str, status: str, result: dict[str, object]
    ) -> HandIn:
        """Record a hand-in graded here in the simulator, in one transaction: its job (device
        ``simulator``), its result (as the results page and exports list them) and the code."""
        job = f"j{secrets.token_hex(8)}"
        now = time.time()
        score = result.get("score")
        sha = code_sha256(code)
        handin_id = f"h-{secrets.token_hex(8)}"
        with self._db.transaction() as db:
            db.execute(
                "INSERT INTO jobs (job, device, lesson_id, sha256, status, reason, doc, created, "
                "updated, student_id) VALUES (?, ?, ?, ?, ?, NULL, '{}', ?, ?, ?)",
                (job, SIMULATOR, lesson_id, sha, status, now, now, student_id),
            )
            db.execute(
                "INSERT INTO results (result_id, job, device, student_id, lesson_id, status, score, "
                "result, received) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    f"r{secrets.token_hex(8)}",
                    job,
                    SIMULATOR,
                    student_id,
                    lesson_id,
                    status,
                    float(score) if isinstance(score, int | float) else None,
                    json.dumps(result, ensure_ascii=False),
                    now,
                ),
            )
            db.execute(
                "INSERT INTO handins VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (handin_id, student_id, lesson_id, Place.SIM.value, job, sha, code, now),
            )
        found = self.handin(handin_id)
        assert found is not None  # noqa: S101 - written just above
        return found

    def handins(self, student_id: str | None = None, *, roster: str | None = None) -> list[HandIn]:
        """Hand-ins (of one student, or of a class), newest first, with their results."""
        rows = self._db.rows(
            _HANDIN  # noqa: S608 - fixed text
            + " WHERE (CAST(?1 AS TEXT) IS NULL OR h.student_id = ?1) AND (CAST(?2 AS TEXT) IS NULL "
            "OR h.student_id IN "
            "(SELECT id FROM students WHERE roster = ?2)) ORDER BY h.created DESC",
            (student_id, roster),
        )
        return [_handin(r) for r in rows]

    def handin(self, handin_id: str) -> HandIn | None:
        rows = self._db.rows(_HANDIN + " WHERE h.id = ?", (handin_id,))
        return _handin(rows[0]) if rows else None

    def handin_for_job(self, job: str) -> HandIn | None:
        rows = self._db.rows(_HANDIN + " WHERE h.job = ?", (job,))
        return _handin(rows[0]) if rows else None
