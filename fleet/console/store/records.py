"""What the console's store answers: typed, read-only records.

Each record is a frozen dataclass whose fields are the columns the store
selects, in that order; :meth:`Record.to_json` gives the plain dict the JSON
API sends (the same keys, in the same order). Job and result statuses are
:class:`JobState` and :class:`fleet.core.protocol.Status`; what the audit log records is an
:class:`AuditAction`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from fleet.core.protocol import Status

__all__ = [
    "AuditAction",
    "AuditEntry",
    "Device",
    "EStopState",
    "Job",
    "JobState",
    "ModelRecord",
    "PendingJob",
    "Purged",
    "Record",
    "Result",
    "ResultFilter",
    "Roster",
    "StoredJob",
    "Student",
    "Token",
    "TokenInfo",
]

#: The ``name`` of a token that a login made (every other name is an API token's label).
LOGIN = "login"


class Record:
    """A row the store answers with; :meth:`to_json` for the JSON API."""

    __slots__ = ()

    def to_json(self) -> dict[str, Any]:
        """The fields as a plain dict, in column order (nested values are not copied)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}  # type: ignore[arg-type]


class JobState(StrEnum):
    """Where a job is: :data:`PENDING` until its device reports, then a
    :class:`fleet.core.protocol.Status`."""

    #: Stored and sent, not yet reported by the device.
    PENDING = "PENDING"
    QUEUED = Status.QUEUED.value
    IN_PROGRESS = Status.IN_PROGRESS.value
    SUCCEEDED = Status.SUCCEEDED.value
    FAILED = Status.FAILED.value
    TIMED_OUT = Status.TIMED_OUT.value
    REJECTED = Status.REJECTED.value
    CANCELED = Status.CANCELED.value


class AuditAction(StrEnum):
    """What a teacher did, as the audit log names it."""

    SETUP = "setup"
    PUSH = "push"
    PUSH_MODEL = "push-model"
    CANCEL = "cancel"
    STOP = "stop"
    #: The e-stop was cleared (``release``: the name the log and its page have always used).
    CLEAR_STOP = "release"
    PURGE = "purge"
    PREVIEW = "preview"
    #: A class's camera panel turned on or off (``roster``, ``on``).
    CAMERA_PANEL = "camera-panel"
    TOKEN = "token"  # noqa: S105 - an action, not a secret
    REVOKE_TOKEN = "revoke-token"  # noqa: S105 - an action, not a secret
    CLAIM = "claim"
    CLAIM_FAILED = "claim-failed"
    REVOKE = "revoke"
    MOVE = "move"
    RENAME = "rename"


@dataclass(frozen=True, slots=True)
class Device(Record):
    """A robot the room knows, with the student bound to it (``None`` when unbound)."""

    device: str
    session: str | None
    online: bool
    kit: str | None
    backend: str | None
    battery: float | None
    estopped: bool
    #: The job it said it runs, in its last birth.
    job: str | None
    preflight: dict[str, Any] | None
    versions: dict[str, str]
    student_id: str | None
    first_seen: float
    last_seen: float
    #: The student's display name and class.
    student: str | None
    roster: str | None


@dataclass(frozen=True, slots=True)
class Student(Record):
    """A pseudonymous student: ``id`` is ``s-`` and 16 hex digits."""

    id: str
    name: str
    roster: str
    created: float
    #: How many results the student has.
    results: int
    #: The devices bound to the student, sorted.
    devices: list[str]


@dataclass(frozen=True, slots=True)
class Roster(Record):
    """A class, with how many students and results it has."""

    roster: str
    students: int
    results: int


@dataclass(frozen=True, slots=True)
class Purged(Record):
    """What purging a class deleted, and the devices that were bound to its students."""

    roster: str
    students: int
    results: int
    jobs: int
    devices: list[str]


@dataclass(frozen=True, slots=True)
class ModelRecord(Record):
    """A model on the console's shelf: the teacher's own (``student_id`` ``None``) or one a
    student taught, with what its manifest says it does."""

    name: str
    sha256: str
    size: int
    student_id: str | None
    created: float
    #: The manifest's task (``classify``, ...) and labels (``{"id", "en", "zh"}`` each).
    task: str | None
    labels: list[dict[str, str]]
    #: The manifest's title (``{"en", "zh"}``).
    title: dict[str, str] | None
    #: The student's display name and class (``None`` for the teacher's own models).
    student: str | None
    roster: str | None
    #: The manifest (YAML text), as it was checked when the model was added.
    manifest: str


@dataclass(frozen=True, slots=True)
class Job(Record):
    """A job as the jobs list shows it."""

    job: str
    device: str
    #: The lesson's id (``model:NAME`` for a model's install).
    lesson_id: str
    sha256: str
    status: JobState
    reason: str | None
    created: float
    updated: float


@dataclass(frozen=True, slots=True)
class StoredJob(Record):
    """A job with its signed document and the student it was pushed for."""

    job: str
    device: str
    lesson_id: str
    sha256: str
    status: JobState
    reason: str | None
    doc: str
    created: float
    updated: float
    student_id: str | None


@dataclass(frozen=True, slots=True)
class PendingJob(Record):
    """A job that has not finished: its document is sent again when its device is born."""

    job: str
    doc: str
    status: JobState


@dataclass(frozen=True, slots=True)
class Result(Record):
    """A stored result, with its student's display name and class."""

    result_id: str
    job: str
    device: str
    student_id: str | None
    lesson_id: str | None
    status: Status
    score: float | None
    #: The result the device sent (the grader's report).
    result: dict[str, Any]
    received: float
    student: str | None
    roster: str | None
    #: The student's hand-in this result graded (its exact code: ``/api/v1/handins/{id}``).
    handin: str | None = None


@dataclass(frozen=True, slots=True)
class ResultFilter:
    """Which results to list: every field that is not ``None`` must match.

    ``student`` is the display name, ``student_id`` the pseudonym; ``since``
    keeps results received at or after that time, ``until`` those received
    before it (seconds since the epoch).
    """

    device: str | None = None
    student: str | None = None
    lesson: str | None = None
    status: str | None = None
    since: float | None = None
    student_id: str | None = None
    roster: str | None = None
    until: float | None = None


@dataclass(frozen=True, slots=True)
class TokenInfo(Record):
    """A live token: its id (the start of its hash), its teacher and its name."""

    id: str
    username: str
    #: :data:`LOGIN` for a login, else the API token's label.
    name: str

    @property
    def is_login(self) -> bool:
        return self.name == LOGIN


@dataclass(frozen=True, slots=True)
class Token(Record):
    """One of a teacher's live tokens; the id revokes it but cannot log in."""

    id: str
    name: str
    created: float
    #: ``None``: it never expires.
    expires: float | None


@dataclass(frozen=True, slots=True)
class AuditEntry(Record):
    """One line of the audit log."""

    id: int
    ts: float
    who: str
    #: An :class:`AuditAction`'s value.
    action: str
    detail: dict[str, Any]


@dataclass(frozen=True, slots=True)
class EStopState(Record):
    """The room's e-stop: each change has the next epoch."""

    active: bool
    epoch: int
    by: str
    ts: float
