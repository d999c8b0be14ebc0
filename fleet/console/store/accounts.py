"""Teachers, their passwords (scrypt) and their tokens (logins and API tokens).

A token is stored only as its SHA-256; its id (the first 16 hex digits of
that hash) lists and revokes it but cannot log in.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

from fleet.console.store.records import LOGIN, Token, TokenInfo
from fleet.console.store.sql import Connection

__all__ = ["LOGIN_TTL_S", "AccountStore", "check_password", "hash_password"]

#: A login token lasts this long unless the console is told otherwise.
LOGIN_TTL_S = 12 * 3600.0

_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, **_SCRYPT)
    return f"scrypt${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    try:
        kind, salt, digest = stored.split("$")
    except ValueError:
        return False
    if kind != "scrypt":
        return False
    got = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), **_SCRYPT)
    return hmac.compare_digest(got.hex(), digest)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class AccountStore:
    """``teachers`` and ``tokens``."""

    def __init__(self, db: Connection) -> None:
        self._db = db

    def add_teacher(self, username: str, password: str) -> None:
        """Add a teacher, or set a teacher's new password."""
        self._db.execute(
            "INSERT OR REPLACE INTO teachers VALUES (?, ?, ?)",
            (username, hash_password(password), time.time()),
        )

    def teacher_exists(self, username: str) -> bool:
        return bool(self._db.rows("SELECT 1 FROM teachers WHERE username = ?", (username,)))

    def has_teachers(self) -> bool:
        return bool(self._db.rows("SELECT 1 FROM teachers LIMIT 1"))

    def login(self, username: str, password: str, ttl_s: float | None = LOGIN_TTL_S) -> str | None:
        """A login token that lasts ``ttl_s`` seconds, or ``None`` for a wrong name or password."""
        rows = self._db.rows("SELECT pwhash FROM teachers WHERE username = ?", (username,))
        if not rows or not check_password(password, rows[0]["pwhash"]):
            return None
        self._db.execute(
            "DELETE FROM tokens WHERE expires IS NOT NULL AND expires <= ?", (time.time(),)
        )
        return self.new_token(username, LOGIN, ttl_s)

    def new_token(self, username: str, name: str, ttl_s: float | None = None) -> str:
        """A bearer token for ``username``; it never expires when ``ttl_s`` is ``None``."""
        token = secrets.token_urlsafe(32)
        now = time.time()
        self._db.execute(
            "INSERT INTO tokens (token_hash, username, name, created, expires) VALUES (?, ?, ?, ?, ?)",
            (_token_hash(token), username, name, now, None if ttl_s is None else now + ttl_s),
        )
        return token

    def token_user(self, token: str) -> str | None:
        """The teacher of a token that has neither expired nor been revoked."""
        rows = self._db.rows(
            "SELECT username FROM tokens WHERE token_hash = ? AND (expires IS NULL OR expires > ?)",
            (_token_hash(token), time.time()),
        )
        return str(rows[0]["username"]) if rows else None

    def revoke_token(self, token: str) -> bool:
        """Forget a token (logging out); ``False`` when it was not known."""
        return (
            self._db.execute("DELETE FROM tokens WHERE token_hash = ?", (_token_hash(token),)) > 0
        )

    def token_info(self, token: str) -> TokenInfo | None:
        """The id, teacher and name of a live token (``name`` is ``login`` for a login)."""
        rows = self._db.rows(
            "SELECT substr(token_hash, 1, 16) AS id, username, name FROM tokens "
            "WHERE token_hash = ? AND (expires IS NULL OR expires > ?)",
            (_token_hash(token), time.time()),
        )
        return TokenInfo(rows[0]["id"], rows[0]["username"], rows[0]["name"]) if rows else None

    def tokens(self, username: str) -> list[Token]:
        """One teacher's live tokens, newest first (the id is the start of the token's hash:
        enough to revoke it, useless to log in with)."""
        rows = self._db.rows(
            "SELECT substr(token_hash, 1, 16) AS id, name, created, expires FROM tokens "
            "WHERE username = ? AND (expires IS NULL OR expires > ?) ORDER BY created DESC",
            (username, time.time()),
        )
        return [Token(r["id"], r["name"], r["created"], r["expires"]) for r in rows]

    def revoke_token_id(self, username: str, token_id: str) -> bool:
        """Revoke one of ``username``'s own tokens by its id; False when it has none such."""
        if len(token_id) != 16 or any(c not in "0123456789abcdef" for c in token_id):
            return False
        return (
            self._db.execute(
                "DELETE FROM tokens WHERE username = ? AND substr(token_hash, 1, 16) = ?",
                (username, token_id),
            )
            > 0
        )
