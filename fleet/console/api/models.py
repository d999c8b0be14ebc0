"""The console API's request bodies and the answers it documents (``/openapi.json``).

Lists of stored things answer with the store's own records
(:mod:`fleet.console.store.records`); the rest are here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from fleet.console.store import Device
from fleet.core.protocol import ID_PATTERN

__all__ = [
    "Bind",
    "Binding",
    "Canceled",
    "DeviceView",
    "Health",
    "JobRef",
    "LessonItem",
    "Login",
    "LoginCookie",
    "LoginToken",
    "ModelPush",
    "ModelPushed",
    "Purge",
    "Push",
    "Pushed",
    "Revoked",
    "Sent",
    "Stats",
    "Uploaded",
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
