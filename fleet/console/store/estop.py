"""The room's e-stop: on or off, with an epoch that grows with each change."""

from __future__ import annotations

import time

from fleet.console.store.records import EStopState
from fleet.console.store.sql import Connection

__all__ = ["EStopStore"]


class EStopStore:
    """``estop``: one row (or none, before the first STOP)."""

    def __init__(self, db: Connection) -> None:
        self._db = db

    def get(self) -> EStopState:
        """The e-stop now (off, epoch 0, before the first change)."""
        rows = self._db.rows("SELECT active, epoch, by, ts FROM estop WHERE id = 1")
        if not rows:
            return EStopState(active=False, epoch=0, by="", ts=0.0)
        r = rows[0]
        return EStopState(active=bool(r["active"]), epoch=r["epoch"], by=r["by"], ts=r["ts"])

    def set(self, active: bool, by: str) -> EStopState:
        """A new e-stop state with the next epoch."""
        with self._db.locked() as db:
            row = db.execute("SELECT epoch FROM estop WHERE id = 1").fetchone()
            epoch = (0 if row is None else int(row["epoch"])) + 1
            ts = time.time()
            db.execute(
                "INSERT INTO estop VALUES (1, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
                "active = excluded.active, epoch = excluded.epoch, by = excluded.by, ts = excluded.ts",
                (int(active), epoch, by, ts),
            )
        return EStopState(active=active, epoch=epoch, by=by, ts=ts)
