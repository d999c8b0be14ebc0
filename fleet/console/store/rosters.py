"""Classes and their pseudonymous students, and which robot each student has.

A student's display name and class (roster) live only in ``students``, under
a random id (``s-`` and 16 hex digits). Devices, jobs and results refer to
that id, so :meth:`RosterStore.purge` deletes a class's names and results
without leaving them anywhere else in the file (it ends with ``VACUUM`` and a
WAL checkpoint, and ``secure_delete`` is on).
"""

from __future__ import annotations

import secrets
import time

from fleet.console.store.records import Purged, Roster, Student
from fleet.console.store.sql import Connection, Session, begun, chunks, marks

__all__ = ["DEFAULT_ROSTER", "RosterStore"]

#: The class of students bound without one (and of every student a version-1 database named).
DEFAULT_ROSTER = "default"


def _student_id(db: Session, roster: str, name: str) -> str:
    """The id of ``name`` in ``roster``, made now if new; the caller holds the lock."""
    row = db.execute(
        "SELECT id FROM students WHERE roster = ? AND name = ?", (roster, name)
    ).fetchone()
    if row is not None:
        return str(row["id"])
    student_id = f"s-{secrets.token_hex(8)}"
    db.execute(
        "INSERT INTO students (id, name, roster, created) VALUES (?, ?, ?, ?)",
        (student_id, name, roster, time.time()),
    )
    return student_id


#: The tables a purge deletes from.
_PURGED = (
    "jobs",
    "results",
    "devices",
    "student_pins",
    "student_sessions",
    "student_code",
    "handins",
    "periods",
    "students",
    "models",
    "class_settings",
)


class RosterStore:
    """``students``, and the binding of a device to one of them."""

    def __init__(self, db: Connection) -> None:
        self._db = db

    def bind(self, device: str, student: str | None, roster: str | None = None) -> bool:
        """Bind ``device`` to the student of that name in ``roster`` (made if new); ``None`` unbinds.

        ``False`` when there is no such device (and then no student is made).
        """
        with self._db.locked() as db:
            if db.execute("SELECT 1 FROM devices WHERE device = ?", (device,)).fetchone() is None:
                return False
            student_id = (
                None if student is None else _student_id(db, roster or DEFAULT_ROSTER, student)
            )
            db.execute("UPDATE devices SET student_id = ? WHERE device = ?", (student_id, device))
        return True

    def add_student(self, name: str, roster: str = DEFAULT_ROSTER) -> str:
        """The pseudonymous id of ``name`` in ``roster`` (the same id every time)."""
        with self._db.locked() as db:
            return _student_id(db, roster, name)

    def students(self, roster: str | None = None) -> list[Student]:
        """Students (of one class, or all) with their bound devices and how many results they have."""
        rows = self._db.rows(
            "SELECT s.id, s.name, s.roster, s.created, "
            "(SELECT COUNT(*) FROM results r WHERE r.student_id = s.id) AS results, "
            "(SELECT group_concat(device, ',') FROM devices d WHERE d.student_id = s.id) AS devices "
            "FROM students s WHERE CAST(?1 AS TEXT) IS NULL OR s.roster = ?1 ORDER BY s.roster, s.name",
            (roster,),
        )
        return [
            Student(
                id=r["id"],
                name=r["name"],
                roster=r["roster"],
                created=r["created"],
                results=r["results"],
                devices=sorted(r["devices"].split(",")) if r["devices"] else [],
            )
            for r in rows
        ]

    def known(self, ids: list[str]) -> set[str]:
        """Which of these pseudonymous ids are students here (the others: purged, or never ours)."""
        found: set[str] = set()
        for part in chunks(ids):
            rows = self._db.rows(
                f"SELECT id FROM students WHERE id IN ({marks(len(part))})",  # noqa: S608 - placeholders only
                part,
            )
            found.update(str(r["id"]) for r in rows)
        return found

    def list(self) -> list[Roster]:
        """Each class with how many students and results it has."""
        rows = self._db.rows(
            "SELECT s.roster AS roster, COUNT(*) AS students, "
            "CAST(SUM((SELECT COUNT(*) FROM results r WHERE r.student_id = s.id)) AS INTEGER) AS results "
            "FROM students s GROUP BY s.roster ORDER BY s.roster"
        )
        return [Roster(r["roster"], r["students"], r["results"]) for r in rows]

    def exists(self, roster: str) -> bool:
        """Whether the class has any student."""
        return bool(self._db.rows("SELECT 1 FROM students WHERE roster = ? LIMIT 1", (roster,)))

    def purge(self, roster: str) -> Purged:
        """Delete a class: its students, their results, jobs, PINs, sessions, code,
        hand-ins and models on the shelf, its periods and settings, and its devices' bindings.

        Then the engine scrubs (:meth:`~fleet.console.store.sql.Connection.scrub`): on SQLite
        ``VACUUM`` and a WAL checkpoint, so no deleted name or result is left in the
        file's free pages or its write-ahead log; on PostgreSQL ``VACUUM FULL``. Answers what
        was deleted, and which devices were bound to those students.
        """
        ids = "(SELECT id FROM students WHERE roster = ?)"
        with self._db.locked() as db:
            devices = [
                str(r["device"])
                for r in db.execute(
                    f"SELECT device FROM devices WHERE student_id IN {ids} ORDER BY device",  # noqa: S608 - fixed text
                    (roster,),
                ).fetchall()
            ]
            with begun(db):
                jobs = db.execute(
                    f"DELETE FROM jobs WHERE student_id IN {ids} "  # noqa: S608 - fixed text
                    f"OR job IN (SELECT job FROM results WHERE student_id IN {ids})",
                    (roster, roster),
                ).rowcount
                results = db.execute(
                    f"DELETE FROM results WHERE student_id IN {ids}",  # noqa: S608 - fixed text
                    (roster,),
                ).rowcount
                db.execute(
                    f"UPDATE devices SET student_id = NULL WHERE student_id IN {ids}",  # noqa: S608 - fixed text
                    (roster,),
                )
                for table in (
                    "student_pins",
                    "student_sessions",
                    "student_code",
                    "handins",
                    "models",
                ):
                    db.execute(
                        f"DELETE FROM {table} WHERE student_id IN {ids}",  # noqa: S608 - fixed text
                        (roster,),
                    )
                db.execute("DELETE FROM periods WHERE roster = ?", (roster,))
                db.execute("DELETE FROM class_settings WHERE roster = ?", (roster,))
                students = db.execute("DELETE FROM students WHERE roster = ?", (roster,)).rowcount
            self._db.scrub(db, _PURGED)
        return Purged(roster, students, results, jobs, devices)
