"""Class periods, students' PINs and their sessions, a class's settings.

A teacher starts a **period** for a class (roster): it has a short join
code (6 letters and digits that cannot be misread: no 0/O, 1/I/L) and an
end. A student joins with the code, their name and their PIN; the PIN is
stored only as an argon2id hash (:mod:`fleet.console.passwords`) and a
check costs one argon2id run whether the student has a PIN or not. A
student's **session** is a random token stored as its SHA-256; it ends
when the period ends, when it expires, or when the teacher ends the period.
A class's **settings** (``class_settings``, one row per class that changed
one) say whether its students get a camera panel (default: yes).

::

    period = store.start_period("7A", "ms-li", lesson_id="follow-the-line", minutes=45)
    store.set_pin(student_id, "4821", PinKind.DIGITS)
    if store.check_pin(student_id, "4821"):
        token = store.open_session(student_id, period)
"""

from __future__ import annotations

import hashlib
import secrets
import time

from fleet.console.passwords import PASSWORDS, Passwords
from fleet.console.store.classrecords import Period, PinKind, StudentSession
from fleet.console.store.sql import Connection, Row, Session

__all__ = ["CODE_ALPHABET", "CODE_LENGTH", "ClassStore", "normal_code"]

#: Letters and digits a child will not misread (no 0/O, 1/I/L).
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6

_PERIOD = "SELECT id, roster, code, lesson_id, started, ends, ended, teacher FROM periods"


def normal_code(code: str) -> str:
    """A join code as stored: upper case, spaces and dashes dropped."""
    return "".join(c for c in code.upper() if c not in " -")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _period(r: Row) -> Period:
    return Period(
        r["id"],
        r["roster"],
        r["code"],
        r["lesson_id"],
        r["started"],
        r["ends"],
        r["ended"],
        r["teacher"],
    )


