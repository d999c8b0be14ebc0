"""What a school sends its district, and back: signed envelopes on the ``district/v1`` tree.

A school's console signs every message with its Ed25519 key (the one it signs
jobs with, :mod:`fleet.core.signing`); its broker's bridge carries
``district/v1/{school}/up/#`` to the district, and ``.../{school}/down/#``
and ``district/v1/all/down/#`` back. The district checks each envelope
against the keys it registered for that school (:func:`open_envelope`)::

    topics = DistrictTopics("binhai-01")
    payload = seal(key, "binhai-01", Kind.RESULT, Results(results=[...]))
    link.publish(topics.up(Kind.RESULT), payload, qos=1)
    # at the district:
    opened = open_envelope(topic, payload, trusted)   # Opened(envelope, body) or a Refused reason

Results are pseudonymous by construction: a :class:`ResultBody` has no field
a name could go in (unknown fields are refused), and its ``student`` must be
a pseudonym ``p-`` + 16 hex digits. A class deleted at the school goes up as
``purge`` envelopes (:class:`PurgeBody`: its students' pseudonyms only); the
district deletes what it holds of them, of that school only.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Any, Literal, NamedTuple, cast

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from fleet.core.signing import SigningKey
from fleet.core.topics import ID_PATTERN, valid_id

__all__ = [
    "ALL",
    "CLOCK_SKEW_S",
    "DAY_S",
    "MAX_ENVELOPE",
    "MAX_PURGE",
    "MAX_RESULTS",
    "PREFIX",
    "TALLY",
    "UP_ALL",
    "DistrictTopics",
    "Envelope",
    "Kind",
    "LiveBody",
    "Opened",
    "PurgeBody",
    "Refused",
    "ResultBody",
    "Results",
    "Tally",
    "open_envelope",
    "seal",
]

PREFIX = "district/v1"
#: The topic level for what the district sends every school (never a school id).
ALL = "all"
#: What the district subscribes to: every school's up/.
UP_ALL = f"{PREFIX}/+/up/#"
#: Largest envelope the district reads (bytes): 200 results fit in well under it.
MAX_ENVELOPE = 256 * 1024
#: Most results in one envelope.
MAX_RESULTS = 200
#: Most pseudonyms in one ``purge`` envelope (a larger class goes in several).
MAX_PURGE = 500
#: How far in the future a school's clock may put ``issued`` (s); old envelopes are fine:
#: a school back after a day offline sends yesterday's.
CLOCK_SKEW_S = 300.0

PSEUDONYM = r"^p-[0-9a-f]{16}$"
_LABEL = r"^[A-Za-z0-9_.:-]{1,128}$"


class Kind(StrEnum):
    """What an envelope carries; also the last level of its up/ topic."""

    RESULT = "result"
    LIVE = "live"
    #: A class deleted at the school: the district deletes its students' results too.
    PURGE = "purge"


_STRICT = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ResultBody(BaseModel):
    """One pseudonymous result: never a name (docs/security.md)."""

    model_config = _STRICT
    result_id: str = Field(pattern=ID_PATTERN)
    room: str = Field(pattern=ID_PATTERN)
    class_: str = Field(alias="class", min_length=1, max_length=64)
    #: The school's pseudonym for the district (not the school's own student id).
    student: str = Field(pattern=PSEUDONYM)
    grade_band: str = Field(min_length=1, max_length=32)
    lesson_id: str = Field(pattern=_LABEL)
    score: float | None = Field(default=None, ge=-1e6, le=1e6)
    status: str = Field(pattern=r"^[A-Z_]{1,16}$")
    #: When the school stored it (s since the epoch).
    at: float
    #: The district challenge it was handed in under, if any.
    challenge: str | None = Field(default=None, pattern=ID_PATTERN)


class Results(BaseModel):
    """The body of a ``result`` envelope: 1-200 results."""

    model_config = _STRICT
    results: list[ResultBody] = Field(min_length=1, max_length=MAX_RESULTS)


class LiveBody(BaseModel):
    """The body of a ``live`` envelope: one room's counts now."""

    model_config = _STRICT
    room: str = Field(pattern=ID_PATTERN)
    robots_online: int = Field(ge=0, le=10_000)
    robots_known: int = Field(ge=0, le=10_000)
    lessons_running: int = Field(ge=0, le=10_000)
    at: float


class PurgeBody(BaseModel):
    """The body of a ``purge`` envelope: the pseudonyms of students the school deleted
    (1-:data:`MAX_PURGE`); the district deletes what it holds of them from that school only."""

    model_config = _STRICT
    students: list[Annotated[str, Field(pattern=PSEUDONYM)]] = Field(
        min_length=1, max_length=MAX_PURGE
    )


_BODIES: dict[Kind, type[BaseModel]] = {
    Kind.RESULT: Results,
    Kind.LIVE: LiveBody,
    Kind.PURGE: PurgeBody,
}

#: The down/ topic name of a :class:`Tally`.
TALLY = "tally"
#: One day, the tally's bucket (s): days are counted in the school's own clock (``at``).
DAY_S = 86400


