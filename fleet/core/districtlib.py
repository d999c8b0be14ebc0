"""The district's lesson library and challenges as a school sees them: signed, by sha256.

The district signs each published lesson (a :class:`LibraryEntry`: the
bundle's sha256 and size, the lesson's id, titles, band, grades) and each
challenge (a :class:`ChallengeNotice`) with its own Ed25519 key; a school's
console checks the signature against the district key it knows and the
bundle's bytes against the signed sha256 before anything is unpacked. A
school shares a lesson up for review with a :class:`Submission` signed by its
console's key (the key the district registered for that school)::

    entry = sign(district_key, LibraryEntry(...))
    reason = check(entry, {district_key.kid: district_key.public_key})
    assert reason is None
    assert bundle_reason(entry, data) is None     # the bytes are the ones signed

Both sides import this module (the district may import ``fleet.core``; the
school's console does): one definition of what is signed.
"""

from __future__ import annotations

import base64
import hashlib
import time
from typing import Annotated, ClassVar, Literal, TypeVar

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, Field

from fleet.core.signing import CLOCK_SKEW_S, SigningKey, key_id

__all__ = [
    "MAX_LIBRARY_BUNDLE",
    "SHA256",
    "SUBMISSION_HEADER",
    "Bilingual",
    "ChallengeNotice",
    "ChallengeRule",
    "ChallengeTries",
    "ChallengeTry",
    "LibraryEntry",
    "Signed",
    "Submission",
    "bundle_reason",
    "check",
    "school_reason",
    "sign",
    "submission_reason",
]

#: A bundle the library takes: lessons.bundle's own cap on a packed lesson.
MAX_LIBRARY_BUNDLE = 20 * 1024 * 1024
SHA256 = r"^[0-9a-f]{64}$"
LESSON_ID = r"^[a-z0-9][a-z0-9-]{1,48}$"
SCHOOL_ID = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
#: The header that carries a school's signed :class:`Submission` (base64 of its JSON).
SUBMISSION_HEADER = "X-RoboClass-Submission"

