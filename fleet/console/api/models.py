"""The console API's request bodies and the answers it documents (``/openapi.json``).

Lists of stored things answer with the store's own records
(:mod:`fleet.console.store.records`); the rest are here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from fleet.console.store import Device, EStopState, JobState, Token
from fleet.core.protocol import ID_PATTERN, Status

__all__ = [
    "MIN_PASSWORD",
    "Bind",
    "Binding",
    "Canceled",
    "DeviceView",
    "Health",
    "JobLog",
    "JobRef",
    "LastResult",
    "LessonItem",
    "Login",
    "LoginCookie",
    "LoginToken",
    "ModelPush",
    "ModelPushed",
    "NewToken",
    "PreviewOff",
    "PreviewOn",
    "PreviewSwitch",
    "Purge",
    "Push",
    "Pushed",
    "Revoked",
    "Room",
    "RoomDevice",
    "RoomJob",
    "Sent",
    "Session",
    "Setup",
    "SetupCookie",
    "SetupToken",
    "ShelfPush",
    "ShelfUpload",
    "Stats",
    "TokenMade",
    "TokenRevoked",
    "TokenView",
    "Uploaded",
    "Watch",
]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# -- what clients send --------------------------------------------------------


class Login(_Body):
    username: str
    password: str
    #: ``cookie``: the browser's page; the token goes into an HttpOnly cookie, not the answer.
    session: Literal["token", "cookie"] = "token"


class Bind(_Body):
    student: str | None = Field(default=None, min_length=1, max_length=128)
    roster: str | None = Field(default=None, min_length=1, max_length=128, pattern=r"^[^/]+$")


class Purge(_Body):
    confirm: str = Field(description="the class name typed again")


class Push(_Body):
    lesson: str = Field(description="a built-in lesson id, or the sha256 of an uploaded bundle")
    lesson_id: str | None = Field(default=None, max_length=128)
    devices: list[Annotated[str, Field(pattern=ID_PATTERN)]] | None = None
    code: str | None = Field(default=None, max_length=200_000)
    time_limit_s: float = Field(default=300.0, gt=0, le=24 * 3600)
    max_offline_s: float = Field(default=30.0, gt=0)


class ModelPush(_Body):
    manifest: str = Field(description="the model's manifest (YAML text)")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="the uploaded .onnx")
    name: str | None = Field(default=None, description="install under this name instead")
    devices: list[Annotated[str, Field(pattern=ID_PATTERN)]] | None = None


class ShelfUpload(_Body):
    """A teacher's own model onto the shelf: its .onnx uploaded first to ``/api/v1/bundles``."""

    manifest: str = Field(description="the model's manifest (YAML text)")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="the uploaded .onnx")
    name: str | None = Field(default=None, description="keep it under this name instead")


class ShelfPush(_Body):
    """Which robots a model on the shelf goes to (``null``: every robot the room knows)."""

    devices: list[Annotated[str, Field(pattern=ID_PATTERN)]] | None = None


# -- what the console answers -------------------------------------------------


class Health(_Answer):
    ok: bool
    broker_connected: bool
    #: The id of the key the console signs jobs with.
    kid: str
    #: Whether any teacher account exists (the page offers set-up when not).
    teachers: bool


class LoginToken(_Answer):
    token: str
    expires_in: float


class LoginCookie(_Answer):
    """A browser's login: the token is in the HttpOnly cookie, not here."""

    username: str
    expires_in: float


class Revoked(_Answer):
    revoked: bool


@dataclass(frozen=True, slots=True)
class DeviceView(Device):
    """A device with its newest telemetry (``None`` when none came since the console started)."""

    telemetry: dict[str, Any] | None


class Binding(_Answer):
    device: str
    student: str | None
    student_id: str | None
    roster: str | None


class Sent(_Answer):
    """A command sent to a device."""

    device: str
    sent: str


class Uploaded(_Answer):
    sha256: str
    size: int


class LessonItem(_Answer):
    id: str
    title: str


class JobRef(_Answer):
    job: str
    device: str


class Pushed(_Answer):
    lesson_id: str
    sha256: str
    jobs: list[JobRef]


class ModelPushed(_Answer):
    model: str
    sha256: str
    size: int
    jobs: list[JobRef]


class Canceled(_Answer):
    job: str
    sent: str


class Stats(_Answer):
    #: Messages dropped on receipt, by reason.
    dropped: dict[str, int]
    results_stored: int
    results_duplicate: int


# -- set-up, the session and API tokens ----------------------------------------

#: The shortest password the set-up page accepts.
MIN_PASSWORD = 8


class Setup(_Body):
    username: str = Field(min_length=1, max_length=64, pattern=r"^[^\s:]+$")
    password: str = Field(min_length=MIN_PASSWORD, max_length=256)
    code: str = Field(default="", max_length=32, description="the one-time set-up code")
    #: ``cookie``: the browser's page; the token goes into an HttpOnly cookie, not the answer.
    session: Literal["token", "cookie"] = "token"


class SetupToken(_Answer):
    token: str
    username: str


class SetupCookie(_Answer):
    username: str


class Session(_Answer):
    username: str
    #: True for a teacher who typed the password (not an API token).
    login: bool


class NewToken(_Body):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[^\s/]([^/]*[^\s/])?$")


@dataclass(frozen=True, slots=True)
class TokenView(Token):
    """One of the teacher's tokens; ``current``: the one this request came with."""

    current: bool


class TokenMade(_Answer):
    """A new API token: shown this once."""

    id: str | None
    name: str
    token: str


class TokenRevoked(_Answer):
    id: str
    revoked: bool


# -- the room, logs and previews ------------------------------------------------


class PreviewSwitch(_Body):
    on: bool


class PreviewOn(_Answer):
    device: str
    by: str
    #: When it turns itself off (s since the epoch) unless turned on again.
    until: float
    on: Literal[True]


class PreviewOff(_Answer):
    device: str
    on: Literal[False]


class Watch(_Answer):
    """Who turned a preview on, and until when."""

    by: str
    until: float


class RoomJob(_Answer):
    job: str
    lesson_id: str
    status: JobState
    reason: str | None
    updated: float


class LastResult(_Answer):
    lesson_id: str | None
    status: Status
    score: float | None
    passed: bool


class RoomDevice(_Answer):
    device: str
    student: str | None
    student_id: str | None
    roster: str | None
    online: bool
    estopped: bool
    kit: str | None
    #: The newest telemetry's, else the birth's.
    battery_v: int | float | None
    preflight: dict[str, Any] | None
    preview: Watch | None
    #: Another computer is using this robot's certificate (fleet/console/identity.py).
    identity_clash: bool = False
    #: The device's newest job.
    job: RoomJob | None
    last_result: LastResult | None


class Room(_Answer):
    """The room at a glance, as the page's live view shows it."""

    estop: EStopState
    devices: list[RoomDevice]
    #: How many results are stored.
    results: int


class JobLog(_Answer):
    job: str
    device: str
    #: False when the console keeps no lines of this job (too old, or none came).
    kept: bool
    lines: list[dict[str, Any]]
