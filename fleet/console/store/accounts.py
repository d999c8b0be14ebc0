"""Teachers, their passwords (argon2id: :mod:`fleet.console.passwords`) and their tokens
(logins and API tokens).

A token is stored only as its SHA-256; its id (the first 16 hex digits of
that hash) lists and revokes it but cannot log in. The page's session cookie
holds a login token, so every way in is a row of ``tokens``: setting a
teacher's password again (``roboclass console adduser NAME`` for a teacher
who exists) deletes that teacher's rows, and every old login, cookie and
API token stops working at its next request.

A login runs one argon2id check whether the name exists or not; a right
password stored under an old hash (scrypt, or other argon2 parameters) is
stored again with today's.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time

from fleet.console.passwords import PASSWORDS, Passwords, check_password, hash_password
from fleet.console.store.records import LOGIN, Token, TokenInfo
from fleet.console.store.sql import Connection

__all__ = ["LOGIN_TTL_S", "AccountStore", "check_password", "hash_password"]

logger = logging.getLogger(__name__)

#: A login token lasts this long unless the console is told otherwise.
LOGIN_TTL_S = 12 * 3600.0


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_token_row(
    username: str, name: str, ttl_s: float | None
) -> tuple[str, tuple[str, str, str, float, float | None]]:
    """A new token and its row of ``tokens`` (it never expires when ``ttl_s`` is ``None``)."""
    token = secrets.token_urlsafe(32)
    now = time.time()
    return token, (_token_hash(token), username, name, now, None if ttl_s is None else now + ttl_s)


class AccountStore:
    """``teachers`` and ``tokens``."""

    def __init__(self, db: Connection, passwords: Passwords = PASSWORDS) -> None:
        self._db = db
        self._passwords = passwords

    def add_teacher(self, username: str, password: str) -> int:
        """Add a teacher, or set a teacher's new password: then every login, session
        cookie and API token the teacher had is revoked. How many were revoked."""
        pwhash = self._passwords.hash(password)
        with self._db.transaction() as db:
            db.execute(
                "INSERT INTO teachers VALUES (?, ?, ?) ON CONFLICT (username) "
                "DO UPDATE SET pwhash = excluded.pwhash",
                (username, pwhash, time.time()),
            )
            revoked = int(db.execute("DELETE FROM tokens WHERE username = ?", (username,)).rowcount)
        if revoked:
            logger.info("new password for %s: %d logins and tokens revoked", username, revoked)
        return revoked

    def teacher_exists(self, username: str) -> bool:
        return bool(self._db.rows("SELECT 1 FROM teachers WHERE username = ?", (username,)))

    def has_teachers(self) -> bool:
        return bool(self._db.rows("SELECT 1 FROM teachers LIMIT 1"))

    def login(self, username: str, password: str, ttl_s: float | None = LOGIN_TTL_S) -> str | None:
        """A login token that lasts ``ttl_s`` seconds, or ``None`` for a wrong name or password."""
        rows = self._db.rows("SELECT pwhash FROM teachers WHERE username = ?", (username,))
        stored = str(rows[0]["pwhash"]) if rows else None
        checked = self._passwords.check(password, stored)  # one run, known name or not
        if not checked.ok or stored is None:
            return None
        if checked.rehash:
            stored = self._rehash(username, password, stored)
        self._db.execute(
            "DELETE FROM tokens WHERE expires IS NOT NULL AND expires <= ?", (time.time(),)
        )
        return self._login_token(username, ttl_s, stored)

    def _rehash(self, username: str, password: str, old: str) -> str:
        """Store today's hash of a right password in place of an old kind of hash; the
        hash now stored (``old`` when a new password was set in between)."""
        new = self._passwords.hash(password)
        if self._db.execute(
            "UPDATE teachers SET pwhash = ? WHERE username = ? AND pwhash = ?",
            (new, username, old),
        ):
            logger.info("%s's password hash upgraded to argon2id", username)
            return new
        return old

    def new_token(self, username: str, name: str, ttl_s: float | None = None) -> str:
        """A bearer token for ``username``; it never expires when ``ttl_s`` is ``None``."""
        token, row = _new_token_row(username, name, ttl_s)
        self._db.execute(
            "INSERT INTO tokens (token_hash, username, name, created, expires) VALUES (?, ?, ?, ?, ?)",
            row,
        )
        return token

    def _login_token(self, username: str, ttl_s: float | None, pwhash: str) -> str | None:
        """A login token, only while the teacher's password is still the one checked: a
        login that raced a password reset gets ``None``, not a token that outlived it."""
        token, row = _new_token_row(username, LOGIN, ttl_s)
        made = self._db.execute(
            "INSERT INTO tokens (token_hash, username, name, created, expires) SELECT ?, ?, ?, ?, ? "
            "WHERE EXISTS (SELECT 1 FROM teachers WHERE username = ? AND pwhash = ?)",
            (*row, username, pwhash),
        )
        return token if made else None

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
