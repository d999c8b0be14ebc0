"""Bodies and answers of the student side's routes: periods, PINs, joining, the workspace."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from fleet.console.store import MAX_CODE, PinKind, Place

__all__ = [
    "CameraPanel",
    "CameraSwitch",
    "ClassWorkRow",
    "CodeSave",
    "Ended",
    "HandInBody",
    "Join",
    "JoinInfo",
    "JoinStudent",
    "Joined",
    "LessonPick",
    "NewPeriod",
    "PeriodView",
    "PinSet",
    "PinSheetRow",
    "RunStart",
    "RunStarted",
    "RunStopped",
    "Saved",
    "SignedOut",
    "VersionInfo",
]

LESSON_ID = r"^[a-z0-9][a-z0-9-]{1,48}$"
LessonId = Annotated[str, Field(pattern=LESSON_ID)]
Code = Annotated[str, Field(max_length=MAX_CODE)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NewPeriod(_Body):
    roster: str = Field(min_length=1, max_length=64)
    lesson_id: LessonId | None = None
    minutes: float = Field(90.0, gt=0, le=12 * 60)


class CameraSwitch(_Body):
    on: bool


class CameraPanel(BaseModel):
    """Whether a class's students see a robot's camera on their page."""

    roster: str
    camera_panel: bool


class LessonPick(_Body):
    lesson_id: LessonId | None


class PeriodView(BaseModel):
    id: str
    roster: str
    code: str
    lesson_id: str | None
    started: float
    ends: float
    ended: float | None
    teacher: str
    #: The address students open (the QR code says it too, with the code).
    join_url: str


class PinSet(_Body):
    """Set PINs: for the students named (default: every student of the class); ``pin`` only
    with one student (else each gets a new random one)."""

    students: list[Annotated[str, Field(min_length=1, max_length=64)]] | None = None
    kind: PinKind = PinKind.DIGITS
    pin: str | None = Field(default=None, pattern=r"^[0-9]{4,6}$|^[1-9]{3}$")
    length: int = Field(4, ge=4, le=6)


class PinSheetRow(BaseModel):
    student: str
    student_id: str
    kind: PinKind
    pin: str


class JoinStudent(BaseModel):
    id: str
    name: str
    #: How this student proves who they are (``None``: no PIN yet: ask the teacher).
    pin: PinKind | None


class JoinInfo(BaseModel):
    roster: str
    lesson_id: str | None
    students: list[JoinStudent]


class Join(_Body):
    code: str = Field(min_length=4, max_length=12)
    student_id: str = Field(pattern=r"^s-[0-9a-f]{16}$")
    pin: str = Field(pattern=r"^[0-9]{3,6}$")


class Joined(BaseModel):
    student_id: str
    name: str
    roster: str
    expires: float


#: The largest block program (Blockly's JSON) a student may save.
MAX_BLOCKS = 256 * 1024


class CodeSave(_Body):
    lesson_id: LessonId
    code: Code
    #: The blocks that made ``code`` (Blockly's JSON text), for a lesson done in blocks.
    blocks: str | None = Field(default=None, max_length=MAX_BLOCKS)


class Saved(BaseModel):
    lesson_id: str
    version: int
    saved: float


class RunStart(_Body):
    lesson_id: LessonId
    code: Code
    place: Place = Place.SIM
    #: Also stream the robot's camera (the frames the program reads), small and never stored.
    camera: bool = False


class HandInBody(_Body):
    lesson_id: LessonId
    code: Code


class Ended(BaseModel):
    ended: bool


class SignedOut(BaseModel):
    signed_out: bool


class VersionInfo(BaseModel):
    version: int
    saved: float
    lines: int


class ClassWorkRow(BaseModel):
    """One student in the teacher's class view."""

    student_id: str
    name: str
    devices: list[str]
    pin: PinKind | None
    lesson_id: str | None
    code: str | None
    saved: float | None
    #: The student's last run: lesson, place, status, error, when (``None``: none yet).
    last_run: dict[str, object] | None
    #: Their hand-ins, newest first (without the code: ``GET /api/v1/handins/{id}``).
    handins: list[dict[str, object]]


class RunStarted(BaseModel):
    #: The run's id: a job id (``j...``) on the robot, a simulator run's id otherwise.
    run: str
    place: Place


class RunStopped(BaseModel):
    stopped: bool
