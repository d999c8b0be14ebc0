"""The robots the room knows: births, last wills, when each was last seen."""

from __future__ import annotations

import builtins
import json
import time

from fleet.console.store.records import Device
from fleet.console.store.sql import Connection, Row
from fleet.core.protocol import DeviceState

__all__ = ["DeviceStore"]

_SELECT = (
    "SELECT d.device, d.session, d.online, d.kit, d.backend, d.battery, d.estopped, d.job, "
    "d.preflight, d.versions, d.student_id, d.first_seen, d.last_seen, "
    "s.name AS student, s.roster AS roster FROM devices d "
    "LEFT JOIN students s ON s.id = d.student_id"
)


def _device(r: Row) -> Device:
    return Device(
        device=r["device"],
        session=r["session"],
        online=bool(r["online"]),
        kit=r["kit"],
        backend=r["backend"],
        battery=r["battery"],
        estopped=bool(r["estopped"]),
        job=r["job"],
        preflight=json.loads(r["preflight"]) if r["preflight"] else None,
        versions=json.loads(r["versions"]) if r["versions"] else {},
        student_id=r["student_id"],
        first_seen=r["first_seen"],
        last_seen=r["last_seen"],
        student=r["student"],
        roster=r["roster"],
    )


class DeviceStore:
    """``devices``: one row per robot, kept until it is revoked."""

    def __init__(self, db: Connection) -> None:
        self._db = db

    def record_state(self, state: DeviceState) -> bool:
        """Record a birth or a last will; ``False`` for a stale will of an old session."""
        now = time.time()
        with self._db.locked() as db:
            row = db.execute(
                "SELECT session FROM devices WHERE device = ?", (state.device,)
            ).fetchone()
            if not state.online and row is not None and row["session"] not in (None, state.session):
                return False
            if state.online:
                db.execute(
                    """INSERT INTO devices (device, session, online, kit, backend, battery,
                        estopped, job, preflight, versions, first_seen, last_seen)
                       VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                       ON CONFLICT(device) DO UPDATE SET session = excluded.session, online = 1,
                        kit = excluded.kit, backend = excluded.backend, battery = excluded.battery,
                        estopped = excluded.estopped, job = excluded.job,
                        preflight = COALESCE(excluded.preflight, devices.preflight),
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
                db.execute(
                    """INSERT INTO devices (device, session, online, first_seen, last_seen)
                       VALUES (?, ?, 0, ?, ?)
                       ON CONFLICT(device) DO UPDATE SET online = 0, last_seen = excluded.last_seen""",
                    (state.device, state.session, now, now),
                )
        return True

    def seen(self, device: str, battery: float | None) -> None:
        """``device`` was heard from now (its battery, when it said)."""
        self._db.execute(
            "UPDATE devices SET last_seen = ?, battery = COALESCE(?, battery) WHERE device = ?",
            (time.time(), battery, device),
        )

    def list(self, *, online_only: bool = False) -> list[Device]:
        """Every device (or every one online), by name."""
        where = " WHERE d.online = 1" if online_only else ""
        return [_device(r) for r in self._db.rows(f"{_SELECT}{where} ORDER BY d.device")]

    def get(self, device: str) -> Device | None:
        """One device, or ``None`` when the room does not know it."""
        rows = self._db.rows(f"{_SELECT} WHERE d.device = ?", (device,))
        return _device(rows[0]) if rows else None

    def ids(self, *, online_only: bool = False) -> builtins.list[str]:
        """The devices' names (only those online, when asked)."""
        where = " WHERE online = 1" if online_only else ""
        return [str(r["device"]) for r in self._db.rows(f"SELECT device FROM devices{where}")]  # noqa: S608 - fixed text

    def forget(self, device: str) -> bool:
        """Drop a revoked device from the list (its jobs and results stay); False if unknown."""
        return self._db.execute("DELETE FROM devices WHERE device = ?", (device,)) > 0