class ClassStore:
    """``periods``, ``student_pins``, ``student_sessions`` and ``class_settings``."""

    def __init__(self, db: Connection, passwords: Passwords = PASSWORDS) -> None:
        self._db = db
        self._passwords = passwords

    # -- periods --------------------------------------------------------------

    def start_period(
        self, roster: str, teacher: str, *, lesson_id: str | None = None, minutes: float = 90.0
    ) -> Period:
        """Start a period for ``roster`` (ending the class's period that was open, and its
        students' sessions); its code is new and unique among open periods."""
        now = time.time()
        with self._db.transaction() as db:
            self._end(db, now, roster=roster)
            taken = {r["code"] for r in db.execute("SELECT code FROM periods WHERE ended IS NULL")}
            while (
                code := "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
            ) in taken:
                pass
            period = Period(
                f"p-{secrets.token_hex(6)}",
                roster,
                code,
                lesson_id,
                now,
                now + minutes * 60,
                None,
                teacher,
            )
            db.execute(
                "INSERT INTO periods VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                tuple(period.to_json().values()),
            )
        return period

    def _end(self, db: Session, now: float, *, roster: str = "", period: str = "") -> int:
        """End the open periods of ``roster`` or with the id ``period``; sign their students out."""
        ids = [
            r["id"]
            for r in db.execute(
                "SELECT id FROM periods WHERE ended IS NULL AND (roster = ? OR id = ?)",
                (roster, period),
            )
        ]
        for period_id in ids:
            db.execute("UPDATE periods SET ended = ? WHERE id = ?", (now, period_id))
            db.execute("DELETE FROM student_sessions WHERE period_id = ?", (period_id,))
        return len(ids)

    def end_period(self, period_id: str) -> bool:
        """End a period now: its code stops working and its students are signed out."""
        with self._db.transaction() as db:
            return self._end(db, time.time(), period=period_id) > 0

    def set_lesson(self, period_id: str, lesson_id: str | None) -> bool:
        """Change the lesson an open period's students work on."""
        return (
            self._db.execute(
                "UPDATE periods SET lesson_id = ? WHERE id = ? AND ended IS NULL",
                (lesson_id, period_id),
            )
            > 0
        )

    def periods(self, *, open_only: bool = True) -> list[Period]:
        """Periods, newest first (only those still open unless ``open_only`` is false)."""
        if open_only:
            rows = self._db.rows(
                _PERIOD + " WHERE ended IS NULL AND ends > ? ORDER BY started DESC", (time.time(),)
            )
        else:
            rows = self._db.rows(_PERIOD + " ORDER BY started DESC")
        return [_period(r) for r in rows]

    def period(self, period_id: str) -> Period | None:
        rows = self._db.rows(_PERIOD + " WHERE id = ?", (period_id,))
        return _period(rows[0]) if rows else None

    def open_period(self, code: str) -> Period | None:
        """The open period whose join code is ``code`` (any case, spaces ignored)."""
        rows = self._db.rows(
            _PERIOD + " WHERE code = ? AND ended IS NULL AND ends > ?",
            (normal_code(code), time.time()),
        )
        return _period(rows[0]) if rows else None

    # -- PINs -----------------------------------------------------------------

    def set_pin(self, student_id: str, pin: str, kind: PinKind) -> None:
        """Set (or reset) a student's PIN; their sessions end."""
        pin_hash = self._passwords.hash(pin)
        with self._db.transaction() as db:
            db.execute(
                "INSERT INTO student_pins VALUES (?, ?, ?, ?) ON CONFLICT (student_id) DO UPDATE "
                "SET pin_hash = excluded.pin_hash, kind = excluded.kind, updated = excluded.updated",
                (student_id, pin_hash, kind.value, time.time()),
            )
            db.execute("DELETE FROM student_sessions WHERE student_id = ?", (student_id,))

    def pin_kinds(self, roster: str) -> dict[str, PinKind]:
        """Each student of ``roster`` who has a PIN, and its kind."""
        rows = self._db.rows(
            "SELECT p.student_id, p.kind FROM student_pins p JOIN students s ON s.id = p.student_id "
            "WHERE s.roster = ?",
            (roster,),
        )
        return {r["student_id"]: PinKind(r["kind"]) for r in rows}

    def check_pin(self, student_id: str, pin: str) -> bool:
        """Whether ``pin`` is the student's (one argon2id run, PIN or not)."""
        rows = self._db.rows(
            "SELECT pin_hash FROM student_pins WHERE student_id = ?", (student_id,)
        )
        return self._passwords.check(pin, rows[0]["pin_hash"] if rows else None).ok

    # -- a class's settings ----------------------------------------------------

    def camera_panel(self, roster: str) -> bool:
        """Whether the class's students get a camera panel (the robot's camera on their page)."""
        rows = self._db.rows("SELECT camera_panel FROM class_settings WHERE roster = ?", (roster,))
        return bool(rows[0]["camera_panel"]) if rows else True

    def set_camera_panel(self, roster: str, on: bool) -> None:
        """Turn the class's camera panel on or off (the teacher's own preview is not affected)."""
        self._db.execute(
            "INSERT INTO class_settings (roster, camera_panel) VALUES (?, ?) "
            "ON CONFLICT (roster) DO UPDATE SET camera_panel = excluded.camera_panel",
            (roster, int(on)),
        )

    # -- sessions -------------------------------------------------------------

    def open_session(self, student_id: str, period: Period, ttl_s: float = 8 * 3600.0) -> str:
        """A new session token for the student in ``period`` (it ends with the period)."""
        token = secrets.token_urlsafe(32)
        now = time.time()
        self._db.execute(
            "INSERT INTO student_sessions VALUES (?, ?, ?, ?, ?)",
            (_hash(token), student_id, period.id, now, min(now + ttl_s, period.ends)),
        )
        return token

    def session(self, token: str) -> StudentSession | None:
        """The live session of ``token``, else ``None`` (unknown, expired, period ended)."""
        rows = self._db.rows(
            "SELECT t.student_id, s.name, s.roster, t.period_id, p.lesson_id, t.expires, "
            "(SELECT min(device) FROM devices d WHERE d.student_id = t.student_id) AS device, "
            "coalesce(c.camera_panel, 1) AS camera_panel "
            "FROM student_sessions t JOIN students s ON s.id = t.student_id "
            "JOIN periods p ON p.id = t.period_id "
            "LEFT JOIN class_settings c ON c.roster = s.roster "
            "WHERE t.token_hash = ?1 AND t.expires > ?2 AND p.ended IS NULL AND p.ends > ?2",
            (_hash(token), time.time()),
        )
        if not rows:
            return None
        r = rows[0]
        return StudentSession(
            r["student_id"],
            r["name"],
            r["roster"],
            r["period_id"],
            r["lesson_id"],
            r["expires"],
            r["device"],
            bool(r["camera_panel"]),
        )

    def close_session(self, token: str) -> bool:
        return (
            self._db.execute("DELETE FROM student_sessions WHERE token_hash = ?", (_hash(token),))
            > 0
        )
