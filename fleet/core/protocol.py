"""The fleet's MQTT protocol: its messages (see docs/fleet-protocol.md).

The topics they travel on are built and parsed in :mod:`fleet.core.topics`
(:class:`Topics`, :class:`Parsed` and :func:`valid_id` are importable from here too).

Every payload is one JSON object with a schema version ``v``. Receivers call
:func:`decode`, which returns a validated message or ``None``; a ``None`` was
dropped and counted in a :class:`DropCounter` (malformed JSON, unknown or
missing fields, a newer schema, oversized, or addressed to another device).
Nothing a peer sends can raise out of :func:`decode`::

    topics = Topics("school", "room1")
    counter = DropCounter()
    msg = decode(topics, topic, payload, counter, device="robot-07")
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from fleet.core.teach import TeachCommand, TeachEvent
from fleet.core.topics import ID_PATTERN, Parsed, Topics, valid_id

__all__ = [
    "ID_PATTERN",
    "MAX_ACK_IDS",
    "MAX_JOB_PAYLOAD",
    "MAX_MANIFEST_CHARS",
    "MAX_PAYLOAD",
    "MAX_PREVIEW_JPEG",
    "OLD_COMMAND_NAMES",
    "PREVIEW_SECONDS",
    "PROTOCOL_REVISION",
    "SCHEMA_VERSION",
    "TERMINAL",
    "BundleRef",
    "Command",
    "ConsoleState",
    "DeviceState",
    "DropCounter",
    "EStop",
    "JobDocument",
    "JobResult",
    "JobStatus",
    "LogBatch",
    "LogLine",
    "ModelRef",
    "Parsed",
    "Preview",
    "Reassign",
    "Status",
    "TeachCommand",
    "TeachEvent",
    "Telemetry",
    "Topics",
    "command_name",
    "decode",
    "encode",
    "takes_batched_acks",
    "valid_id",
]

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1
#: What this side of schema 1 understands, in a birth's ``versions["protocol"]``.
#: 1.1: an ``ack`` may carry ``result_ids`` (many results of one device at once).
PROTOCOL_REVISION = "1.1"
#: Most result ids in one ``ack``.
MAX_ACK_IDS = 256
#: Largest payload accepted on any topic but ``down/jobs`` (bytes).
MAX_PAYLOAD = 64 * 1024
#: Largest job document (it may carry a small bundle inline, base64).
MAX_JOB_PAYLOAD = 1024 * 1024
#: A live preview stops by itself this long after it was (last) turned on.
PREVIEW_SECONDS = 120.0
#: Largest camera thumbnail in a ``Preview`` (base64 characters; a 160x120 JPEG is ~5 kB).
MAX_PREVIEW_JPEG = 48 * 1024

Id = Annotated[str, Field(pattern=ID_PATTERN)]
Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class Status(StrEnum):
    """Job states, in the order a job moves through them."""

    QUEUED = "QUEUED"
    IN_PROGRESS = "IN_PROGRESS"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    TIMED_OUT = "TIMED_OUT"
    REJECTED = "REJECTED"
    CANCELED = "CANCELED"


TERMINAL = frozenset(
    {Status.SUCCEEDED, Status.FAILED, Status.TIMED_OUT, Status.REJECTED, Status.CANCELED}
)


class _Msg(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    v: Literal[1] = 1
    #: Fields added by a later protocol revision: left out when None, because an
    #: older reader forbids fields it does not know (see :func:`encode`).
    _later: ClassVar[frozenset[str]] = frozenset()


class DeviceState(_Msg):
    """``up/state``, retained: the birth (online) or the last will (offline)."""

    device: Id
    session: Id
    online: bool
    ts: float
    kit: str | None = None
    backend: str | None = None
    versions: dict[str, str] = Field(default_factory=dict, max_length=32)
    battery: float | None = None
    preflight: dict[str, int] | None = None
    job: Id | None = None
    estopped: bool = False


class Telemetry(_Msg):
    """``up/telemetry``, QoS 0, at most 5 per second."""

    device: Id
    session: Id
    ts: float
    values: dict[str, float | int | str | bool | None] = Field(max_length=64)


class LogLine(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    stream: Literal["stdout", "stderr", "agent"]
    line: Annotated[str, Field(max_length=2000)]


class LogBatch(_Msg):
    """``up/log``, QoS 0: lines of a job's output, batched."""

    device: Id
    job: Id | None = None
    lines: list[LogLine] = Field(max_length=200)


