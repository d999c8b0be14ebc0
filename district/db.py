"""One PostgreSQL connection shared by the district's stores, behind a lock.

The stores run their SQL through :class:`Db`: :meth:`Db.rows` for a read,
:meth:`Db.transaction` for writes that belong together. A connection that
broke (PostgreSQL restarted) is made again at the next use.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.rows import dict_row

from district.errors import StoreError

__all__ = ["Conn", "Db"]

logger = logging.getLogger(__name__)

Conn = psycopg.Connection[dict[str, Any]]


def _safe(url: str) -> str:
    """``url`` without its password, for messages."""
    head, at, tail = url.rpartition("@")
    if not at:
        return url
    scheme, _, userinfo = head.partition("://")
    return f"{scheme}://{userinfo.split(':')[0]}@{tail}"


class Db:
    """The connection (autocommit; explicit transactions) and the lock around it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.lock = threading.RLock()
        self._conn = self._connect()

    def _connect(self) -> Conn:
        try:
            return psycopg.connect(self.url, autocommit=True, row_factory=dict_row)
        except psycopg.OperationalError as exc:
            raise StoreError(
                f"cannot reach the district database {_safe(self.url)} ({exc}): is PostgreSQL "
                "running, and the URL right (postgresql://USER@HOST:PORT/DB)? / 连不上区级数据库："
                "请检查 PostgreSQL 是否在运行、地址是否正确"
            ) from exc

    @property
    def conn(self) -> Conn:
        """The connection, made again if it broke; hold :attr:`lock` while using it."""
        if self._conn.broken or self._conn.closed:
            logger.warning("district database connection lost; connecting again")
            self._conn = self._connect()
        return self._conn

    @contextmanager
    def transaction(self) -> Iterator[Conn]:
        """The connection inside one transaction (committed at the end, rolled back on error)."""
        with self.lock:
            conn = self.conn
            with conn.transaction():
                yield conn

    def rows(self, sql: str, args: Sequence[Any] | dict[str, Any] = ()) -> list[dict[str, Any]]:
        """The rows a query answers, as dicts."""
        with self.lock:
            return self.conn.execute(sql.encode(), args).fetchall()

    def close(self) -> None:
        with self.lock:
            self._conn.close()