class Tally(BaseModel):
    """``district/v1/{school}/down/tally``: how many of a school's results the district holds,
    per room and day (``floor(at / 86400)``), of those made in ``[since, until)`` by the
    school's own clock. A room's console that holds more on a day sends that day again.

    Down messages are not signed: only the district's service may write them on
    the district broker, and only the bridge brings them onto the school's.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    v: Literal[1] = 1
    since: float
    until: float
    rooms: dict[str, dict[int, int]] = Field(max_length=1000)


class Envelope(BaseModel):
    """A signed message from a school: who, which message, what, when, and the signature."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    v: Literal[1] = 1
    school: str = Field(pattern=ID_PATTERN)
    #: The message's own id (a re-send keeps it).
    id: str = Field(pattern=ID_PATTERN)
    kind: Kind
    body: dict[str, Any]
    issued: float
    #: The id of the key that signed it (:func:`fleet.core.signing.key_id`).
    kid: str = Field(pattern=r"^[0-9a-f]{16}$")
    sig: str = Field(default="", max_length=128)

    def signed_bytes(self) -> bytes:
        """What the signature covers: every field but ``sig``, as canonical JSON."""
        data = self.model_dump(mode="json", exclude={"sig"})
        return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def seal(
    key: SigningKey,
    school: str,
    kind: Kind,
    body: BaseModel,
    *,
    message_id: str | None = None,
    now: float | None = None,
) -> bytes:
    """The signed envelope (JSON bytes) of ``body`` from ``school``."""
    unsigned = Envelope(
        school=school,
        id=message_id or f"m{secrets.token_hex(8)}",
        kind=kind,
        body=body.model_dump(mode="json", by_alias=True, exclude_none=True),
        issued=time.time() if now is None else now,
        kid=key.kid,
    )
    signed = unsigned.model_copy(update={"sig": key.sign_bytes(unsigned.signed_bytes())})
    return signed.model_dump_json().encode()


class Opened(NamedTuple):
    """An envelope that passed every check, and its body as the right model."""

    envelope: Envelope
    body: Results | LiveBody | PurgeBody


class Refused(NamedTuple):
    """Why an envelope was dropped: ``reason`` is a counter's name, ``detail`` for the log."""

    reason: str
    detail: str


class DistrictTopics:
    """One school's topics of the ``district/v1`` tree."""

    def __init__(self, school: str) -> None:
        if not valid_id(school) or school == ALL:
            raise ValueError(f"school id {school!r} must match {ID_PATTERN} and not be {ALL!r}")
        self.school = school
        self.base = f"{PREFIX}/{school}"

    def up(self, kind: Kind) -> str:
        return f"{self.base}/up/{kind.value}"

    def down(self, name: str) -> str:
        return f"{self.base}/down/{name}"

    @staticmethod
    def all_down(name: str) -> str:
        """What the district sends every school."""
        return f"{PREFIX}/{ALL}/down/{name}"

    @property
    def subscriptions(self) -> list[str]:
        """What the school's console reads from the district."""
        return [f"{self.base}/down/#", f"{PREFIX}/{ALL}/down/#"]

    @staticmethod
    def parse_up(topic: str) -> tuple[str, Kind] | None:
        """``(school, kind)`` of an up/ topic, or ``None`` for anything else."""
        parts = topic.split("/")
        if len(parts) != 5 or f"{parts[0]}/{parts[1]}" != PREFIX or parts[3] != "up":
            return None
        school, kind = parts[2], parts[4]
        if not valid_id(school) or school == ALL or kind not in Kind.__members__.values():
            return None
        return school, Kind(kind)


def open_envelope(  # noqa: PLR0911 - one return per reason to refuse
    topic: str,
    payload: bytes,
    trusted: Mapping[str, tuple[str, Ed25519PublicKey]],
    *,
    now: float | None = None,
) -> Opened | Refused:
    """Check a message from a school: its topic, shape, school, key and signature.

    ``trusted`` maps each registered key id to ``(school, public key)``. A
    message is refused when its topic's school is not the envelope's, or the
    key that signed it is not one of that school's.
    """
    parsed = DistrictTopics.parse_up(topic)
    if parsed is None:
        return Refused("topic", f"not a district up/ topic: {topic[:200]}")
    school, kind = parsed
    if len(payload) > MAX_ENVELOPE:
        return Refused("malformed", f"{len(payload)} bytes from {school}, over {MAX_ENVELOPE}")
    try:
        envelope = Envelope.model_validate_json(payload)
        body = _BODIES[envelope.kind].model_validate(envelope.body)
    except ValidationError as exc:
        return Refused("malformed", f"from {school}: {exc.errors()[:2]}")
    if envelope.school != school or envelope.kind != kind:
        return Refused(
            "forged", f"topic says {school}/{kind}, envelope {envelope.school}/{envelope.kind}"
        )
    owner = trusted.get(envelope.kid)
    if owner is None:
        return Refused("unknown_key", f"{school}: key {envelope.kid} is not registered")
    if owner[0] != school:
        return Refused("forged", f"{school}'s message signed with {owner[0]}'s key {envelope.kid}")
    try:
        owner[1].verify(base64.b64decode(envelope.sig, validate=True), envelope.signed_bytes())
    except (InvalidSignature, ValueError):
        return Refused("forged", f"bad signature on {envelope.id} from {school}")
    if envelope.issued > (time.time() if now is None else now) + CLOCK_SKEW_S:
        return Refused("future", f"{envelope.id} from {school} issued in the future (its clock?)")
    return Opened(envelope, cast(Results | LiveBody | PurgeBody, body))