class JobStatus(_Msg):
    """``up/jobs/{job}/status``, QoS 1."""

    device: Id
    job: Id
    status: Status
    reason: Annotated[str, Field(max_length=500)] | None = None
    ts: float


class JobResult(_Msg):
    """``up/jobs/{job}/result``, QoS 1, re-sent from the device's outbox until acked."""

    device: Id
    job: Id
    result_id: Id
    status: Status
    result: dict[str, Any]
    ts: float


class BundleRef(BaseModel):
    """A lesson bundle by content address; small ones travel ``inline`` (base64)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: Annotated[str, Field(max_length=128)]
    sha256: Sha256
    size: int = Field(ge=0)
    inline: str | None = None


#: Largest model manifest (YAML text) a job document carries.
MAX_MANIFEST_CHARS = 32 * 1024


class ModelRef(BaseModel):
    """A model to install in the robot's model cache: its manifest (YAML, signed with the
    job) and its ``.onnx`` by content address (the manifest's sha256 is the file's)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]
    manifest: Annotated[str, Field(max_length=MAX_MANIFEST_CHARS)]
    file: BundleRef


class JobDocument(_Msg):
    """``down/jobs/{job}``, QoS 1: what to run (``lesson``) or install (``model``), signed by
    the console (Ed25519). A job names exactly one of the two."""

    job: Id
    device: Id
    lesson: BundleRef | None = None
    model: ModelRef | None = None
    models: list[Sha256] = Field(default_factory=list, max_length=16)
    code: Annotated[str, Field(max_length=200_000)] | None = None
    time_limit_s: float = Field(default=300.0, gt=0, le=24 * 3600)
    max_offline_s: float = Field(default=30.0, gt=0)
    issued: float
    expires: float
    kid: Annotated[str, Field(pattern=r"^[0-9a-f]{16}$")]
    sig: Annotated[str, Field(max_length=200)] = ""

    @model_validator(mode="after")
    def _one_thing(self) -> JobDocument:
        if (self.lesson is None) == (self.model is None):
            raise ValueError("a job names exactly one of lesson and model")
        return self

    def signed_bytes(self) -> bytes:
        """The canonical bytes the signature covers: every field but ``sig``."""
        return self.model_dump_json(exclude={"sig"}).encode()


class Preview(_Msg):
    """``up/preview``, QoS 0, never retained: a camera thumbnail while the teacher watches.

    Sent only after ``down/cmd/preview_on`` and for at most its time limit.
    ``state`` is ``frame`` (``jpeg`` holds a small JPEG, base64), or says why
    there is no picture: ``no_camera``, ``no_frames`` (the student's program
    is not reading the camera), ``error`` (``detail`` says what), ``off``
    (the last message of a preview). ``source`` says whose frame it is:
    ``program`` (a frame the student's program read) or ``robot`` (no job runs).
    """

    device: Id
    seq: int = Field(ge=0)
    ts: float
    until: float
    state: Literal["frame", "no_camera", "no_frames", "error", "off"]
    source: Literal["program", "robot"] | None = None
    jpeg: Annotated[str, Field(max_length=MAX_PREVIEW_JPEG)] | None = None
    width: int | None = Field(default=None, ge=1, le=4096)
    height: int | None = Field(default=None, ge=1, le=4096)
    detail: Annotated[str, Field(max_length=300)] | None = None


#: Command names an older console still sends -> today's name (accepted for one release).
OLD_COMMAND_NAMES = {"release": "leave_room"}


def command_name(name: str) -> str:
    """Today's name of a command (``release`` is ``leave_room`` now).

    >>> command_name("release"), command_name("cancel")
    ('leave_room', 'cancel')
    """
    return OLD_COMMAND_NAMES.get(name, name)


class Command(_Msg):
    """``down/cmd/{name}``, QoS 1; ignored once ``expires`` has passed.

    ``leave_room``: forget this room's credentials (the robot moves to another
    room). Its old name ``release`` is still read, as ``leave_room``, for one
    release; clearing the e-stop is an :class:`EStop` with ``active=False``.
    """

    name: Literal[
        "identify", "cancel", "preflight", "ack", "preview_on", "preview_off", "leave_room"
    ]
    device: Id
    ts: float
    expires: float
    job: Id | None = None
    result_id: Id | None = None
    #: ``ack`` of many results at once; only sent to devices whose birth says protocol 1.1
    result_ids: list[Id] | None = Field(default=None, max_length=MAX_ACK_IDS)

    _later: ClassVar[frozenset[str]] = frozenset({"result_ids"})  # protocol 1.1

    @model_validator(mode="before")
    @classmethod
    def _today_name(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("name"), str):
            name = command_name(data["name"])
            if name != data["name"]:
                data = {**data, "name": name}
        return data


