"""The district's lesson library: ``/api/v1/library/...``.

What schools read needs no login (lessons are not secret, and every entry,
bundle and challenge is signed or addressed by its sha256, so a school checks
what it gets): the published lessons, the district's public key, a bundle by
sha256, the open challenges. A school shares a lesson up with a body (the
bundle) and its signed :class:`~fleet.core.districtlib.Submission` in the
``X-RoboClass-Submission`` header, checked against the key registered for that
school. A school's console sends the handed-in results of a challenge it opened, with
the challenge's metric, the same way (:class:`~fleet.core.districtlib.ChallengeTries`).
District staff (logged in) publish, list, approve and refuse.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from district.api.deps import Staff, StoreDep
from district.challenges import Challenges
from district.library import Library, LibraryError, Review, SubmissionRefused
from fleet.core.districtlib import (
    MAX_LIBRARY_BUNDLE,
    SHA256,
    SUBMISSION_HEADER,
    ChallengeTries,
    Submission,
    school_reason,
)
from fleet.core.signing import load_public_key, public_key_text

__all__ = ["LibraryDep", "read_body", "router"]

router = APIRouter(prefix="/api/v1/library", tags=["library"])


def get_library(request: Request) -> Library:
    library: Library = request.app.state.library
    return library


def get_challenges(request: Request) -> Challenges:
    challenges: Challenges = request.app.state.challenges
    return challenges


LibraryDep = Annotated[Library, Depends(get_library)]
ChallengesDep = Annotated[Challenges, Depends(get_challenges)]
_BUNDLE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/gzip": {}}, "description": "the lesson bundle"}
}


def refused(exc: LibraryError, status: int = 422) -> HTTPException:
    return HTTPException(status, str(exc))


async def read_body(request: Request, limit: int = MAX_LIBRARY_BUNDLE) -> bytes:
    """The request's body, refused with 413 past ``limit`` bytes (never more in memory)."""
    parts: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(
                413, f"a lesson bundle is at most {limit} bytes / 课程包最多 {limit} 字节"
            )
        parts.append(chunk)
    return b"".join(parts)


@router.get("")
def lessons(library: LibraryDep) -> dict[str, Any]:
    """The published lessons (the newest version of each), each signed by the district."""
    return {"lessons": [e.model_dump(mode="json") for e in library.entries()]}


@router.get("/key")
def district_key(library: LibraryDep) -> dict[str, str]:
    """The district's public key (64 hex digits) and its id: schools pin it."""
    return {"kid": library.key.kid, "public_key": public_key_text(library.key.public_key)}


@router.get("/bundles/{sha256}", response_class=Response, responses=_BUNDLE)
def bundle(sha256: str, library: LibraryDep) -> Response:
    """A published lesson's bundle by its sha256."""
    data = library.bundle(sha256) if len(sha256) == 64 else None
    if data is None:
        raise HTTPException(404, "no such lesson in the library / 课程库里没有这个课程")
    return Response(data, media_type="application/gzip")


@router.get("/challenges")
def open_challenges(challenges: ChallengesDep) -> dict[str, Any]:
    """The challenges open now, each signed by the district (what schools read)."""
    return {"challenges": [c.model_dump(mode="json") for c in challenges.notices(open_only=True)]}


@router.post("/submissions", status_code=201)
async def submit(request: Request, library: LibraryDep, store: StoreDep) -> dict[str, Any]:
    """A school shares a lesson for review: the body is its bundle, the header its signed
    submission (checked against the key registered for that school)."""
    try:
        sub = Submission.model_validate_json(
            base64.b64decode(request.headers.get(SUBMISSION_HEADER, ""), validate=True)
        )
    except (binascii.Error, ValidationError, ValueError) as exc:
        raise HTTPException(
            400, f"no signed submission in {SUBMISSION_HEADER} / 缺少签名的提交信息"
        ) from exc
    owner = (await run_in_threadpool(store.schools.trusted_keys)).get(sub.kid)
    public = load_public_key(owner[1]) if owner is not None and owner[0] == sub.school else None
    early = school_reason(sub, public)  # before a byte of the body is read
    if early is not None:
        raise HTTPException(403, early)
    data = await read_body(request)
    try:
        item = await run_in_threadpool(library.submit, sub, data, public)
    except SubmissionRefused as exc:
        raise refused(exc, 403) from exc
    except LibraryError as exc:
        raise refused(exc) from exc
    return item.to_json()


@router.post("/challenges/{challenge_id}/tries")
def challenge_tries(
    challenge_id: str, body: ChallengeTries, challenges: ChallengesDep, store: StoreDep
) -> dict[str, int]:
    """A school's handed-in results of a challenge (with the metric's value), signed by the
    school console's key: each stored once; ``stored``, ``already``, ``outside`` its time."""
    if body.challenge != challenge_id:
        raise HTTPException(422, "the challenge in the path and the body differ")
    owner = store.schools.trusted_keys().get(body.kid)
    public = load_public_key(owner[1]) if owner is not None and owner[0] == body.school else None
    try:
        return challenges.add_tries(body, public)
    except SubmissionRefused as exc:
        raise refused(exc, 403) from exc
    except LibraryError as exc:
        raise refused(exc, 404) from exc


class Decision(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field("", max_length=500)


@router.get("/items")
def items(library: LibraryDep, _who: Staff, review: Review | None = None) -> list[dict[str, Any]]:
    """Every lesson with its review (waiting, published, refused), newest first."""
    return [i.to_json() for i in library.items(review)]


@router.post("/publish", status_code=201)
async def publish(request: Request, library: LibraryDep, who: Staff) -> dict[str, Any]:
    """Publish a lesson bundle (the body, as ``roboclass lesson pack`` wrote it) now."""
    data = await read_body(request)
    try:
        entry = await run_in_threadpool(library.publish, data, who)
    except LibraryError as exc:
        raise refused(exc) from exc
    return entry.model_dump(mode="json")


def _sha(sha256: str) -> str:
    import re  # noqa: PLC0415

    if not re.match(SHA256, sha256):
        raise HTTPException(404, "no such lesson / 没有这个课程")
    return sha256


@router.post("/items/{sha256}/approve")
def approve(sha256: str, library: LibraryDep, who: Staff) -> dict[str, Any]:
    """Publish a lesson a school shared (signed by the district now)."""
    try:
        return library.approve(_sha(sha256), who).model_dump(mode="json")
    except LibraryError as exc:
        raise refused(exc, 404) from exc


@router.post("/items/{sha256}/refuse")
def refuse(sha256: str, body: Decision, library: LibraryDep, who: Staff) -> dict[str, Any]:
    """Keep a shared lesson out of the library, saying why."""
    try:
        return library.refuse(_sha(sha256), who, body.reason).model_dump(mode="json")
    except LibraryError as exc:
        raise refused(exc, 404) from exc


@router.get("/items/{sha256}/bundle", response_class=Response, responses=_BUNDLE)
def item_bundle(sha256: str, library: LibraryDep, _who: Staff) -> Response:
    """Any lesson's bundle, waiting ones too (for staff to look at before deciding)."""
    data = library.bundle(_sha(sha256), published_only=False)
    if data is None:
        raise HTTPException(404, "no such lesson / 没有这个课程")
    return Response(
        data,
        media_type="application/gzip",
        headers={"Content-Disposition": f'attachment; filename="{sha256[:12]}.tar.gz"'},
    )
