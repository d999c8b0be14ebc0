"""Teachers' passwords (fleet/console/passwords.py, fleet/console/store/accounts.py):
argon2id with OWASP's parameters, old scrypt hashes upgraded at the next login, one
argon2id run per login whether the name exists or not, a reset revokes every token."""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import argon2
import pytest

from fleet.console.passwords import PARAMETERS, Passwords, parameters_of, unmatchable
from fleet.console.store import Database
from fleet.console.store.accounts import AccountStore
from fleet.console.store.sql import connect


class CountingHasher(argon2.PasswordHasher):
    """argon2-cffi's hasher with OWASP's parameters, counting its runs (and how many ran
    at the same time)."""

    def __init__(self) -> None:
        base = argon2.PasswordHasher.from_parameters(PARAMETERS)
        super().__init__(
            base.time_cost, base.memory_cost, base.parallelism, base.hash_len, base.salt_len
        )
        self.runs: list[str] = []
        self.running = 0
        self.most_at_once = 0
        self._lock = threading.Lock()
        self.during_verify: list[Any] = []  # callables run inside the next verify

    def _run(self, kind: str) -> None:
        with self._lock:
            self.runs.append(kind)
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)

    def _done(self) -> None:
        with self._lock:
            self.running -= 1

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        self._run("hash")
        try:
            return super().hash(password, salt=salt)
        finally:
            self._done()

    def verify(self, hash: str | bytes, password: str | bytes) -> Any:
        self._run("verify")
        try:
            while self.during_verify:
                self.during_verify.pop(0)()
            return super().verify(hash, password)
        finally:
            self._done()


@pytest.fixture
def counted(db_url: str | Path) -> Iterator[tuple[AccountStore, CountingHasher]]:
    hasher = CountingHasher()
    connection = connect(db_url)
    yield AccountStore(connection, Passwords(hasher, at_once=4)), hasher
    connection.close()


