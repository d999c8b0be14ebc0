"""District challenges for staff: ``/api/v1/challenges`` (start, list, end, leaderboard), and
the leaderboard live (Server-Sent Events).

A leaderboard line is a pseudonymous student id with their school and class,
their best handed-in value and how many tries: never a name (the district has none).
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from district.api.deps import Staff
from district.api.library import ChallengesDep, refused
from district.api.pages import EVENT_STREAM, watch
from district.challenges import MAX_HOURS, Challenges
from district.library import LibraryError
from fleet.core.districtlib import SHA256, Bilingual, ChallengeNotice, ChallengeRule

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/challenges", tags=["challenges"])


class NewChallenge(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sha256: str = Field(pattern=SHA256)
    hours: float = Field(48.0, gt=0, le=MAX_HOURS)
    title: Bilingual | None = None
    #: The metric to rank and which way is better; default: the lesson's own ``challenge:``.
    metric: str | None = Field(None, pattern=r"^[a-z][a-z0-9_]{0,39}$")
    better: Literal["lower", "higher"] = "lower"
    unit: str = Field("", max_length=12)


def _view(notice: ChallengeNotice) -> dict[str, Any]:
    data = notice.model_dump(mode="json", exclude={"sig", "kid"})
    return data


@router.get("")
def challenges(found: ChallengesDep, _who: Staff) -> list[dict[str, Any]]:
    """Every challenge, newest first."""
    return [_view(c) for c in found.notices()]


@router.post("", status_code=201)
def start(body: NewChallenge, found: ChallengesDep, who: Staff) -> dict[str, Any]:
    """Start a challenge on a published lesson; schools see it with the library."""
    rule = (
        ChallengeRule(metric=body.metric, better=body.better, unit=body.unit)
        if body.metric
        else None
    )
    try:
        notice = found.start(body.sha256, who, hours=body.hours, title=body.title, rule=rule)
    except LibraryError as exc:
        raise refused(exc, 409 if "already" in str(exc) else 422) from exc
    return _view(notice)


@router.post("/{challenge_id}/end")
def end(challenge_id: str, found: ChallengesDep, who: Staff) -> dict[str, Any]:
    """Close a challenge now; its leaderboard stays."""
    try:
        return _view(found.end(challenge_id, who))
    except LibraryError as exc:
        raise refused(exc, 404) from exc


def board(found: Challenges, challenge_id: str) -> dict[str, Any]:
    """A challenge and its leaderboard, as the page draws it."""
    notice = found.get(challenge_id)
    if notice is None:
        raise HTTPException(404, f"no challenge {challenge_id} / 没有挑战赛 {challenge_id}")
    ranks = found.leaderboard(challenge_id)
    return {"challenge": _view(notice), "ranks": [r.to_json() for r in ranks]}


@router.get("/{challenge_id}/leaderboard")
def leaderboard(challenge_id: str, found: ChallengesDep, _who: Staff) -> dict[str, Any]:
    """Each student's best handed-in value, ranked across schools."""
    return board(found, challenge_id)


@router.get("/{challenge_id}/events", response_class=StreamingResponse, responses=EVENT_STREAM)
def events(
    challenge_id: str, request: Request, found: ChallengesDep, _who: Staff
) -> StreamingResponse:
    """The leaderboard now and whenever it changes (``event: leaderboard``)."""
    board(found, challenge_id)  # 404 before the stream starts
    return watch(request, "leaderboard", lambda: board(found, challenge_id))
