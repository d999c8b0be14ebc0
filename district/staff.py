"""District staff: accounts with argon2id password hashes, and their logins.

The same choices as the console's teachers (fleet/console/passwords.py):
argon2id at OWASP's first setting (19 MiB, 2 passes, 1 lane), an unknown
name costs one hash too, and a login is a random token of which only its
sha256 is stored::

    store.staff.add("ms-wang", "a long secret")
    token = store.staff.login("ms-wang", "a long secret")   # None when wrong
    store.staff.token_user(token)                            # 'ms-wang'
"""

from __future__ import annotations

import hashlib
import secrets
import time

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from district.db import Db
from district.errors import StaffError
from fleet.core.topics import valid_id

__all__ = ["MIN_PASSWORD", "SESSION_S", "StaffStore"]

#: How long a staff login lasts (s).
SESSION_S = 12 * 3600.0
MIN_PASSWORD = 10

_HASHER = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1, type=Type.ID)
#: Checked against for a name nobody has: the same work as a real check.
_NOBODY = _HASHER.hash(secrets.token_hex(16))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class StaffStore:
    """``staff`` and ``staff_tokens``."""

    def __init__(self, db: Db) -> None:
        self._db = db

    def add(self, name: str, password: str) -> int:
        """Add ``name`` or set a new password (logging them out everywhere); old logins ended."""
        if not valid_id(name):
            raise StaffError(
                f"staff name {name!r}: letters, digits, _ . - only / 用户名只能用字母、数字、_ . -"
            )
        if len(password) < MIN_PASSWORD:
            raise StaffError(
                f"the password needs at least {MIN_PASSWORD} characters / 密码至少 {MIN_PASSWORD} 个字符"
            )
        stored = _HASHER.hash(password)
        with self._db.transaction() as conn:
            conn.execute(
                "INSERT INTO staff (name, hash, created) VALUES (%s, %s, %s) "
                "ON CONFLICT (name) DO UPDATE SET hash = EXCLUDED.hash",
                (name, stored, time.time()),
            )
            cur = conn.execute("DELETE FROM staff_tokens WHERE name = %s", (name,))
            return cur.rowcount

    def exists(self, name: str) -> bool:
        return bool(self._db.rows("SELECT 1 FROM staff WHERE name = %s", (name,)))

    def any(self) -> bool:
        return bool(self._db.rows("SELECT 1 FROM staff LIMIT 1"))

    def login(self, name: str, password: str) -> str | None:
        """A new login token for the right password, else ``None`` (same cost either way)."""
        rows = self._db.rows("SELECT hash FROM staff WHERE name = %s", (name,))
        stored = rows[0]["hash"] if rows else _NOBODY
        try:
            _HASHER.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return None
        if not rows:
            return None
        token = secrets.token_urlsafe(32)
        now = time.time()
        with self._db.transaction() as conn:
            conn.execute("DELETE FROM staff_tokens WHERE expires < %s", (now,))
            conn.execute(
                "INSERT INTO staff_tokens (token_sha256, name, created, expires) "
                "VALUES (%s, %s, %s, %s)",
                (_digest(token), name, now, now + SESSION_S),
            )
        return token

    def token_user(self, token: str) -> str | None:
        """Whose live login ``token`` is."""
        rows = self._db.rows(
            "SELECT name FROM staff_tokens WHERE token_sha256 = %s AND expires > %s",
            (_digest(token), time.time()),
        )
        return str(rows[0]["name"]) if rows else None

    def logout(self, token: str) -> bool:
        with self._db.transaction() as conn:
            cur = conn.execute(
                "DELETE FROM staff_tokens WHERE token_sha256 = %s", (_digest(token),)
            )
            return cur.rowcount > 0
