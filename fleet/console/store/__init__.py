"""The console's database: one SQLite file (or a PostgreSQL database), a store per
domain, typed records.

::

    with Database(Path("data/console.sqlite")) as db:    # or "postgresql://..."
        db.devices.list(online_only=True)        # [Device(device="r1", ...)]
        db.results.add(job_result)               # once: False when it is already here
        db.jobs.set_status("j1", Status.IN_PROGRESS, None)
        db.audit.add("ms-li", AuditAction.STOP, epoch=3)

:class:`Database` owns the connection (WAL, the migrations of
:mod:`~fleet.console.store.schema`, transactions; :mod:`~fleet.console.store.sql`,
and :mod:`~fleet.console.store.postgres` for a ``postgresql://`` URL)
and one store per domain, each with its SQL in its own module:
:attr:`~Database.devices`, :attr:`~Database.jobs`, :attr:`~Database.results`,
:attr:`~Database.rosters` (students, classes, which robot a student has),
:attr:`~Database.accounts` (teachers and tokens), :attr:`~Database.audit`,
:attr:`~Database.estop`, :attr:`~Database.classes` (class periods, students' PINs
and sessions, a class's settings), :attr:`~Database.work` (students' code and hand-ins)
and :attr:`~Database.models` (the model shelf). They answer with the frozen records of
:mod:`~fleet.console.store.records`; ``record.to_json()`` is what the JSON API
sends.

The database is the source of truth: what it says is pending is re-sent when
a device is born again. Students are pseudonymous
(:mod:`~fleet.console.store.rosters`).
"""

from __future__ import annotations

from pathlib import Path

from fleet.console.store.accounts import LOGIN_TTL_S, AccountStore, check_password, hash_password
from fleet.console.store.audit import AuditLog
from fleet.console.store.classes import ClassStore
from fleet.console.store.classrecords import (
    CodeVersion,
    HandIn,
    Period,
    PinKind,
    Place,
    StudentSession,
)
from fleet.console.store.devices import DeviceStore
from fleet.console.store.estop import EStopStore
from fleet.console.store.jobs import JobStore
from fleet.console.store.models import ModelStore
from fleet.console.store.records import (
    LOGIN,
    AuditAction,
    AuditEntry,
    Device,
    EStopState,
    Job,
    JobState,
    ModelRecord,
    PendingJob,
    Purged,
    Record,
    Result,
    ResultFilter,
    Roster,
    StoredJob,
    Student,
    Token,
    TokenInfo,
)
from fleet.console.store.results import ResultStore
from fleet.console.store.rosters import DEFAULT_ROSTER, RosterStore
from fleet.console.store.schema import MIGRATIONS
from fleet.console.store.sql import MIN_SQLITE, Connection, connect, is_url, require_sqlite
from fleet.console.store.work import MAX_CODE, WorkStore, code_sha256
from rcbase.closeable import Closeable

__all__ = [
    "DEFAULT_ROSTER",
    "LOGIN",
    "LOGIN_TTL_S",
    "MAX_CODE",
    "MIGRATIONS",
    "MIN_SQLITE",
    "AuditAction",
    "AuditEntry",
    "ClassStore",
    "CodeVersion",
    "Database",
    "Device",
    "EStopState",
    "HandIn",
    "Job",
    "JobState",
    "ModelRecord",
    "ModelStore",
    "PendingJob",
    "Period",
    "PinKind",
    "Place",
    "Purged",
    "Record",
    "Result",
    "ResultFilter",
    "Roster",
    "StoredJob",
    "Student",
    "StudentSession",
    "Token",
    "TokenInfo",
    "WorkStore",
    "check_password",
    "code_sha256",
    "hash_password",
    "require_sqlite",
]


class Database(Closeable):
    """The console's database and its stores; every method is thread-safe.

    ``store`` is an SQLite file's path (the default, made if new) or a
    ``postgresql://`` URL (``pip install roboclass[postgres]``); either way
    the schema is migrated to the newest version. Raises
    :class:`fleet.core.errors.StoreError` saying what to do when it cannot be opened.
    """

    def __init__(self, store: Path | str) -> None:
        self._connection: Connection = connect(store)
        #: The SQLite file (``None`` on PostgreSQL).
        self.path = None if is_url(store) else Path(store)
        self.devices = DeviceStore(self._connection)
        self.jobs = JobStore(self._connection)
        self.results = ResultStore(self._connection)
        self.rosters = RosterStore(self._connection)
        self.accounts = AccountStore(self._connection)
        self.audit = AuditLog(self._connection)
        self.estop = EStopStore(self._connection)
        self.classes = ClassStore(self._connection)
        self.work = WorkStore(self._connection)
        self.models = ModelStore(self._connection)

    @property
    def engine(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self._connection.engine

    @property
    def schema_version(self) -> int:
        """The number of the last migration this file has had."""
        return self._connection.schema_version

    def _close(self) -> None:
        self._connection.close()
