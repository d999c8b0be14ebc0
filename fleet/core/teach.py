"""The messages of "Teach your robot" between the console and one robot (docs/fleet-protocol.md).

The console sends a :class:`TeachCommand` on the robot's ``down/cmd/teach``
(QoS 1); the robot answers with :class:`TeachEvent` messages on its own
``up/teach`` (QoS 0, never retained). Both refuse unknown fields and bound
every size, like the rest of :mod:`fleet.core.protocol` (which decodes them)::

    cmd = TeachCommand(device="robot-03", ts=now, expires=now + 30, op="capture",
                       student="s-0123456789abcdef", label="stop", count=5)
    event = TeachEvent(device="robot-03", seq=1, ts=now, kind="picture",
                       student="s-0123456789abcdef", picture="stop/0001", jpeg="...")

The pictures stay on the robot: only thumbnails (<= 160x120 JPEG) travel, and
the console keeps them in memory only. Students are named by their
pseudonymous id (``s-`` and 16 hex digits), never by name.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "LABEL_PATTERN",
    "MAX_BURST",
    "MAX_CHUNK",
    "MAX_HELD_PARTS",
    "MAX_LABELS",
    "MAX_MISTAKES",
    "MAX_PICTURES",
    "MAX_PURGE",
    "MODEL_NAME",
    "PICTURE_PATTERN",
    "STUDENT_PATTERN",
    "TRY_SECONDS",
    "LabelInfo",
    "Mistake",
    "TeachCommand",
    "TeachEvent",
]

#: A student's pseudonymous id.
STUDENT_PATTERN = r"^s-[0-9a-f]{16}$"
#: A label's id (what a model answers; the page shows its en/zh names).
LABEL_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,23}$"
#: A picture: its label and number, as the dataset names it (``stop/0007``).
PICTURE_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,23}/[0-9]{4}$"
#: A model's name (as the registry and ``Classifier("my-signs")`` take it).
MODEL_NAME = r"^[a-z0-9][a-z0-9-]{0,62}$"
#: Most labels one student may teach.
MAX_LABELS = 8
#: Most pictures one student keeps on a robot (all labels together).
MAX_PICTURES = 400
#: Most pictures one capture command takes (a held button's burst).
MAX_BURST = 20
#: Most mistaken pictures a result shows.
MAX_MISTAKES = 12
#: Most students one purge names (a console sends more in several).
MAX_PURGE = 500
#: Most ``held`` events one robot answers a ``held`` command with (<= MAX_PURGE ids each).
MAX_HELD_PARTS = 4
#: Largest piece of a model sent up (base64 characters).
MAX_CHUNK = 48 * 1024
#: "Try it" stops by itself this long after it was turned on.
TRY_SECONDS = 120.0

Id = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
StudentId = Annotated[str, Field(pattern=STUDENT_PATTERN)]
LabelId = Annotated[str, Field(pattern=LABEL_PATTERN)]
PictureId = Annotated[str, Field(pattern=PICTURE_PATTERN)]
Name = Annotated[str, Field(min_length=1, max_length=24)]
Jpeg = Annotated[str, Field(max_length=16 * 1024)]  # a 160x120 thumbnail in base64 is ~5 kB


class _Msg(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    v: Literal[1] = 1


Op = Literal[
    "open",  # start (or resume) a student's session; the robot answers its state and pictures
    "close",  # end it (try-it stops); the pictures stay for next time
    "label",  # add or rename a label
    "capture",  # take ``count`` pictures of ``label`` from the robot's camera
    "delete",  # one ``picture``, or every picture of ``label``
    "train",  # train a model on the pictures; progress, then the result
    "try_on",  # classify the live camera until try_off or TRY_SECONDS
    "try_off",
    "deploy",  # save the trained model as ``model`` on this robot; it goes up to the console
    "card",  # the simulator: hold ``card`` (a sign kind) in front of the camera; None: put it down
    "purge",  # delete every picture and model of ``students``
    "upload",  # send every picture up, for training on the console (the student chose it)
    "owns",  # ``model`` (pushed by the console, trained there) is the student's: purge deletes it
    "held",  # say which students' teach folders this robot holds (``held`` events)
]


class TeachCommand(_Msg):
    """``down/cmd/teach``, QoS 1: one step of a student's teach session; ignored once expired."""

    name: Literal["teach"] = "teach"
    device: Id
    ts: float
    expires: float
    op: Op
    student: StudentId | None = None
    label: LabelId | None = None
    en: Name | None = None
    zh: Name | None = None
    count: int = Field(default=1, ge=1, le=MAX_BURST)
    picture: PictureId | None = None
    model: Annotated[str, Field(pattern=MODEL_NAME)] | None = None
    card: LabelId | None = None
    students: list[StudentId] = Field(default_factory=list, max_length=MAX_PURGE)


