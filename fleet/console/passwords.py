"""Teachers' passwords: argon2id, with the console's old scrypt hashes still accepted.

::

    passwords = Passwords()
    stored = passwords.hash("a long secret")      # "$argon2id$v=19$m=19456,t=2,p=1$..."
    passwords.check("a long secret", stored)       # Checked(ok=True, rehash=False)
    passwords.check("a long secret", None)         # an unknown name: ok=False, same cost

**Parameters** (:data:`PARAMETERS`): argon2id with 19 MiB of memory, 2
passes and 1 lane, a 16-byte salt and a 32-byte hash: the first of OWASP's
Password Storage Cheat Sheet's equivalent argon2id settings ("a minimum
configuration of 19 MiB of memory, an iteration count of 2, and 1 degree of
parallelism"). One lane because the console is a small computer (a hub Pi
has 4 cores, a teacher's laptop 2-8) that answers a whole class: more lanes
make one hash quicker only by taking cores the other requests need, and an
attacker's work per guess stays the same. Of OWASP's equivalent settings
(47 MiB x 1 pass ... 7 MiB x 5 passes) this one is the lightest on memory
that still makes memory, not passes, the cost (memory is what a GPU lacks);
RFC 9106's second choice (64 MiB x 3 passes x 4 lanes) takes several times
as long and more than 3 times the memory, too much for a Pi Zero 2 W's
512 MB. The parameters
live in each stored hash, so raising them later upgrades every teacher at
their next login.

**Old hashes.** Consoles before issue 19 stored ``scrypt$SALT$DIGEST``
(scrypt n=2^14, r=8, p=1, below OWASP's 2^17). They are still checked, and
:meth:`Passwords.check` answers ``rehash=True`` after a right password so
the store replaces them with argon2id; so does any argon2 hash made with
other parameters than today's.

**Unknown names cost the same.** ``check(password, None)`` verifies the
password against a hash made of random bytes with today's parameters, which
no password matches: one argon2id run, as for a real teacher, so the time a
login takes does not tell whether a name exists.

**Memory.** At most :data:`AT_ONCE` hashes run at the same time (one per
core); more logins wait their turn, so a flood of logins costs time, not
``threads x 19 MiB``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import secrets
import threading
from dataclasses import dataclass

from argon2 import Parameters, PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = [
    "AT_ONCE",
    "PARAMETERS",
    "PASSWORDS",
    "Checked",
    "Passwords",
    "check_password",
    "hash_password",
    "parameters_of",
    "unmatchable",
]

logger = logging.getLogger(__name__)

#: argon2id as OWASP advises (see above): 19 MiB, 2 passes, 1 lane.
PARAMETERS = Parameters(
    type=Type.ID,
    version=19,
    salt_len=16,
    hash_len=32,
    time_cost=2,
    memory_cost=19 * 1024,  # KiB
    parallelism=1,
)
#: How many hashes may run at once (one per core): the memory they take is bounded.
AT_ONCE = max(1, os.cpu_count() or 1)

_SCRYPT = {"n": 2**14, "r": 8, "p": 1}  # what consoles stored before issue 19


@dataclass(frozen=True)
class Checked:
    """A password check: ``ok`` when it matched; ``rehash`` when it matched and the
    stored hash should be replaced by :meth:`Passwords.hash` of the same password."""

    ok: bool
    rehash: bool = False


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode().rstrip("=")


def unmatchable(parameters: Parameters) -> str:
    """An argon2 hash in PHC form with ``parameters`` whose salt and hash are random bytes:
    checking a password against it costs one real run, and no password matches."""
    salt = _b64(secrets.token_bytes(parameters.salt_len))
    digest = _b64(secrets.token_bytes(parameters.hash_len))
    return (
        f"$argon2{parameters.type.name.lower()}$v={parameters.version}"
        f"$m={parameters.memory_cost},t={parameters.time_cost},p={parameters.parallelism}"
        f"${salt}${digest}"
    )


def parameters_of(hasher: PasswordHasher) -> Parameters:
    """The parameters ``hasher`` makes new hashes with."""
    return Parameters(
        type=hasher.type,
        version=19,
        salt_len=hasher.salt_len,
        hash_len=hasher.hash_len,
        time_cost=hasher.time_cost,
        memory_cost=hasher.memory_cost,
        parallelism=hasher.parallelism,
    )


class Passwords:
    """Hashes and checks passwords. ``hasher`` is argon2-cffi's, made with :data:`PARAMETERS`
    unless given (a test passes one that counts its runs); ``at_once`` bounds the hashes
    running at the same time."""

    def __init__(self, hasher: PasswordHasher | None = None, at_once: int = AT_ONCE) -> None:
        self.hasher = hasher or PasswordHasher.from_parameters(PARAMETERS)
        self._dummy = unmatchable(parameters_of(self.hasher))
        self._slots = threading.BoundedSemaphore(at_once)

    def hash(self, password: str) -> str:
        """A new argon2id hash of ``password`` (with a fresh salt)."""
        with self._slots:
            return self.hasher.hash(password)

    def check(self, password: str, stored: str | None) -> Checked:
        """Whether ``password`` matches ``stored``, and whether to store a new hash of it.
        ``None`` (a name with no teacher) costs one run, as a real check does, and never
        matches."""
        with self._slots:
            if stored is not None and stored.startswith("scrypt$"):
                ok = _check_scrypt(password, stored)
                return Checked(ok=ok, rehash=ok)
            try:
                self.hasher.verify(stored or self._dummy, password)
            except (VerificationError, InvalidHashError):
                return Checked(ok=False)
        if stored is None:  # pragma: no cover - random bytes: no password matches
            return Checked(ok=False)
        return Checked(ok=True, rehash=self.hasher.check_needs_rehash(stored))


def _check_scrypt(password: str, stored: str) -> bool:
    try:
        _kind, salt, digest = stored.split("$")
        got = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), **_SCRYPT)
    except ValueError:
        logger.warning("a teacher's stored scrypt hash is malformed")
        return False
    return hmac.compare_digest(got.hex(), digest)


#: The console's one :class:`Passwords` (one bound on hashes at once for the process).
PASSWORDS = Passwords()


def hash_password(password: str) -> str:
    """:meth:`Passwords.hash` with the console's parameters."""
    return PASSWORDS.hash(password)


def check_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches ``stored`` (argon2id, or an old scrypt hash)."""
    return PASSWORDS.check(password, stored).ok