def takes_batched_acks(versions: dict[str, str]) -> bool:
    """True when a birth's ``versions`` says its agent reads ``result_ids`` in an ``ack``.

    >>> takes_batched_acks({"protocol": "1.1"}), takes_batched_acks({"roboclass": "0.3"})
    (True, False)
    """
    major, _, minor = versions.get("protocol", "1.0").partition(".")
    try:
        return (int(major), int(minor or 0)) >= (1, 1)
    except ValueError:
        return False


class Reassign(_Msg):
    """``down/reassign``, QoS 1: the robot's new name, as a new certificate for its own key.

    The certificate (PEM) comes from the room's CA, which only the console
    holds; the robot checks it against its CA and its key before it takes the
    new name (``fleet.enrol.robot.CredentialFolder.reassign``).
    """

    device: Id
    name: Id
    cert: Annotated[str, Field(max_length=8192)]
    ts: float
    expires: float


class EStop(_Msg):
    """``estop``, retained, QoS 1: the room's emergency stop."""

    active: bool
    epoch: int = Field(ge=0)
    by: Annotated[str, Field(max_length=128)]
    ts: float


class ConsoleState(_Msg):
    """``console/state``, retained; the console's last will says offline."""

    online: bool
    session: Id
    ts: float
    url: str | None = None
    kid: str | None = None


_MODELS: dict[str, type[BaseModel]] = {
    "state": DeviceState,
    "telemetry": Telemetry,
    "log": LogBatch,
    "preview": Preview,
    "status": JobStatus,
    "result": JobResult,
    "job": JobDocument,
    "cmd": Command,
    "reassign": Reassign,
    "estop": EStop,
    "console": ConsoleState,
    "teach": TeachEvent,
}


class DropCounter:
    """Thread-safe counts of dropped messages by reason (``malformed``, ``oversized``, ...)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def add(self, reason: str, topic: str = "") -> None:
        logger.debug("dropped a message on %s: %s", topic or "?", reason)
        with self._lock:
            self._counts[reason] += 1

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self._counts.values())

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)


def decode(  # noqa: PLR0911 - one return per reason to drop
    topics: Topics,
    topic: str,
    payload: bytes,
    counter: DropCounter,
    *,
    device: str | None = None,
) -> tuple[Parsed, BaseModel] | None:
    """Validate one received message; ``None`` means dropped (and counted).

    With ``device`` set (an agent), only that device's own topics, the e-stop
    and the console's state are accepted. The device (and job) named inside
    the payload must match the topic.
    """
    parsed = topics.parse(topic)
    if parsed is None:
        counter.add("unknown_topic", topic)
        return None
    if device is not None and parsed.device not in (None, device):
        counter.add("wrong_device", topic)
        return None
    limit = MAX_JOB_PAYLOAD if parsed.kind == "job" else MAX_PAYLOAD
    if len(payload) > limit:
        counter.add("oversized", topic)
        return None
    model = (
        TeachCommand if parsed.kind == "cmd" and parsed.name == "teach" else _MODELS[parsed.kind]
    )
    try:
        msg = model.model_validate_json(payload)
    except ValidationError as exc:
        version_error = any(e["loc"] == ("v",) for e in exc.errors())
        counter.add("schema_version" if version_error else "malformed", topic)
        return None
    except ValueError:  # anything pydantic did not wrap: still the sender's fault
        counter.add("malformed", topic)
        return None
    inner_device = getattr(msg, "device", None)
    # A job for another device is not dropped here: the agent rejects it with a reason.
    if parsed.device is not None and parsed.kind != "job" and inner_device != parsed.device:
        counter.add("wrong_device", topic)
        return None
    inner_job = getattr(msg, "job", None)
    if parsed.kind in {"status", "result", "job"} and inner_job != parsed.job:
        counter.add("wrong_job", topic)
        return None
    if parsed.kind == "cmd" and getattr(msg, "name", None) != command_name(parsed.name or ""):
        counter.add("malformed", topic)
        return None
    return parsed, msg


def encode(msg: BaseModel) -> bytes:
    """The JSON bytes of a message (without later-revision fields that are None)."""
    later: frozenset[str] = getattr(msg, "_later", frozenset())
    unused = {name for name in later if getattr(msg, name) is None}
    return msg.model_dump_json(exclude=unused or None).encode()


def now() -> float:
    """Wall-clock seconds (ids and expiry travel as Unix time)."""
    return time.time()
