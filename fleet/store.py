"""The console's database: devices, jobs, results, teachers, the e-stop.

SQLite in WAL mode; the schema moves forward by numbered migrations
(``PRAGMA user_version``). It is the source of truth: what it says is pending
is re-sent when a device is born again. Results go in idempotently (one per
job, one per result id), so a result re-sent from a device's outbox is stored
exactly once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import sqlite3
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from fleet.protocol import TERMINAL, DeviceState, JobResult, Status

__all__ = ["MIGRATIONS", "Store", "check_password", "hash_password"]

MIGRATIONS: list[list[str]] = [
    [
        """CREATE TABLE devices (
            device TEXT PRIMARY KEY, session TEXT, online INTEGER NOT NULL DEFAULT 0,
            kit TEXT, backend TEXT, battery REAL, estopped INTEGER NOT NULL DEFAULT 0,
            job TEXT, preflight TEXT, versions TEXT, student TEXT,
            first_seen REAL NOT NULL, last_seen REAL NOT NULL)""",
        """CREATE TABLE jobs (
            job TEXT PRIMARY KEY, device TEXT NOT NULL, lesson_id TEXT NOT NULL,
            sha256 TEXT NOT NULL, status TEXT NOT NULL, reason TEXT, doc TEXT NOT NULL,
            created REAL NOT NULL, updated REAL NOT NULL)""",
        "CREATE INDEX jobs_device_status ON jobs (device, status)",
        """CREATE TABLE results (
            result_id TEXT PRIMARY KEY, job TEXT NOT NULL UNIQUE, device TEXT NOT NULL,
            student TEXT, lesson_id TEXT, status TEXT NOT NULL, score REAL,
            result TEXT NOT NULL, received REAL NOT NULL)""",
        """CREATE TABLE teachers (
            username TEXT PRIMARY KEY, pwhash TEXT NOT NULL, created REAL NOT NULL)""",
        """CREATE TABLE tokens (
            token_hash TEXT PRIMARY KEY, username TEXT NOT NULL, name TEXT NOT NULL,
            created REAL NOT NULL)""",
        """CREATE TABLE estop (
            id INTEGER PRIMARY KEY CHECK (id = 1), active INTEGER NOT NULL,
            epoch INTEGER NOT NULL, by TEXT NOT NULL, ts REAL NOT NULL)""",
    ],
]

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


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Store:
    """One SQLite file; every method is thread-safe."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
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
        rows = self._rows("SELECT * FROM devices ORDER BY device")
        for r in rows:
            r["online"] = bool(r["online"])
            r["estopped"] = bool(r["estopped"])
            r["preflight"] = json.loads(r["preflight"]) if r["preflight"] else None
            r["versions"] = json.loads(r["versions"]) if r["versions"] else {}
        return rows

    def device_ids(self, online_only: bool = False) -> list[str]:
        where = " WHERE online = 1" if online_only else ""
        return [str(r["device"]) for r in self._rows(f"SELECT device FROM devices{where}")]  # noqa: S608 - fixed text

    def bind(self, device: str, student: str | None) -> bool:
        return self._exec("UPDATE devices SET student = ? WHERE device = ?", (student, device)) > 0

    # -- jobs ----------------------------------------------------------------

    def add_job(self, job: str, device: str, lesson_id: str, sha256: str, doc: str) -> None:
        now = time.time()
        self._exec(
            "INSERT INTO jobs VALUES (?, ?, ?, ?, ?, NULL, ?, ?, ?)",
            (job, device, lesson_id, sha256, "PENDING", doc, now, now),
        )

    def add_jobs(self, rows: list[tuple[str, str, str, str, str]]) -> None:
        """Add ``(job, device, lesson_id, sha256, doc)`` rows, PENDING, in one transaction."""
        now = time.time()
        with self._lock:
            self._db.execute("BEGIN")
            try:
                self._db.executemany(
                    "INSERT INTO jobs VALUES (?, ?, ?, ?, 'PENDING', NULL, ?, ?, ?)",
                    [(*row, now, now) for row in rows],
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
        score = msg.result.get("score")
        with self._lock:
            job = self._db.execute(
                "SELECT lesson_id FROM jobs WHERE job = ?", (msg.job,)
            ).fetchone()
            student = self._db.execute(
                "SELECT student FROM devices WHERE device = ?", (msg.device,)
            ).fetchone()
            cur = self._db.execute(
                "INSERT OR IGNORE INTO results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    msg.result_id,
                    msg.job,
                    msg.device,
                    None if student is None else student["student"],
                    None if job is None else job["lesson_id"],
                    msg.status.value,
                    float(score) if isinstance(score, int | float) else None,
                    json.dumps(msg.result, ensure_ascii=False),
                    time.time(),
                ),
            )
            return cur.rowcount > 0

    def add_results(self, msgs: list[JobResult]) -> list[bool]:
        """Store results and move their jobs on, all in one transaction.

        One flag per message: ``True`` when it was stored, ``False`` when it
        (or a result for its job) was already here. A job's final status comes
        from its result, with the result's ``reason``; a finished job stays
        finished.
        """
        terminal = tuple(s.value for s in TERMINAL)
        marks = ",".join("?" * len(terminal))
        now = time.time()
        added = []
        with self._lock:
            self._db.execute("BEGIN")
            try:
                for msg in msgs:
                    score = msg.result.get("score")
                    cur = self._db.execute(
                        """INSERT OR IGNORE INTO results
                           SELECT ?, ?, ?, (SELECT student FROM devices WHERE device = ?),
                                  (SELECT lesson_id FROM jobs WHERE job = ?), ?, ?, ?, ?""",
                        (
                            msg.result_id,
                            msg.job,
                            msg.device,
                            msg.device,
                            msg.job,
                            msg.status.value,
                            float(score) if isinstance(score, int | float) else None,
                            json.dumps(msg.result, ensure_ascii=False),
                            now,
                        ),
                    )
                    added.append(cur.rowcount > 0)
                    reason = msg.result.get("reason")
                    self._db.execute(
                        f"UPDATE jobs SET status = ?, reason = ?, updated = ? "  # noqa: S608 - placeholders only
                        f"WHERE job = ? AND status NOT IN ({marks})",
                        (
                            msg.status.value,
                            None if reason is None else str(reason),
                            now,
                            msg.job,
                            *terminal,
                        ),
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
    ) -> list[dict[str, Any]]:
        where: list[str] = []
        args: list[Any] = []
        for column, value in (
            ("device", device),
            ("student", student),
            ("lesson_id", lesson),
            ("status", status),
        ):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        if since is not None:
            where.append("received >= ?")
            args.append(since)
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        rows = self._rows(f"SELECT * FROM results{clause} ORDER BY received", args)  # noqa: S608 - fixed column names
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

    def login(self, username: str, password: str) -> str | None:
        rows = self._rows("SELECT pwhash FROM teachers WHERE username = ?", (username,))
        if not rows or not check_password(password, rows[0]["pwhash"]):
            return None
        return self.new_token(username, "login")

    def new_token(self, username: str, name: str) -> str:
        token = secrets.token_urlsafe(32)
        self._exec(
            "INSERT INTO tokens VALUES (?, ?, ?, ?)",
            (_token_hash(token), username, name, time.time()),
        )
        return token

    def token_user(self, token: str) -> str | None:
        rows = self._rows("SELECT username FROM tokens WHERE token_hash = ?", (_token_hash(token),))
        return str(rows[0]["username"]) if rows else None

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