class LabelInfo(BaseModel):
    """A label of a session: its id, names, and its pictures (ids, oldest first)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: LabelId
    en: Name
    zh: Name
    pictures: list[PictureId] = Field(default_factory=list, max_length=MAX_PICTURES)


class Mistake(BaseModel):
    """A held-out picture the model got wrong: what it showed, what the model said."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    picture: PictureId
    truth: LabelId
    said: LabelId


Kind = Literal[
    "state",  # labels, pictures, cards, what the robot is doing (after every change)
    "picture",  # one picture's thumbnail (after a capture, or on open)
    "progress",  # training: ``stage`` and ``done`` (0..1)
    "result",  # training's end: accuracy, confusion, mistakes, seconds
    "try",  # "try it": the model's answer on the live camera, with its thumbnail
    "deployed",  # the model is on the robot as ``model``: its manifest; pieces follow
    "chunk",  # a piece of the deployed model's .onnx, for the console's model shelf
    "error",  # what went wrong, in English and Chinese (``en``, ``zh``)
    "purged",  # these students' pictures and models are gone from this robot
    "upload",  # one picture (``data``), for training on the console; ``parts``: the end
    "held",  # the students this robot holds teach folders of: ``students``, ``part`` of ``parts``
]


class TeachEvent(_Msg):
    """``up/teach``, QoS 0 (QoS 1 for ``deployed``, ``chunk``, ``upload``, ``purged``, ``held``)."""

    device: Id
    seq: int = Field(ge=0)
    ts: float
    kind: Kind
    student: StudentId | None = None
    busy: Literal["capture", "train", "try", "job"] | None = None
    labels: list[LabelInfo] | None = Field(default=None, max_length=MAX_LABELS)
    cards: list[LabelId] | None = Field(default=None, max_length=16)
    card: LabelId | None = None
    min_per_label: int | None = Field(default=None, ge=1, le=100)
    picture: PictureId | None = None
    jpeg: Jpeg | None = None
    stage: Literal["read", "features", "head", "export", "send"] | None = None
    done: float | None = Field(default=None, ge=0, le=1)
    accuracy: float | None = Field(default=None, ge=0, le=1)
    confusion: list[Annotated[list[int], Field(max_length=MAX_LABELS)]] | None = Field(
        default=None, max_length=MAX_LABELS
    )
    order: list[LabelId] | None = Field(default=None, max_length=MAX_LABELS)
    mistakes: list[Mistake] | None = Field(default=None, max_length=MAX_MISTAKES)
    trained_on: int | None = Field(default=None, ge=0)
    checked_on: int | None = Field(default=None, ge=0)
    seconds: dict[str, float] | None = Field(default=None, max_length=8)
    label: LabelId | None = None
    score: float | None = Field(default=None, ge=0, le=1)
    model: Annotated[str, Field(pattern=MODEL_NAME)] | None = None
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")] | None = None
    size: int | None = Field(default=None, ge=0, le=32 * 1024 * 1024)
    manifest: Annotated[str, Field(max_length=32 * 1024)] | None = None
    part: int | None = Field(default=None, ge=0, le=1024)
    parts: int | None = Field(default=None, ge=1, le=1024)
    data: Annotated[str, Field(max_length=MAX_CHUNK)] | None = None
    students: list[StudentId] | None = Field(default=None, max_length=MAX_PURGE)
    en: Annotated[str, Field(max_length=400)] | None = None
    zh: Annotated[str, Field(max_length=400)] | None = None
