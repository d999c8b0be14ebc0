"""The connection every domain store shares: one SQLite file, one lock, transactions.

SQLite in WAL mode; the schema moves forward by numbered migrations
(:mod:`fleet.console.store.schema`, ``PRAGMA user_version``). Every domain
store (:mod:`~fleet.console.store.devices`, ...) writes its SQL against this
object, so the SQL of a domain stays in its own module and the engine in
this one.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from fleet.console.store.schema import MIGRATIONS
from fleet.core.errors import StoreError
from rcbase.closeable import Closeable

__all__ = [
    "MIN_SQLITE",
    "ROWS_PER_STATEMENT",
    "Connection",
    "begun",
    "chunks",
    "marks",
    "require_sqlite",
]

#: Most rows (or ids of an ``IN`` list) in one statement: at 6 values a row well under
#: the 32766 parameters of SQLite >= 3.32.
ROWS_PER_STATEMENT = 500
#: ``UPDATE ... FROM`` came in SQLite 3.33 (with 32766 parameters a statement from 3.32).
MIN_SQLITE = (3, 33, 0)

T = TypeVar("T")
Args = Sequence[Any]


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
def begun(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN`` ... ``COMMIT`` on a connection the caller has locked (``ROLLBACK`` on a raise)."""
    db.execute("BEGIN")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


class Connection(Closeable):
    """One SQLite file, opened in WAL mode and migrated; every method is thread-safe."""

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

    def rows(self, sql: str, args: Args = ()) -> list[sqlite3.Row]:
        """Every row ``sql`` selects."""
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def execute(self, sql: str, args: Args = ()) -> int:
        """Run one statement; how many rows it changed."""
        with self._lock:
            return self._db.execute(sql, args).rowcount

    @contextmanager
    def locked(self) -> Iterator[sqlite3.Connection]:
        """The connection, for several statements nobody else runs between (no transaction)."""
        with self._lock:
            yield self._db

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """The connection inside ``BEGIN`` ... ``COMMIT`` (``ROLLBACK`` when the block raises)."""
        with self._lock, begun(self._db) as db:
            yield db

    def _close(self) -> None:
        with self._lock:
            self._db.close()