_Short = Annotated[str, Field(min_length=1, max_length=200)]
_Long = Annotated[str, Field(max_length=2000)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Bilingual(_Strict):
    en: _Short
    zh: _Short


class Summary(_Strict):
    en: _Long
    zh: _Long


class ChallengeRule(_Strict):
    """What a challenge ranks: a metric the lesson's grader reports, lower or higher better."""

    metric: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    better: Literal["lower", "higher"] = "lower"
    unit: str = Field("", max_length=12)


class Signed(_Strict):
    """Something the district (or a school) signs: ``kid`` names the key, ``sig`` is base64."""

    #: Says what kind of thing the bytes are, so one signature never passes for another kind.
    KIND: ClassVar[str] = "signed"
    kid: str = Field("", max_length=16)
    sig: str = Field("", max_length=100)

    def signed_bytes(self) -> bytes:
        """The canonical bytes the signature covers: the kind, then every field but ``sig``."""
        return (
            f"roboclass/{self.KIND}/v1\n".encode() + self.model_dump_json(exclude={"sig"}).encode()
        )


class LibraryEntry(Signed):
    """One lesson of the district's library: which bytes (sha256, size) and what they are."""

    KIND = "library-entry"
    sha256: str = Field(pattern=SHA256)
    size: int = Field(ge=1, le=MAX_LIBRARY_BUNDLE)
    lesson_id: str = Field(pattern=LESSON_ID)
    version: int = Field(ge=1, le=1_000_000)
    title: Bilingual
    summary: Summary
    band: Literal["perceive", "apply", "create"]
    grades: tuple[int, int]
    minutes: int = Field(ge=1, le=1000)
    challenge: ChallengeRule | None = None
    #: "district", or the id of the school that shared it up.
    origin: str = Field(pattern=SCHOOL_ID)
    published: float


class ChallengeNotice(Signed):
    """A district challenge: a library lesson, the metric it ranks, when it is open."""

    KIND = "challenge"
    id: str = Field(pattern=r"^c-[0-9a-f]{8,32}$")
    title: Bilingual
    lesson: LibraryEntry
    rule: ChallengeRule
    starts: float
    ends: float


class ChallengeTry(_Strict):
    """One handed-in result of a district challenge: pseudonymous (never a name)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    result_id: str = Field(pattern=r"^[A-Za-z0-9_.:-]{1,128}$")
    room: str = Field(pattern=SCHOOL_ID)
    class_: str = Field(alias="class", min_length=1, max_length=64)
    #: The school's pseudonym for the student (``p-`` and 16 hex digits).
    student: str = Field(pattern=r"^p-[0-9a-f]{16}$")
    value: float = Field(ge=-1e9, le=1e9, allow_inf_nan=False)
    score: float | None = Field(None, ge=-1e6, le=1e6, allow_inf_nan=False)
    at: float


class ChallengeTries(Signed):
    """A school's handed-in results of one district challenge, with the challenge's metric
    (the district link's results carry no metric), signed by the school console's key."""

    KIND = "challenge-tries"
    school: str = Field(pattern=SCHOOL_ID)
    challenge: str = Field(pattern=r"^c-[0-9a-f]{8,32}$")
    tries: list[ChallengeTry] = Field(min_length=1, max_length=200)
    issued: float


class Submission(Signed):
    """A school shares a lesson up for review: these bytes (the request's body), signed by
    the school console's key; ``note`` says why, for the district's staff."""

    KIND = "submission"
    school: str = Field(pattern=SCHOOL_ID)
    sha256: str = Field(pattern=SHA256)
    size: int = Field(ge=1, le=MAX_LIBRARY_BUNDLE)
    note: str = Field("", max_length=500)
    issued: float


S = TypeVar("S", bound=Signed)


def sign(key: SigningKey, item: S) -> S:
    """``item`` with ``key``'s id and a fresh signature."""
    unsigned = item.model_copy(update={"kid": key.kid, "sig": ""})
    return unsigned.model_copy(update={"sig": key.sign_bytes(unsigned.signed_bytes())})


def check(item: Signed, trusted: dict[str, Ed25519PublicKey]) -> str | None:
    """Why ``item``'s signature must be refused (in English and Chinese), or ``None``."""
    if not item.sig:
        return "not signed / 没有签名"
    public = trusted.get(item.kid)
    if public is None:
        return f"signed by an unknown key {item.kid} / 签名的密钥 {item.kid} 不认识"
    try:
        public.verify(base64.b64decode(item.sig, validate=True), item.signed_bytes())
    except (InvalidSignature, ValueError):
        return "bad signature: changed on the way / 签名不对：途中被改动过"
    return None


def bundle_reason(entry: LibraryEntry, data: bytes) -> str | None:
    """Why ``data`` is not the bundle ``entry`` names (size, sha256), or ``None``."""
    if len(data) != entry.size:
        return (
            f"the bundle of {entry.lesson_id} is {len(data)} bytes, not {entry.size}: "
            f"damaged or changed on the way / 课程包大小不符：途中损坏或被改动过"
        )
    if hashlib.sha256(data).hexdigest() != entry.sha256:
        return (
            f"the bundle of {entry.lesson_id} does not match its sha256: changed on the way "
            f"/ 课程包与它的 sha256 不一致：途中被改动过"
        )
    return None


def school_reason(
    item: Submission | ChallengeTries, public: Ed25519PublicKey | None, now: float | None = None
) -> str | None:
    """Why something a school signed must be refused, or ``None``: its key, signature, time.

    ``public`` is the key the district registered for ``item.school`` (``None``: unknown).
    """
    if public is None:
        return f"school {item.school} is not registered here / 学校 {item.school} 没有登记"
    reason = check(item, {key_id(public): public})
    if reason is not None:
        return reason
    t = time.time() if now is None else now
    if abs(item.issued - t) > CLOCK_SKEW_S:
        return "signed too long ago or in the future: check the clock / 签名时间不对：请检查时钟"
    return None


def submission_reason(
    sub: Submission, data: bytes, public: Ed25519PublicKey | None, now: float | None = None
) -> str | None:
    """Why a school's submission must be refused, or ``None``: its key, signature, time, and
    whether ``data`` are the bytes it signed."""
    reason = school_reason(sub, public, now)
    if reason is None and (sub.size != len(data) or hashlib.sha256(data).hexdigest() != sub.sha256):
        return "the lesson's bytes are not the ones signed / 课程的内容与签名不符"
    return reason