def old_scrypt_hash(password: str) -> str:
    """What the console stored before issue 19."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1)
    return f"scrypt${salt.hex()}${digest.hex()}"


def stored_hash(db: Database, username: str) -> str:
    with db._connection.locked() as sql:
        row = sql.execute("SELECT pwhash FROM teachers WHERE username = ?", (username,)).fetchone()
        return str(row[0])


def test_new_hashes_are_argon2id_with_owasps_parameters() -> None:
    assert (PARAMETERS.type, PARAMETERS.memory_cost, PARAMETERS.time_cost) == (
        argon2.Type.ID,
        19456,  # KiB: 19 MiB
        2,
    )
    assert PARAMETERS.parallelism == 1
    passwords = Passwords()
    stored = passwords.hash("a long secret")
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert argon2.extract_parameters(stored) == PARAMETERS
    assert passwords.hash("a long secret") != stored  # a fresh salt each time
    assert passwords.check("a long secret", stored).ok
    assert not passwords.check("a long secreT", stored).ok
    assert not passwords.check("a long secret", "not a hash").ok
    assert not passwords.check("a long secret", "scrypt$zz$00").ok  # malformed: refused


def test_an_old_scrypt_hash_logs_in_once_and_is_stored_as_argon2id(db_url: str | Path) -> None:
    with Database(db_url) as db:
        with db._connection.locked() as sql:
            sql.execute(
                "INSERT INTO teachers VALUES (?, ?, ?)",
                ("ms-li", old_scrypt_hash("a long secret"), 0.0),
            )
        kept = db.accounts.new_token("ms-li", "xapi")
        assert db.accounts.login("ms-li", "wrong password") is None
        assert stored_hash(db, "ms-li").startswith("scrypt$")  # a wrong password changes nothing
        first = db.accounts.login("ms-li", "a long secret")
        assert first is not None
        upgraded = stored_hash(db, "ms-li")
        assert upgraded.startswith("$argon2id$")
        assert argon2.extract_parameters(upgraded) == PARAMETERS
        second = db.accounts.login("ms-li", "a long secret")
        assert second is not None
        assert stored_hash(db, "ms-li") == upgraded  # upgraded once, then left alone
        assert db.accounts.login("ms-li", "wrong password") is None
        # an upgrade is not a reset: her tokens still work
        assert [db.accounts.token_user(t) for t in (kept, first, second)] == ["ms-li"] * 3


def test_argon2_hashes_with_weaker_parameters_are_upgraded_too(db_url: str | Path) -> None:
    weak = argon2.PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
    with Database(db_url) as db:
        with db._connection.locked() as sql:
            sql.execute(
                "INSERT INTO teachers VALUES (?, ?, ?)", ("ms-li", weak.hash("a long secret"), 0.0)
            )
        assert db.accounts.login("ms-li", "a long secret") is not None
        assert argon2.extract_parameters(stored_hash(db, "ms-li")) == PARAMETERS


def test_a_login_runs_argon2id_once_whether_the_name_exists_or_not(
    counted: tuple[AccountStore, CountingHasher],
) -> None:
    accounts, hasher = counted
    assert accounts.login("nobody", "a long secret") is None  # no teacher at all yet
    assert hasher.runs == ["verify"]
    accounts.add_teacher("ms-li", "a long secret")
    for name, password, ok in [
        ("ms-li", "a long secret", True),
        ("ms-li", "a wrong secret", False),
        ("ms-lee", "a long secret", False),
        ("", "", False),
    ]:
        hasher.runs.clear()
        assert (accounts.login(name, password) is not None) is ok
        assert hasher.runs == ["verify"], (name, password)


def test_an_unknown_name_is_checked_against_a_hash_with_the_same_parameters() -> None:
    dummy = unmatchable(PARAMETERS)
    assert argon2.extract_parameters(dummy) == PARAMETERS
    assert unmatchable(PARAMETERS) != dummy  # random bytes each time
    with pytest.raises(argon2.exceptions.VerifyMismatchError):
        argon2.PasswordHasher.from_parameters(PARAMETERS).verify(dummy, "")
    assert parameters_of(CountingHasher()) == PARAMETERS


def test_hashes_run_at_most_at_once_as_allowed() -> None:
    hasher = CountingHasher()
    passwords = Passwords(hasher, at_once=1)
    stored = passwords.hash("a long secret")
    threads = [
        threading.Thread(target=passwords.check, args=("a long secret", stored)) for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert hasher.runs.count("verify") == 4
    assert hasher.most_at_once == 1


def test_a_reset_revokes_every_token_of_that_teacher_only(
    counted: tuple[AccountStore, CountingHasher],
) -> None:
    accounts, _ = counted
    assert accounts.add_teacher("ms-li", "a long secret") == 0  # new: nothing to revoke
    accounts.add_teacher("mr-wu", "another long secret")
    login = accounts.login("ms-li", "a long secret")
    forever = accounts.new_token("ms-li", "cli")
    short = accounts.new_token("ms-li", "script", ttl_s=60)
    his = accounts.login("mr-wu", "another long secret")
    assert login is not None and his is not None
    assert accounts.add_teacher("ms-li", "a new long secret") == 3
    assert [accounts.token_user(t) for t in (login, forever, short)] == [None] * 3
    assert accounts.tokens("ms-li") == []
    assert accounts.token_user(his) == "mr-wu"
    assert accounts.login("ms-li", "a long secret") is None
    assert accounts.login("ms-li", "a new long secret") is not None


def test_a_login_that_races_a_reset_gets_no_token(
    counted: tuple[AccountStore, CountingHasher],
) -> None:
    """The old password is checked, then the teacher resets it before the token is made:
    the login fails rather than hand out a token the reset missed."""
    accounts, hasher = counted
    accounts.add_teacher("ms-li", "a long secret")
    hasher.during_verify.append(lambda: accounts.add_teacher("ms-li", "a new long secret"))
    assert accounts.login("ms-li", "a long secret") is None
    assert accounts.tokens("ms-li") == []
    assert accounts.login("ms-li", "a new long secret") is not None
