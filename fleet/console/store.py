"""The console's database: devices, jobs, results, students, teachers, the e-stop, the audit log.

SQLite in WAL mode; the schema moves forward by numbered migrations
(``PRAGMA user_version``). It is the source of truth: what it says is pending
is re-sent when a device is born again. Results go in idempotently (one per
job, one per result id), so a result re-sent from a device's outbox is stored
exactly once.

Students are pseudonymous: a student's display name and class (roster) live
only in ``students``, under a random id (``s-`` and 16 hex digits). Devices,
jobs and results refer to that id, so :meth:`Store.purge_roster` deletes a
class's names and results without leaving them anywhere else in the file
(it ends with ``VACUUM`` and a WAL checkpoint, and ``secure_delete`` is on).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import itertools
import json
import secrets
import sqlite3
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from fleet.console.schema import MIGRATIONS
from fleet.core.errors import StoreError
from fleet.core.protocol import TERMINAL, DeviceState, JobResult, Status

__all__ = ["DEFAULT_ROSTER", "MIGRATIONS", "Store", "check_password", "hash_password"]

#: The class of students bound without one (and of every student a version-1 database named).
DEFAULT_ROSTER = "default"
#: A login token lasts this long unless the console is told otherwise.
LOGIN_TTL_S = 12 * 3600.0

_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, **_SCRYPT)
    return f"scrypt${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    try:
        kind, salt, digest = stored.split("$")
    except ValueError:
        return False
    if kind != "scrypt":
        return False
    got = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), **_SCRYPT)
    return hmac.compare_digest(got.hex(), digest)


def _reason(msg: JobResult) -> str | None:
    reason = msg.result.get("reason")
    return None if reason is None else str(reason)


#: Most rows (or ids of an ``IN`` list) in one statement: at 6 values a row well under
#: the 32766 parameters of SQLite >= 3.32.
_ROWS_PER_STATEMENT = 500


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
    """Insert ``rows`` results (each once): the time received, then :func:`_result_row`'s
    6 values a row. A result's student is the one its job was pushed for, else the one
    bound to its device now."""
    values = ",".join(["(?,?,?,?,?,?)"] * rows)
    return f"""INSERT OR IGNORE INTO results
    (result_id, job, device, student_id, lesson_id, status, score, result, received)
    SELECT v.column1, v.column2, v.column3, COALESCE(j.student_id, d.student_id), j.lesson_id,
        v.column4, v.column5, v.column6, ?
    FROM (VALUES {values}) AS v
    LEFT JOIN jobs j ON j.job = v.column2
    LEFT JOIN devices d ON d.device = v.column3"""  # noqa: S608 - placeholders only


@functools.lru_cache(maxsize=32)
def _move_jobs_sql(rows: int) -> str:
    """Move ``rows`` jobs to their results' status (a finished job stays finished): the
    time, then (job, status, reason) a row, then the final statuses."""
    values = ",".join(["(?,?,?)"] * rows)
    return f"""UPDATE jobs SET status = v.column2, reason = v.column3, updated = ?
    FROM (VALUES {values}) AS v
    WHERE jobs.job = v.column1 AND jobs.status NOT IN ({",".join("?" * len(TERMINAL))})"""  # noqa: S608


#: ``UPDATE ... FROM`` came in SQLite 3.33 (with 32766 parameters a statement from 3.32).
MIN_SQLITE = (3, 33, 0)


def require_sqlite(version: tuple[int, ...]) -> None:
    """Raise :class:`StoreError`, saying what to do, when ``version`` is older than
    :data:`MIN_SQLITE` (Python's own ``sqlite3.sqlite_version_info`` in the store)."""
    if tuple(version) < MIN_SQLITE:
        have = ".".join(map(str, version))
        need = ".".join(map(str, MIN_SQLITE))
        raise StoreError(
            f"the console needs SQLite {need} or newer; this Python has SQLite {have}. "
            "Use a newer Python (python.org's builds carry a recent SQLite) or a newer "
            "operating system release."
        )


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Store:
    """One SQLite file; every method is thread-safe."""

    def __init__(self, path: Path) -> None:
        require_sqlite(sqlite3.sqlite_version_info)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA secure_delete=ON")  # deleted rows are zeroed, not left in pages
        self._migrate()
        self._closed = False

    def _migrate(self) -> None:
        version = int(self._db.execute("PRAGMA user_version").fetchone()[0])
        for number, statements in enumerate(MIGRATIONS[version:], start=version + 1):
            self._db.execute("BEGIN")
            for statement in statements:
                self._db.execute(statement)
            self._db.execute(f"PRAGMA user_version = {number}")
            self._db.execute("COMMIT")

    @property
    def schema_version(self) -> int:
        with self._lock:
            return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def _rows(self, sql: str, args: tuple[Any, ...] | list[Any] = ()) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(r) for r in self._db.execute(sql, args).fetchall()]

    def _exec(self, sql: str, args: tuple[Any, ...] | list[Any] = ()) -> int:
        with self._lock:
            return self._db.execute(sql, args).rowcount

    # -- devices -------------------------------------------------------------

    def device_state(self, state: DeviceState) -> bool:
        """Record a birth or a last will; ``False`` for a stale will of an old session."""
        now = time.time()
        with self._lock:
            row = self._db.execute(
                "SELECT session FROM devices WHERE device = ?", (state.device,)
            ).fetchone()
            if not state.online and row is not None and row["session"] not in (None, state.session):
                return False
            if state.online:
                self._db.execute(
                    """INSERT INTO devices (device, session, online, kit, backend, battery,
                        estopped, job, preflight, versions, first_seen, last_seen)
                       VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                       ON CONFLICT(device) DO UPDATE SET session = excluded.session, online = 1,
                        kit = excluded.kit, backend = excluded.backend, battery = excluded.battery,
                        estopped = excluded.estopped, job = excluded.job,
                        preflight = COALESCE(excluded.preflight, preflight),
                        versions = excluded.versions, last_seen = excluded.last_seen""",
                    (
                        state.device,
                        state.session,
                        state.kit,
                        state.backend,
                        state.battery,
                        int(state.estopped),
                        state.job,
                        None if state.preflight is None else json.dumps(state.preflight),
                        json.dumps(state.versions),
                        now,
                        now,
                    ),
                )
            else:
                self._db.execute(
                    """INSERT INTO devices (device, session, online, first_seen, last_seen)
                       VALUES (?, ?, 0, ?, ?)
                       ON CONFLICT(device) DO UPDATE SET online = 0, last_seen = excluded.last_seen""",
                    (state.device, state.session, now, now),
                )
        return True

    def seen(self, device: str, battery: float | None) -> None:
        self._exec(
            "UPDATE devices SET last_seen = ?, battery = COALESCE(?, battery) WHERE device = ?",
            (time.time(), battery, device),
        )

    def devices(self) -> list[dict[str, Any]]:
        """Every device, with its student's id, display name and class (``None`` when unbound)."""
        rows = self._rows(
            "SELECT d.*, s.name AS student, s.roster AS roster FROM devices d "
            "LEFT JOIN students s ON s.id = d.student_id ORDER BY d.device"
        )
        for r in rows:
            r["online"] = bool(r["online"])
            r["estopped"] = bool(r["estopped"])
            r["preflight"] = json.loads(r["preflight"]) if r["preflight"] else None
            r["versions"] = json.loads(r["versions"]) if r["versions"] else {}
        return rows

    def forget_device(self, device: str) -> bool:
        """Drop a revoked device from the list (its jobs and results stay); False if unknown."""
        return self._exec("DELETE FROM devices WHERE device = ?", (device,)) > 0

    def device_ids(self, online_only: bool = False) -> list[str]:
        where = " WHERE online = 1" if online_only else ""
        return [str(r["device"]) for r in self._rows(f"SELECT device FROM devices{where}")]  # noqa: S608 - fixed text

    def bind(self, device: str, student: str | None, roster: str | None = None) -> bool:
        """Bind ``device`` to the student of that name in ``roster`` (made if new); ``None`` unbinds.

        ``False`` when there is no such device (and then no student is made).
        """
        with self._lock:
            if (
                self._db.execute("SELECT 1 FROM devices WHERE device = ?", (device,)).fetchone()
                is None
            ):
                return False
            student_id = (
                None if student is None else self._student_id(roster or DEFAULT_ROSTER, student)
            )
            self._db.execute(
                "UPDATE devices SET student_id = ? WHERE device = ?", (student_id, device)
            )
        return True

    # -- students ------------------------------------------------------------

    def _student_id(self, roster: str, name: str) -> str:
        """The id of ``name`` in ``roster``, made now if new; the caller holds the lock."""
        row = self._db.execute(
            "SELECT id FROM students WHERE roster = ? AND name = ?", (roster, name)
        ).fetchone()
        if row is not None:
            return str(row["id"])
        student_id = f"s-{secrets.token_hex(8)}"
        self._db.execute(
            "INSERT INTO students (id, name, roster, created) VALUES (?, ?, ?, ?)",
            (student_id, name, roster, time.time()),
        )
        return student_id

    def add_student(self, name: str, roster: str = DEFAULT_ROSTER) -> str:
        """The pseudonymous id of ``name`` in ``roster`` (the same id every time)."""
        with self._lock:
            return self._student_id(roster, name)

    def students(self, roster: str | None = None) -> list[dict[str, Any]]:
        """Students (id, name, roster) with their bound devices and how many results they have."""
        rows = self._rows(
            "SELECT s.id, s.name, s.roster, s.created, "
            "(SELECT COUNT(*) FROM results r WHERE r.student_id = s.id) AS results, "
            "(SELECT group_concat(device) FROM devices d WHERE d.student_id = s.id) AS devices "
            "FROM students s WHERE ?1 IS NULL OR s.roster = ?1 ORDER BY s.roster, s.name",
            (roster,),
        )
        for r in rows:
            r["devices"] = sorted(r["devices"].split(",")) if r["devices"] else []
        return rows

    def rosters(self) -> list[dict[str, Any]]:
        """Each class with how many students and results it has."""
        return self._rows(
            "SELECT s.roster AS roster, COUNT(*) AS students, "
            "SUM((SELECT COUNT(*) FROM results r WHERE r.student_id = s.id)) AS results "
            "FROM students s GROUP BY s.roster ORDER BY s.roster"
        )

    def purge_roster(self, roster: str) -> dict[str, Any]:
        """Delete a class: its students, their results and jobs, and their devices' bindings.

        Then ``VACUUM`` and a WAL checkpoint, so no deleted name or result is
        left in the file's free pages or its write-ahead log. Answers what
        was deleted, and which devices were bound to those students.
        """
        ids = "(SELECT id FROM students WHERE roster = ?)"
        with self._lock:
            devices = [
                str(r["device"])
                for r in self._db.execute(
                    f"SELECT device FROM devices WHERE student_id IN {ids} ORDER BY device",  # noqa: S608 - fixed text
                    (roster,),
                ).fetchall()
            ]
            self._db.execute("BEGIN")
            try:
                jobs = self._db.execute(
                    f"DELETE FROM jobs WHERE student_id IN {ids} "  # noqa: S608 - fixed text
                    f"OR job IN (SELECT job FROM results WHERE student_id IN {ids})",
                    (roster, roster),
                ).rowcount
                results = self._db.execute(
                    f"DELETE FROM results WHERE student_id IN {ids}",  # noqa: S608 - fixed text
                    (roster,),
                ).rowcount
                self._db.execute(
                    f"UPDATE devices SET student_id = NULL WHERE student_id IN {ids}",  # noqa: S608 - fixed text
                    (roster,),
                )
                students = self._db.execute(
                    "DELETE FROM students WHERE roster = ?", (roster,)
                ).rowcount
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
            self._db.execute("VACUUM")
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return {
            "roster": roster,
            "students": students,
            "results": results,
            "jobs": jobs,
            "devices": devices,
        }

    # -- jobs ----------------------------------------------------------------

    def add_job(self, job: str, device: str, lesson_id: str, sha256: str, doc: str) -> None:
        self.add_jobs([(job, device, lesson_id, sha256, doc)])

    def add_jobs(self, rows: list[tuple[str, str, str, str, str]]) -> None:
        """Add ``(job, device, lesson_id, sha256, doc)`` rows, PENDING, in one transaction."""
        now = time.time()
        with self._lock:
            self._db.execute("BEGIN")
            try:
                self._db.executemany(  # the job is for the student bound to the device now
                    """INSERT INTO jobs (job, device, lesson_id, sha256, status, reason, doc,
                           created, updated, student_id)
                       VALUES (?1, ?2, ?3, ?4, 'PENDING', NULL, ?5, ?6, ?6,
                           (SELECT student_id FROM devices WHERE device = ?2))""",
                    [(*row, now) for row in rows],
                )
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def job_status(self, job: str, status: Status, reason: str | None) -> bool:
        """Move a job on; a finished job stays finished."""
        terminal = tuple(s.value for s in TERMINAL)
        marks = ",".join("?" * len(terminal))
        return (
            self._exec(
                f"UPDATE jobs SET status = ?, reason = ?, updated = ? WHERE job = ? "  # noqa: S608 - placeholders only
                f"AND status NOT IN ({marks}) AND NOT (status = 'IN_PROGRESS' AND ? = 'QUEUED')",
                (status.value, reason, time.time(), job, *terminal, status.value),
            )
            > 0
        )

    def pending_jobs(self, device: str) -> list[dict[str, Any]]:
        terminal = tuple(s.value for s in TERMINAL)
        marks = ",".join("?" * len(terminal))
        return self._rows(
            f"SELECT job, doc, status FROM jobs WHERE device = ? AND status NOT IN ({marks}) "  # noqa: S608 - placeholders only
            "ORDER BY created",
            (device, *terminal),
        )

    def jobs(self, device: str | None = None) -> list[dict[str, Any]]:
        if device is None:
            return self._rows(
                "SELECT job, device, lesson_id, sha256, status, reason, created, updated "
                "FROM jobs ORDER BY created"
            )
        return self._rows(
            "SELECT job, device, lesson_id, sha256, status, reason, created, updated "
            "FROM jobs WHERE device = ? ORDER BY created",
            (device,),
        )

    def job(self, job: str) -> dict[str, Any] | None:
        rows = self._rows("SELECT * FROM jobs WHERE job = ?", (job,))
        return rows[0] if rows else None

    # -- results -------------------------------------------------------------

    def add_result(self, msg: JobResult) -> bool:
        """Store a result once; ``False`` when it (or one for its job) is already here."""
        with self._lock:
            cur = self._db.execute(_insert_results_sql(1), (time.time(), *_result_row(msg)))
            return cur.rowcount > 0

    def add_results(self, msgs: list[JobResult]) -> list[bool]:
        """Store results and move their jobs on, all in one transaction.

        One flag per message: ``True`` when it was stored, ``False`` when it
        (or a result for its job) was already here. A job's final status comes
        from its result, with the result's ``reason``; a finished job stays
        finished.
        """
        terminal = tuple(s.value for s in TERMINAL)
        now = time.time()
        with self._lock:
            self._db.execute("BEGIN")
            try:
                # one look for what is already here, then one statement per kind of row
                seen_ids: set[str] = set()
                seen_jobs: set[str] = set()
                for first in range(0, len(msgs), _ROWS_PER_STATEMENT):
                    part = msgs[first : first + _ROWS_PER_STATEMENT]
                    marks_part = ",".join("?" * len(part))
                    for rid, job in self._db.execute(
                        "SELECT result_id, job FROM results "  # noqa: S608 - placeholders only
                        f"WHERE result_id IN ({marks_part}) OR job IN ({marks_part})",
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
                step = _ROWS_PER_STATEMENT
                for first in range(0, len(rows), step):
                    some = rows[first : first + step]
                    self._db.execute(_insert_results_sql(len(some)), (now, *itertools.chain(*some)))
                jobs = [(m.job, m.status.value, _reason(m)) for m in moves.values()]
                for first in range(0, len(jobs), step):
                    these = jobs[first : first + step]
                    self._db.execute(
                        _move_jobs_sql(len(these)), (now, *itertools.chain(*these), *terminal)
                    )
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        return added

    def results(
        self,
        *,
        device: str | None = None,
        student: str | None = None,
        lesson: str | None = None,
        status: str | None = None,
        since: float | None = None,
        student_id: str | None = None,
        roster: str | None = None,
    ) -> list[dict[str, Any]]:
        """Results, oldest first; ``student`` is the display name, ``student_id`` the pseudonym."""
        where: list[str] = []
        args: list[Any] = []
        for column, value in (
            ("r.device", device),
            ("s.name", student),
            ("r.lesson_id", lesson),
            ("r.status", status),
            ("r.student_id", student_id),
            ("s.roster", roster),
        ):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        if since is not None:
            where.append("r.received >= ?")
            args.append(since)
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        rows = self._rows(
            "SELECT r.*, s.name AS student, s.roster AS roster FROM results r "  # noqa: S608 - fixed column names
            f"LEFT JOIN students s ON s.id = r.student_id{clause} ORDER BY r.received",
            args,
        )
        for r in rows:
            r["result"] = json.loads(r["result"])
        return rows

    # -- teachers and tokens -------------------------------------------------

    def add_teacher(self, username: str, password: str) -> None:
        self._exec(
            "INSERT OR REPLACE INTO teachers VALUES (?, ?, ?)",
            (username, hash_password(password), time.time()),
        )

    def teacher_exists(self, username: str) -> bool:
        return bool(self._rows("SELECT 1 FROM teachers WHERE username = ?", (username,)))

    def has_teachers(self) -> bool:
        return bool(self._rows("SELECT 1 FROM teachers LIMIT 1"))

    def login(self, username: str, password: str, ttl_s: float | None = LOGIN_TTL_S) -> str | None:
        """A login token that lasts ``ttl_s`` seconds, or ``None`` for a wrong name or password."""
        rows = self._rows("SELECT pwhash FROM teachers WHERE username = ?", (username,))
        if not rows or not check_password(password, rows[0]["pwhash"]):
            return None
        self._exec("DELETE FROM tokens WHERE expires IS NOT NULL AND expires <= ?", (time.time(),))
        return self.new_token(username, "login", ttl_s)

    def new_token(self, username: str, name: str, ttl_s: float | None = None) -> str:
        """A bearer token for ``username``; it never expires when ``ttl_s`` is ``None``."""
        token = secrets.token_urlsafe(32)
        now = time.time()
        self._exec(
            "INSERT INTO tokens (token_hash, username, name, created, expires) VALUES (?, ?, ?, ?, ?)",
            (_token_hash(token), username, name, now, None if ttl_s is None else now + ttl_s),
        )
        return token

    def token_user(self, token: str) -> str | None:
        """The teacher of a token that has neither expired nor been revoked."""
        rows = self._rows(
            "SELECT username FROM tokens WHERE token_hash = ? AND (expires IS NULL OR expires > ?)",
            (_token_hash(token), time.time()),
        )
        return str(rows[0]["username"]) if rows else None

    def revoke_token(self, token: str) -> bool:
        """Forget a token (logging out); ``False`` when it was not known."""
        return self._exec("DELETE FROM tokens WHERE token_hash = ?", (_token_hash(token),)) > 0

    def token_info(self, token: str) -> dict[str, Any] | None:
        """``{id, username, name}`` of a live token (``name`` is ``login`` for a login)."""
        rows = self._rows(
            "SELECT substr(token_hash, 1, 16) AS id, username, name FROM tokens "
            "WHERE token_hash = ? AND (expires IS NULL OR expires > ?)",
            (_token_hash(token), time.time()),
        )
        return rows[0] if rows else None

    def tokens(self, username: str) -> list[dict[str, Any]]:
        """One teacher's live tokens, newest first: ``{id, name, created, expires}`` (the id is
        the start of the token's hash: enough to revoke it, useless to log in with)."""
        return self._rows(
            "SELECT substr(token_hash, 1, 16) AS id, name, created, expires FROM tokens "
            "WHERE username = ? AND (expires IS NULL OR expires > ?) ORDER BY created DESC",
            (username, time.time()),
        )

    def revoke_token_id(self, username: str, token_id: str) -> bool:
        """Revoke one of ``username``'s own tokens by its id; False when it has none such."""
        if len(token_id) != 16 or any(c not in "0123456789abcdef" for c in token_id):
            return False
        return (
            self._exec(
                "DELETE FROM tokens WHERE username = ? AND substr(token_hash, 1, 16) = ?",
                (username, token_id),
            )
            > 0
        )

    # -- audit log -----------------------------------------------------------

    def audit(self, who: str, action: str, **detail: Any) -> None:
        """Record that teacher ``who`` did ``action`` (push, stop, release, cancel, purge, ...)."""
        self._exec(
            "INSERT INTO audit (ts, who, action, detail) VALUES (?, ?, ?, ?)",
            (time.time(), who, action, json.dumps(detail, ensure_ascii=False, sort_keys=True)),
        )

    def audit_log(self, limit: int = 200, action: str | None = None) -> list[dict[str, Any]]:
        """The newest ``limit`` entries, newest first."""
        rows = self._rows(
            "SELECT id, ts, who, action, detail FROM audit WHERE ?1 IS NULL OR action = ?1 "
            "ORDER BY id DESC LIMIT ?2",
            (action, limit),
        )
        for r in rows:
            r["detail"] = json.loads(r["detail"])
        return rows

    # -- e-stop --------------------------------------------------------------

    def estop(self) -> dict[str, Any]:
        rows = self._rows("SELECT active, epoch, by, ts FROM estop WHERE id = 1")
        if not rows:
            return {"active": False, "epoch": 0, "by": "", "ts": 0.0}
        r = rows[0]
        r["active"] = bool(r["active"])
        return r

    def set_estop(self, active: bool, by: str) -> dict[str, Any]:
        """A new e-stop state with the next epoch."""
        with self._lock:
            row = self._db.execute("SELECT epoch FROM estop WHERE id = 1").fetchone()
            epoch = (0 if row is None else int(row["epoch"])) + 1
            ts = time.time()
            self._db.execute(
                "INSERT OR REPLACE INTO estop VALUES (1, ?, ?, ?, ?)", (int(active), epoch, by, ts)
            )
        return {"active": active, "epoch": epoch, "by": by, "ts": ts}

    # -- lifecycle -----------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        with self._lock:
            self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
