"""Numbered migrations per *domain* in one PostgreSQL database.

Each domain (``schools``, ``results``, ``live``, ``staff``; the district's
web side adds ``library`` and ``challenges``) keeps its own version in one
table, so the parts of the district grow their tables independently::

    migrate(conn, "results", [
        ["CREATE TABLE results (...)", "CREATE INDEX ..."],   # version 1
        ["ALTER TABLE results ADD COLUMN challenge TEXT"],     # version 2
    ])

A domain's migrations only ever grow at the end: version ``n`` is the first
``n`` lists. Each run is one transaction under an advisory lock, so two
district processes starting at once migrate once.
"""

from __future__ import annotations

import logging
from typing import Any

import psycopg
from psycopg.rows import tuple_row

from district.errors import SchemaTooNew

__all__ = ["SCHEMA_LOCK", "migrate", "version"]

logger = logging.getLogger(__name__)

#: The advisory lock every migration holds (any constant: ours alone).
SCHEMA_LOCK = 0x526F626F436C6173  # "RoboClas"

_CREATE = (
    "CREATE TABLE IF NOT EXISTS schema_versions ("
    "domain TEXT PRIMARY KEY, version INTEGER NOT NULL, updated DOUBLE PRECISION NOT NULL)"
)


def version(conn: psycopg.Connection[Any], domain: str) -> int:
    """The version ``domain`` has in the database (0: never migrated)."""
    cur = conn.cursor(row_factory=tuple_row)  # whatever rows the connection makes
    exists = cur.execute("SELECT to_regclass('schema_versions')").fetchone()
    if exists is None or exists[0] is None:
        return 0
    row = cur.execute("SELECT version FROM schema_versions WHERE domain = %s", (domain,)).fetchone()
    return int(row[0]) if row else 0


def migrate(conn: psycopg.Connection[Any], domain: str, migrations: list[list[str]]) -> None:
    """Bring ``domain`` to ``len(migrations)``: run the lists it has not had, in one transaction.

    Raises :class:`~district.errors.SchemaTooNew` when the database is newer
    than ``migrations`` (a newer RoboClass migrated it).
    """
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
        conn.execute(_CREATE)
        current = version(conn, domain)
        if current > len(migrations):
            raise SchemaTooNew(
                f"the district database's {domain!r} tables are at version {current}, newer than "
                f"this RoboClass knows ({len(migrations)}): update RoboClass / 数据库的 {domain} "
                f"表版本（{current}）比本程序认识的（{len(migrations)}）新：请升级 RoboClass"
            )
        if current == len(migrations):
            return
        for number, statements in enumerate(migrations[current:], start=current + 1):
            for statement in statements:
                conn.execute(statement.encode())  # bytes: no parameters, a '%' is just a '%'
            logger.info("district database: %s migrated to version %d", domain, number)
        conn.execute(
            "INSERT INTO schema_versions (domain, version, updated) VALUES (%s, %s, extract(epoch "
            "FROM now())) ON CONFLICT (domain) DO UPDATE SET version = EXCLUDED.version, "
            "updated = EXCLUDED.updated",
            (domain, len(migrations)),
        )
