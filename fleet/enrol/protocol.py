"""Enrolment: the teacher's console claims a robot that has no credentials yet.

The robot shows a one-time claim code (8 digits, e.g. ``4821-0937``) in its
log, on its LED and buzzer, and on a label; the teacher types it into the
console. Both ends run SPAKE2 (the ``spake2`` package) with that code as the
password, so each learns a 32-byte key only if the other knew the code. A
student on the LAN who does not know the code gets one guess per exchange,
which the robot counts and limits; watching an exchange tells them nothing
about the code. Every message after the first is bound to that key:

::

    console -> robot   POST /enrol/v1/start   {session, pake: A}
    robot -> console                          {pake: B, csr, confirm: HMAC(kR, T | H(csr))}
    console -> robot   POST /enrol/v1/finish  {session, nonce, box: AES-GCM(kG, grant, T | H(csr))}
    robot -> console                          {ack: HMAC(kA, T | H(grant))}

``T`` hashes the session id, the robot's enrolment id and both SPAKE2
messages; ``kR``, ``kG`` and ``kA`` come from the SPAKE2 key with HKDF. The
robot made its key itself and sends only a signing request (``csr``): its
private key never leaves it. The console checks ``confirm`` (the robot knew
the code: it is the robot the teacher is looking at) before it signs; the
robot opens ``box`` (the console knew the code: the CA, the console's key,
the name and the room are the teacher's) before it trusts anything in it.
docs/security.md explains what this does and does not stop.

::

    console = ConsoleExchange("4821-0937", robot_id="rc-7f3a9c")
    robot = RobotExchange(code, robot_id="rc-7f3a9c", csr_pem=csr)
    reply = robot.start(console.start_message())
    csr = console.check(reply)                  # WrongCode unless the codes match
    box = console.seal(grant)
    grant, ack = robot.finish(box)
    console.check_ack(ack)

Errors::

    FleetError
     └── EnrolError (also RuntimeError)
          ├── WrongCode (also PermissionError): the other end did not know the code
          └── BadMessage (also ValueError): malformed, replayed or for another session
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from spake2 import SPAKE2_A, SPAKE2_B
from spake2.ed25519_basic import NotOnCurve
from spake2.spake2 import SPAKEError

from fleet.core.errors import FleetError
from fleet.core.protocol import ID_PATTERN

__all__ = [
    "CODE_DIGITS",
    "SERVICE_TYPE",
    "BadMessage",
    "ConsoleExchange",
    "EnrolError",
    "Grant",
    "RobotExchange",
    "WrongCode",
    "code_digits",
    "new_claim_code",
    "new_robot_id",
]

#: The mDNS (DNS-SD) service an unclaimed robot announces.
SERVICE_TYPE = "_roboclass-enrol._tcp.local."
#: Digits in a claim code: 10^8 codes, and the robot allows a few guesses a minute.
CODE_DIGITS = 8
VERSION = 1
_LABEL = b"roboclass-enrol-v1"
_MAX_CSR = 4096
_ROBOT_ID = re.compile(r"^rc-[0-9a-f]{6,32}$")
#: What spake2 raises for a message that is not a point of its group.
_SPAKE_ERRORS = (SPAKEError, NotOnCurve, ValueError, TypeError)


class EnrolError(FleetError, RuntimeError):
    """Enrolment failed."""


class WrongCode(EnrolError, PermissionError):
    """The other end did not know the claim code (or someone sits in between)."""


class BadMessage(EnrolError, ValueError):
    """A message that is malformed, for another session, or already used."""


def new_claim_code() -> str:
    """Eight random digits in two groups, e.g. ``4821-0937``."""
    digits = "".join(secrets.choice("0123456789") for _ in range(CODE_DIGITS))
    return f"{digits[:4]}-{digits[4:]}"


def code_digits(text: str) -> str:
    """The digits of a typed code (spaces and dashes dropped); BadMessage unless there are 8."""
    digits = "".join(c for c in text if not c.isspace() and c != "-")
    if len(digits) != CODE_DIGITS or not digits.isascii() or not digits.isdigit():
        raise BadMessage(f"a claim code has {CODE_DIGITS} digits, e.g. 4821-0937")
    return digits


def new_robot_id() -> str:
    """The name an unclaimed robot goes by until the teacher names it, e.g. ``rc-7f3a9c``."""
    return f"rc-{secrets.token_hex(3)}"


def valid_robot_id(text: str) -> bool:
    return bool(_ROBOT_ID.match(text))


class Grant(BaseModel):
    """What the console gives a robot it claimed: who it is, where the broker is, whom to trust."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    v: int = VERSION
    identity: str = Field(pattern=ID_PATTERN)
    site: str = Field(pattern=ID_PATTERN)
    room: str = Field(pattern=ID_PATTERN)
    hosts: list[str] = Field(min_length=1, max_length=16)
    port: int = Field(gt=0, lt=65536)
    cert: str = Field(max_length=8192, description="the robot's certificate (PEM)")
    ca: str = Field(max_length=8192, description="the room's CA certificate (PEM)")
    console_key: str = Field(pattern=r"^[0-9a-f]{64}$", description="Ed25519, hex")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(value: Any, what: str, limit: int = 65536) -> bytes:
    if not isinstance(value, str) or len(value) > limit * 2:
        raise BadMessage(f"{what} is missing or too long")
    try:
        return base64.b64decode(value, validate=True)
    except ValueError:
        raise BadMessage(f"{what} is not base64") from None


