"""A student teaches their own robot from the page: ``/api/v1/student/teach/...``.

Every route needs the student's session and works only on the robot bound to
that student. The pictures are taken and kept on the robot; the console
relays commands and keeps the newest thumbnails in memory only
(:mod:`fleet.console.teach`). ``GET .../events`` (Server-Sent Events) sends
the session's ``view`` each time it changes: labels and pictures, training's
progress and result, "try it", the deployed model, the newest error; and
``camera``, the robot's live preview while the panel is open.

Every input is bounded: label names (24 characters, 8 labels), bursts (20
pictures, at most :data:`~fleet.console.teach.CAPTURES_PER_MINUTE` a minute),
model names (as the registry takes them); errors say what to do in en and zh.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import threading
import time
import unicodedata
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from fleet.console.api.deps import ConsoleDep, Student, student_session
from fleet.console.api.streams import EVENT_STREAM, event_stream, sse
from fleet.console.console import Console
from fleet.console.store import StudentSession
from fleet.console.teach import CAPTURES_PER_MINUTE, camera_panel_allowed
from fleet.core.errors import PreviewError
from fleet.core.teach import LABEL_PATTERN, MAX_BURST, MAX_LABELS, MODEL_NAME

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/student/teach", tags=["student"])

_TICK_S = 0.2
_LOOK_S = 2.0
_HEARTBEAT_S = 15.0
_LABEL = re.compile(LABEL_PATTERN)


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LabelBody(_Body):
    #: What the student calls it, in Chinese or English.
    name: Annotated[str, Field(min_length=1, max_length=24)]
    #: What the model answers (``stop``); default: made from the name.
    id: Annotated[str, Field(pattern=LABEL_PATTERN)] | None = None


class CaptureBody(_Body):
    label: Annotated[str, Field(pattern=LABEL_PATTERN)]
    count: int = Field(default=1, ge=1, le=MAX_BURST)


class CardBody(_Body):
    card: Annotated[str, Field(pattern=LABEL_PATTERN)] | None = None


class TryBody(_Body):
    on: bool


class TrainBody(_Body):
    #: Train on the student's robot (the pictures stay there), or on the console (the robot
    #: sends its pictures up; they are kept on the console until the class is purged).
    where: Literal["robot", "console"] = "robot"


class DeployBody(_Body):
    name: Annotated[str, Field(pattern=MODEL_NAME)]


class TeachSent(BaseModel):
    sent: bool = True


class LabelAdded(BaseModel):
    #: The label's id: what the model will answer.
    id: str


class TeachView(BaseModel):
    """What the page shows of the session (``None``: the robot has not said it yet)."""

    device: str
    captures_per_minute: int
    #: Labels with their pictures' ids, the cards, what the robot is doing.
    state: dict[str, Any] | None = None
    #: The pictures whose thumbnails the console holds (in memory).
    pictures: list[str] = []
    progress: dict[str, Any] | None = None
    result: dict[str, Any] | None = None
    #: "Try it": the newest answer, with its thumbnail.
    try_: dict[str, Any] | None = Field(default=None, alias="try")
    deployed: dict[str, Any] | None = None
    error: dict[str, Any] | None = None


def _robot(console: Console, me: StudentSession) -> str:
    if not camera_panel_allowed(console, me):
        raise HTTPException(
            403,
            "your teacher has turned the camera off for your class / 老师已为你的班级关闭摄像头",
        )
    if me.device is None:
        raise HTTPException(
            409,
            "no robot is yours yet: ask your teacher to give you one / "
            "你还没有机器人：请老师给你分配一台",
        )
    return me.device


def _send(console: Console, me: StudentSession, op: str, **fields: Any) -> TeachSent:
    console.teach.command(_robot(console, me), me.student_id, op, **fields)
    return TeachSent()


def _label_id(name: str, view: dict[str, Any] | None) -> str:
    """A label's id from what the student typed: ``Green light`` -> ``green-light``; a name in
    Chinese gets ``label-N``."""
    guess = re.sub(r"[\s_]+", "-", name.strip().lower())
    if _LABEL.match(guess):
        return guess
    known = {x["id"] for x in ((view or {}).get("state") or {}).get("labels") or []}
    return next(f"label-{n}" for n in range(1, MAX_LABELS + 2) if f"label-{n}" not in known)


def _clean(name: str) -> str:
    text = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip()
    if not text:
        raise HTTPException(400, "give the label a name / 请给标签起个名字")
    return text


@router.get("")
def state(me: Student, console: ConsoleDep) -> TeachView:
    """The session as the console last heard it (``null`` parts: not yet)."""
    device = _robot(console, me)
    found = console.teach.view(me.student_id)
    view = {**(found[1] if found else {}), "device": device}
    return TeachView.model_validate({**view, "captures_per_minute": CAPTURES_PER_MINUTE})


@router.post("/open")
def open_session(me: Student, console: ConsoleDep) -> TeachSent:
    """Start (or resume) teaching: the robot sends its labels and pictures; its camera shows."""
    device = _robot(console, me)
    console.teach.command(device, me.student_id, "open")
    with contextlib.suppress(PreviewError):  # too many on: teaching works without the picture
        console.preview_on(device, f"student:{me.student_id}")
    return TeachSent()


@router.post("/close")
def close_session(me: Student, console: ConsoleDep) -> TeachSent:
    device = _robot(console, me)
    latest = console.previews.latest(device)
    if latest is not None and latest[1].get("by") == f"student:{me.student_id}":
        console.preview_off(device)
    return _send(console, me, "close")


@router.post("/labels")
def add_label(body: LabelBody, me: Student, console: ConsoleDep) -> LabelAdded:
    """Add a label (or rename it, when ``id`` is one the student has)."""
    name = _clean(body.name)
    found = console.teach.view(me.student_id)
    label = body.id or _label_id(name, found[1] if found else None)
    _send(console, me, "label", label=label, en=name, zh=name)
    return LabelAdded(id=label)


@router.delete("/labels/{label}")
def delete_label(label: str, me: Student, console: ConsoleDep) -> TeachSent:
    if not _LABEL.match(label):
        raise HTTPException(404, "no such label / 没有这个标签")
    return _send(console, me, "delete", label=label)


@router.post("/capture")
def capture(body: CaptureBody, me: Student, console: ConsoleDep) -> TeachSent:
    """Take ``count`` pictures of ``label`` with the robot's camera (a held button: a burst)."""
    device = _robot(console, me)
    if not console.teach.may_capture(me.student_id, body.count):
        raise HTTPException(
            429,
            f"at most {CAPTURES_PER_MINUTE} pictures a minute: wait a little / "
            f"每分钟最多 {CAPTURES_PER_MINUTE} 张：请稍等",
        )
    console.teach.command(device, me.student_id, "capture", label=body.label, count=body.count)
    return TeachSent()


