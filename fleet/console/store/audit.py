"""The audit log: which teacher did what, and when."""

from __future__ import annotations

import json
import time
from typing import Any

from fleet.console.store.records import AuditAction, AuditEntry
from fleet.console.store.sql import Connection

__all__ = ["AuditLog"]


class AuditLog:
    """``audit``: one row per teacher action, never changed."""

    def __init__(self, db: Connection) -> None:
        self._db = db

    def add(self, who: str, action: AuditAction | str, **detail: Any) -> None:
        """Record that teacher ``who`` did ``action`` (an :class:`AuditAction`; its value
        for callers that may not import the console, such as enrolment), with what it
        was about."""
        self._db.execute(
            "INSERT INTO audit (ts, who, action, detail) VALUES (?, ?, ?, ?)",
            (
                time.time(),
                who,
                str(AuditAction(action)),
                json.dumps(detail, ensure_ascii=False, sort_keys=True),
            ),
        )

    def list(self, limit: int = 200, action: str | None = None) -> list[AuditEntry]:
        """The newest ``limit`` entries (of one action, when given), newest first."""
        rows = self._db.rows(
            "SELECT id, ts, who, action, detail FROM audit "
            "WHERE CAST(?1 AS TEXT) IS NULL OR action = ?1 "
            "ORDER BY id DESC LIMIT ?2",
            (action, limit),
        )
        return [
            AuditEntry(r["id"], r["ts"], r["who"], r["action"], json.loads(r["detail"]))
            for r in rows
        ]