def _field(message: Any, name: str) -> Any:
    if not isinstance(message, dict) or message.get("v") != VERSION or name not in message:
        raise BadMessage(f"not an enrolment message of version {VERSION} with {name!r}")
    return message[name]


def _hash(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _password(code: str) -> bytes:
    return b"roboclass-claim:" + code_digits(code).encode()


def _ids(robot_id: str) -> dict[str, bytes]:
    return {"idA": b"roboclass-console", "idB": b"roboclass-robot:" + robot_id.encode()}


@dataclass(frozen=True)
class _Keys:
    transcript: bytes
    confirm: bytes  # the robot proves it knew the code (and binds its request)
    grant: bytes  # the console's grant is sealed with it
    ack: bytes  # the robot says it took the grant

    @classmethod
    def derive(cls, shared: bytes, session: bytes, robot_id: str, a: bytes, b: bytes) -> _Keys:
        parts = [_LABEL, session, robot_id.encode(), a, b]
        transcript = _hash(b"".join(len(p).to_bytes(4, "big") + p for p in parts))
        okm = HKDF(hashes.SHA256(), 96, salt=transcript, info=_LABEL).derive(shared)
        return cls(transcript, okm[:32], okm[32:64], okm[64:])


def _mac(key: bytes, *parts: bytes) -> bytes:
    return hmac.new(key, b"".join(parts), hashlib.sha256).digest()


class RobotExchange:
    """The robot's side of one exchange; one :meth:`start`, then one :meth:`finish`."""

    def __init__(self, code: str, *, robot_id: str, csr_pem: bytes) -> None:
        if len(csr_pem) > _MAX_CSR:
            raise ValueError("signing request too large")
        self._password = _password(code)
        self.robot_id = robot_id
        self.csr_pem = csr_pem
        self.session: str | None = None
        self._keys: _Keys | None = None
        self._done = False

    def start(self, message: Any) -> dict[str, Any]:
        """Answer the console's first message: our SPAKE2 half, the request, our proof."""
        if self._keys is not None:
            raise BadMessage("this exchange has started already")
        session = _field(message, "session")
        if not isinstance(session, str) or not re.fullmatch(r"[0-9a-f]{32}", session):
            raise BadMessage("the session id must be 32 hex digits")
        a = _unb64(_field(message, "pake"), "pake", 256)
        spake = SPAKE2_B(self._password, **_ids(self.robot_id))
        b = spake.start()
        try:
            shared = spake.finish(a)
        except _SPAKE_ERRORS as exc:
            raise BadMessage(f"bad SPAKE2 message: {exc}") from None
        self.session = session
        self._keys = _Keys.derive(shared, bytes.fromhex(session), self.robot_id, a, b)
        confirm = _mac(self._keys.confirm, self._keys.transcript, _hash(self.csr_pem))
        return {
            "v": VERSION,
            "robot": self.robot_id,
            "pake": _b64(b),
            "csr": self.csr_pem.decode(),
            "confirm": _b64(confirm),
        }

    def finish(self, message: Any) -> tuple[Grant, dict[str, Any]]:
        """Open the console's grant; WrongCode unless it was sealed with this exchange's key."""
        keys = self._keys
        if keys is None:
            raise BadMessage("start first")
        if self._done:
            raise BadMessage("this exchange is over: a grant is taken once")
        if _field(message, "session") != self.session:
            raise BadMessage("the grant is for another session")
        nonce = _unb64(_field(message, "nonce"), "nonce", 16)
        box = _unb64(_field(message, "box"), "box")
        try:
            plain = AESGCM(keys.grant).decrypt(nonce, box, keys.transcript + _hash(self.csr_pem))
        except (InvalidTag, ValueError):
            raise WrongCode("the grant was not sealed by a console that knows the code") from None
        try:
            grant = Grant.model_validate_json(plain)
        except ValidationError as exc:
            raise BadMessage(f"the grant is malformed: {exc.errors()[0]['msg']}") from None
        self._done = True
        return grant, {"v": VERSION, "ack": _b64(_mac(keys.ack, keys.transcript, _hash(plain)))}


class ConsoleExchange:
    """The console's side of one exchange with one robot."""

    def __init__(self, code: str, *, robot_id: str) -> None:
        self.robot_id = robot_id
        self.session = secrets.token_hex(16)
        self._spake = SPAKE2_A(_password(code), **_ids(robot_id))
        self._a = self._spake.start()
        self._keys: _Keys | None = None
        self._csr: bytes | None = None
        self._sealed: bytes | None = None

    def start_message(self) -> dict[str, Any]:
        return {"v": VERSION, "session": self.session, "pake": _b64(self._a)}

    def check(self, reply: Any) -> bytes:
        """The robot's signing request (PEM) once its proof checks out; WrongCode if not."""
        if self._keys is not None:
            raise BadMessage("this exchange was checked already")
        if _field(reply, "robot") != self.robot_id:
            raise BadMessage(f"the answer is from {reply.get('robot')!r}, not {self.robot_id}")
        b = _unb64(_field(reply, "pake"), "pake", 256)
        csr = _field(reply, "csr")
        if not isinstance(csr, str) or len(csr) > _MAX_CSR:
            raise BadMessage("the signing request is missing or too large")
        confirm = _unb64(_field(reply, "confirm"), "confirm", 64)
        try:
            shared = self._spake.finish(b)
        except _SPAKE_ERRORS as exc:
            raise BadMessage(f"bad SPAKE2 message: {exc}") from None
        keys = _Keys.derive(shared, bytes.fromhex(self.session), self.robot_id, self._a, b)
        csr_pem = csr.encode()
        if not hmac.compare_digest(confirm, _mac(keys.confirm, keys.transcript, _hash(csr_pem))):
            raise WrongCode(f"wrong claim code for {self.robot_id} (or someone is in between)")
        self._keys, self._csr = keys, csr_pem
        return csr_pem

    def seal(self, grant: Grant) -> dict[str, Any]:
        """The grant, sealed so that only the robot that proved the code can open it."""
        if self._keys is None or self._csr is None:
            raise BadMessage("check the robot's answer first")
        plain = json.dumps(grant.model_dump(), separators=(",", ":")).encode()
        nonce = secrets.token_bytes(12)
        box = AESGCM(self._keys.grant).encrypt(
            nonce, plain, self._keys.transcript + _hash(self._csr)
        )
        self._sealed = plain
        return {"v": VERSION, "session": self.session, "nonce": _b64(nonce), "box": _b64(box)}

    def check_ack(self, reply: Any) -> None:
        """The robot says it took the grant; WrongCode if the answer is not from it."""
        if self._keys is None or self._sealed is None:
            raise BadMessage("seal a grant first")
        ack = _unb64(_field(reply, "ack"), "ack", 64)
        expected = _mac(self._keys.ack, self._keys.transcript, _hash(self._sealed))
        if not hmac.compare_digest(ack, expected):
            raise WrongCode("the robot's acknowledgement does not check out")
