"""The connection every domain store shares: one engine, one lock, transactions.

Two engines speak the same SQL (docs/decisions/0034-one-sql-two-engines.md):

- :class:`SqliteConnection`, the default: one SQLite file in WAL mode; the
  schema moves forward by the numbered migrations of
  :mod:`fleet.console.store.schema` (``PRAGMA user_version``).
- :class:`fleet.console.store.postgres.PostgresConnection`, for a
  ``postgresql://`` URL (psycopg 3, imported only then): each statement is
  rewritten by :func:`fleet.console.store.postgres.to_postgres` (``?`` marks,
  type names, ``group_concat``), and the schema starts at the current version.

:func:`connect` picks one. Every domain store (:mod:`~fleet.console.store.devices`,
...) writes its SQL against :class:`Connection` in the portable subset: ``?``
or ``?N`` marks, ``ON CONFLICT`` (never ``INSERT OR ...``), a ``?`` tested
with ``IS NULL`` cast to its type, ``group_concat(x, ',')``, sums cast to
``INTEGER``. So the SQL of a domain stays in its own module and the engines
in these two.
"""

from __future__ import annotations

import sqlite3
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol, TypeVar

from fleet.console.store.schema import MIGRATIONS
from fleet.core.errors import StoreError
from rcbase.closeable import Closeable

__all__ = [
    "MIN_SQLITE",
    "ROWS_PER_STATEMENT",
    "Connection",
    "Cursor",
    "Row",
    "Session",
    "SqliteConnection",
    "begun",
    "chunks",
    "connect",
    "is_url",
    "marks",
    "require_sqlite",
]

#: Most rows (or ids of an ``IN`` list) in one statement: at 6 values a row well under
#: the 32766 parameters of SQLite >= 3.32 (and PostgreSQL's 65535).
ROWS_PER_STATEMENT = 500
#: ``UPDATE ... FROM`` came in SQLite 3.33 (with 32766 parameters a statement from 3.32).
MIN_SQLITE = (3, 33, 0)

T = TypeVar("T")
Args = Sequence[Any]


class Row(Protocol):
    """A row: by column name (``r["device"]``) or by place (``r[0]``), and iterable."""

    def __getitem__(self, key: int | str, /) -> Any: ...


class Cursor(Protocol):
    """What :meth:`Session.execute` answers (``sqlite3.Cursor`` or psycopg's)."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Session(Protocol):
    """The engine's connection, as :meth:`Connection.locked` hands it out (an
    ``sqlite3.Connection``, or psycopg's behind :func:`~fleet.console.store.postgres.to_postgres`)."""

    def execute(self, sql: str, args: Args = (), /) -> Cursor: ...

    def executemany(self, sql: str, rows: Iterable[Args], /) -> Any: ...


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


def marks(count: int) -> str:
    """``?,?,?`` for ``count`` placeholders (an ``IN`` list or a row of values)."""
    return ",".join("?" * count)


def chunks(items: Sequence[T], size: int = ROWS_PER_STATEMENT) -> Iterator[Sequence[T]]:
    """``items`` in slices of at most ``size``: one statement each (long ``IN`` lists, many rows)."""
    for first in range(0, len(items), size):
        yield items[first : first + size]


@contextmanager
def begun(db: Session) -> Iterator[Session]:
    """``BEGIN`` ... ``COMMIT`` on a connection the caller has locked (``ROLLBACK`` on a raise)."""
    db.execute("BEGIN")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def is_url(store: str | Path) -> bool:
    """Whether ``store`` names a server (``scheme://...``) rather than an SQLite file."""
    return isinstance(store, str) and "://" in store


class Connection(Closeable, ABC):
    """One engine's connection behind one lock; every method is thread-safe.

    Subclasses open it and migrate the schema; :attr:`engine` names them.
    """

    #: ``"sqlite"`` or ``"postgresql"``.
    engine = ""

    def __init__(self, session: Session) -> None:
        self._lock = threading.Lock()
        self._db = session

    @property
    @abstractmethod
    def schema_version(self) -> int:
        """The number of the last migration the database has had."""

    def _session(self) -> Session:
        """The engine's connection (the caller holds the lock)."""
        return self._db

    def rows(self, sql: str, args: Args = ()) -> list[Row]:
        """Every row ``sql`` selects."""
        with self._lock:
            return self._session().execute(sql, args).fetchall()

    def execute(self, sql: str, args: Args = ()) -> int:
        """Run one statement; how many rows it changed."""
        with self._lock:
            return self._session().execute(sql, args).rowcount

    @contextmanager
    def locked(self) -> Iterator[Session]:
        """The connection, for several statements nobody else runs between (no transaction)."""
        with self._lock:
            yield self._session()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """The connection inside ``BEGIN`` ... ``COMMIT`` (``ROLLBACK`` when the block raises)."""
        with self._lock, begun(self._session()) as db:
            yield db

    @abstractmethod
    def scrub(self, db: Session, tables: Sequence[str]) -> None:
        """Leave no deleted row of ``tables`` in the database's files, on a ``db`` the caller
        has locked, outside a transaction (after a class is purged)."""


class SqliteConnection(Connection):
    """One SQLite file, opened in WAL mode and migrated."""

    engine = "sqlite"

    def __init__(self, path: Path) -> None:
        require_sqlite(sqlite3.sqlite_version_info)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA secure_delete=ON")  # deleted rows are zeroed, not left in pages
        super().__init__(db)
        self._sqlite = db
        self._migrate()

    def _migrate(self) -> None:
        version = int(self._sqlite.execute("PRAGMA user_version").fetchone()[0])
        for number, statements in enumerate(MIGRATIONS[version:], start=version + 1):
            self._sqlite.execute("BEGIN")
            for statement in statements:
                self._sqlite.execute(statement)
            self._sqlite.execute(f"PRAGMA user_version = {number}")
            self._sqlite.execute("COMMIT")

    @property
    def schema_version(self) -> int:
        with self._lock:
            return int(self._sqlite.execute("PRAGMA user_version").fetchone()[0])

    def scrub(self, db: Session, tables: Sequence[str]) -> None:
        # secure_delete zeroed the rows; VACUUM drops the free pages, the checkpoint the WAL
        db.execute("VACUUM")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def _close(self) -> None:
        with self._lock:
            self._sqlite.close()


def connect(store: str | Path) -> Connection:
    """The connection ``store`` names: a ``postgresql://`` URL, else an SQLite file's path.

    Raises :class:`StoreError` (in English and Chinese, saying what to do) for
    another kind of URL, a missing psycopg or a server that cannot be reached.
    """
    if not is_url(store):
        return SqliteConnection(Path(store))
    from fleet.console.store.postgres import PostgresConnection, is_postgres_url  # noqa: PLC0415

    if not is_postgres_url(str(store)):
        scheme = str(store).split("://", 1)[0]
        raise StoreError(
            f"the console's store is an SQLite file or a postgresql:// URL, not {scheme}://: "
            "give --store postgresql://USER@HOST:5432/DATABASE, or leave it out for SQLite / "
            f"控制台的数据库是 SQLite 文件或 postgresql:// 地址，不支持 {scheme}://："
            "请用 --store postgresql://用户@主机:5432/数据库，或不写（使用 SQLite）"
        )
    return PostgresConnection(str(store))