@router.get("/pictures/{label}/{number}", response_class=Response)
def picture(label: str, number: str, me: Student, console: ConsoleDep) -> Response:
    """A picture's thumbnail, from the console's memory (never stored; not cached by the browser)."""
    data = console.teach.thumbnail(me.student_id, f"{label}/{number}")
    if data is None:
        raise HTTPException(404, "no such picture / 没有这张图片")
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "no-store"})


@router.delete("/pictures/{label}/{number}")
def delete_picture(label: str, number: str, me: Student, console: ConsoleDep) -> TeachSent:
    if not (_LABEL.match(label) and re.fullmatch(r"[0-9]{4}", number)):
        raise HTTPException(404, "no such picture / 没有这张图片")
    return _send(console, me, "delete", picture=f"{label}/{number}")


@router.post("/card")
def card(body: CardBody, me: Student, console: ConsoleDep) -> TeachSent:
    """The simulator: hold a sign card in front of the robot's camera (``null``: put it down)."""
    return _send(console, me, "card", card=body.card)


@router.post("/train")
def train(me: Student, console: ConsoleDep, body: TrainBody | None = None) -> TeachSent:
    """Train on the robot (default) or on the console; progress and the result come as events."""
    console.teach.train(_robot(console, me), me.student_id, (body or TrainBody()).where)
    return TeachSent()


@router.post("/try")
def try_it(body: TryBody, me: Student, console: ConsoleDep) -> TeachSent:
    return _send(console, me, "try_on" if body.on else "try_off")


@router.post("/deploy")
def deploy(body: DeployBody, me: Student, console: ConsoleDep) -> TeachSent:
    """Put the trained model on the robot as ``name`` (``Classifier(name)`` finds it)."""
    console.teach.deploy(_robot(console, me), me.student_id, body.name)
    return TeachSent()


async def _events(
    console: Console, me: StudentSession, request: Request, closing: threading.Event
) -> AsyncIterator[bytes]:
    seen = picture = -1
    device = me.device or ""
    beat = looked = time.monotonic()
    yield b"retry: 2000\n\n"
    while not closing.is_set() and not console.closed:
        now = time.monotonic()
        if now - looked > _LOOK_S:
            looked = now
            if await request.is_disconnected():
                return
            still = student_session(request)
            if still is None or still.student_id != me.student_id:
                return
        found = console.teach.view(me.student_id)
        if found is not None and found[0] != seen:
            seen, beat = found[0], now
            yield sse("view", found[1])
        latest = console.previews.latest(device)  # the robot's camera, while the panel is open
        if latest is not None and latest[0] != picture and latest[1].get("state") == "frame":
            picture, beat = latest[0], now
            yield sse("camera", {"jpeg": latest[1].get("jpeg")})
        if now - beat > _HEARTBEAT_S:
            beat = now
            yield b": still here\n\n"
        await asyncio.sleep(_TICK_S)


@router.get("/events", response_class=StreamingResponse, responses=EVENT_STREAM)
async def events(request: Request, me: Student, console: ConsoleDep) -> StreamingResponse:
    """The session's ``view`` each time the robot says something new."""
    _robot(console, me)
    return event_stream(_events(console, me, request, request.app.state.closing))
