"""The console's side of "Teach your robot": a relay between a student's page and their robot.

It sends :class:`~fleet.core.teach.TeachCommand` messages to the student's
own robot and keeps, in memory only, the newest of what the robot says back
for each student: the labels and pictures (thumbnails, <= 160x120 JPEG), the
training's progress and result, "try it", the deployed model. Nothing goes
to disk or into the database but the deployed model itself, which goes to
the console's bundle store and the model shelf (:func:`shelve`), so the
teacher can push it to other robots. The robot's side is :mod:`fleet.agent.teach`::

    relay = TeachRelay(console)
    relay.command("robot-03", "s-0123456789abcdef", "capture", label="stop", count=5)
    relay.offer(event)                      # from up/teach
    version, view = relay.view("s-0123456789abcdef")
    relay.purge(["s-0123456789abcdef"])     # every robot deletes the student's pictures
    relay.born(state)                       # from up/state: a robot back on says what it holds

A robot that was off during a purge never heard it. So when a robot comes
online (a new session, or back after its last will), the console asks it
which students it holds teach folders of (``held``), and answers ``purge``,
to that robot only, for every id this console does not know: purged while
the robot was off, or never a student here. It takes only the answer it
asked for, once, at most :data:`~fleet.core.teach.MAX_HELD_PARTS` events of
:data:`~fleet.core.teach.MAX_PURGE` ids.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fleet.console.teachtrain import ConsoleTrainer
from fleet.core.modelpush import MAX_MODEL_BYTES
from fleet.core.protocol import encode
from fleet.core.teach import (
    MAX_HELD_PARTS,
    MAX_PICTURES,
    MAX_PURGE,
    STUDENT_PATTERN,
    LabelInfo,
    TeachCommand,
    TeachEvent,
)
from models import sha256_of

if TYPE_CHECKING:
    from fleet.console.console import Console
    from fleet.console.store import StudentSession
    from fleet.core.protocol import DeviceState

__all__ = [
    "COMMAND_TTL_S",
    "HELD_WAIT_S",
    "Shelved",
    "TeachEvent",
    "TeachRelay",
    "camera_panel_allowed",
    "shelve",
]

logger = logging.getLogger(__name__)

#: A teach command the robot has not done within this long is dropped.
COMMAND_TTL_S = 30.0
#: Pictures a student may take a minute (a held button takes a burst every second).
CAPTURES_PER_MINUTE = 120
#: Models being received at once (a deploy sends its .onnx in pieces).
MAX_INCOMING = 4
#: How long a robot's ``held`` answer is awaited after its birth (it may be busy training).
HELD_WAIT_S = 300.0
#: Robots whose session the console remembers asking (more: the oldest are forgotten).
MAX_ASKED = 4096

_STUDENT = re.compile(STUDENT_PATTERN)


@dataclass
class _Memory:
    """What the console remembers of one student's session (memory only)."""

    device: str
    version: int = 0
    state: dict[str, Any] | None = None
    pictures: OrderedDict[str, bytes] = field(default_factory=OrderedDict)
    progress: dict[str, Any] | None = None
    result: dict[str, Any] | None = None
    tried: dict[str, Any] | None = None
    deployed: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    taken: deque[float] = field(default_factory=deque)
    #: Where the last training ran: "robot" or "console".
    where: str = "robot"


@dataclass
class _Ask:
    """A robot's session asked which students it holds: the answer's parts seen so far."""

    session: str
    until: float
    parts: int | None = None
    seen: set[int] = field(default_factory=set)


@dataclass
class Shelved:
    """A deployed model coming to the console: its manifest, then its pieces."""

    student: str
    name: str
    sha256: str
    size: int
    manifest: str
    parts: int
    pieces: dict[int, bytes] = field(default_factory=dict)


class TeachRelay:
    """Students' teach sessions as the console sees them; thread-safe."""

    def __init__(self, console: Console, clock: Any = time.time) -> None:
        self._console = console
        self._clock = clock
        self._lock = threading.Lock()
        self._students: dict[str, _Memory] = {}
        self._incoming: dict[tuple[str, str], Shelved] = {}
        self._asked: dict[str, _Ask] = {}
        self._seq = 0
        #: Training on the console, when a student picks it (fleet/console/teachtrain.py).
        self.trainer = ConsoleTrainer(console, self)

    # -- to the robot --------------------------------------------------------

    def command(self, device: str, student: str | None, op: str, **fields: Any) -> bool:
        """Send one teach command to ``device`` (for ``student``, whose session it becomes);
        False when the console is off the broker (it was not sent)."""
        if student is not None:
            with self._lock:
                memory = self._students.get(student)
                if memory is None or memory.device != device:
                    self._students[student] = _Memory(device)
        now = self._clock()
        cmd = TeachCommand(
            device=device, ts=now, expires=now + COMMAND_TTL_S, op=op, student=student, **fields
        )
        console = self._console
        return console.link.publish(console.topics.cmd(device, "teach"), encode(cmd))

    def may_capture(self, student: str, count: int) -> bool:
        """True (and counted) when ``count`` more pictures stay within the minute's limit."""
        now = self._clock()
        with self._lock:
            memory = self._students.get(student)
            if memory is None:
                return False
            while memory.taken and memory.taken[0] < now - 60:
                memory.taken.popleft()
            if len(memory.taken) + count > CAPTURES_PER_MINUTE:
                return False
            memory.taken.extend([now] * count)
            return True

    def train(self, device: str, student: str, where: str) -> None:
        """Train on the robot, or (``where="console"``) have its pictures sent up and train here."""
        if where == "console":
            self.trainer.start(student)  # before the robot's first picture can come
        with self._lock:
            memory = self._students.get(student)
            if memory is not None:  # a new model comes: the last one's result and name go
                memory.where, memory.result, memory.deployed = where, None, None
                memory.version += 1
        if where == "console":
            self.local(student, device, "progress", stage="read", done=0.0)
        self.command(device, student, "train" if where != "console" else "upload")

    def deploy(self, device: str, student: str, name: str) -> None:
        """Put the model on the robot: the robot saves its own, or the console pushes its."""
        with self._lock:
            memory = self._students.get(student)
            here = memory is not None and memory.where == "console"
            if memory is not None:
                memory.deployed = None
                memory.version += 1
        if here and self.trainer.has_model(student):
            self.trainer.deploy_later(student, device, name)
        else:
            self.command(device, student, "deploy", model=name)

    def local(self, student: str, device: str, kind: str, **fields: Any) -> None:
        """What the console's own training says, kept as if the robot had said it."""
        event = TeachEvent(
            device=device, seq=0, ts=self._clock(), kind=kind, student=student, **fields
        )
        with self._lock:
            memory = self._students.get(student)
            if memory is None or memory.device != device:
                return
            self._remember(memory, event)
            memory.version += 1

    def purge(self, students: list[str]) -> None:
        """Every robot of the room deletes these students' pictures and models; forgotten here."""
        with self._lock:
            for student in students:
                self._students.pop(student, None)
        self.trainer.purge(students)  # pictures copied to the console for training
        for device in self._console.db.devices.ids():
            sent = [
                self.command(device, None, "purge", students=students[first : first + MAX_PURGE])
                for first in range(0, len(students), MAX_PURGE)
            ]
            if not all(sent):  # the console was off the broker: this robot's birth, retained,
                self._unask(device)  # comes again when it is back, and the robot is asked then

    def born(self, state: DeviceState) -> None:
        """A robot's birth or last will: a robot that comes online is asked, once a session,
        which students it holds teach folders of (the answer: :meth:`_held`)."""
        device = state.device
        with self._lock:
            ask = self._asked.pop(device, None)
            if not state.online:  # back after this: asked again, even in the same session
                return
            if ask is not None and ask.session == state.session:
                self._asked[device] = ask  # a later state of the same session: asked already
                return
            while len(self._asked) >= MAX_ASKED:
                self._asked.pop(next(iter(self._asked)))
            self._asked[device] = _Ask(state.session, self._clock() + HELD_WAIT_S)
        if not self.command(device, None, "held"):
            self._unask(device)  # not sent: asked at the next birth the console hears

    def _unask(self, device: str) -> None:
        with self._lock:
            self._asked.pop(device, None)

    # -- from the robot ------------------------------------------------------

    def offer(self, event: TeachEvent) -> bool:
        """Keep what ``event`` says; False (dropped) when it is not from the student's robot."""
        if event.kind == "held":
            return self._held(event)
        if event.kind == "purged":
            logger.info(
                "%s deleted the teach pictures of %d students",
                event.device,
                len(event.students or []),
            )
            return True
        student = event.student
        names: dict[str, tuple[str, str]] = {}
        with self._lock:
            memory = self._students.get(student or "")
            if student is None or memory is None or memory.device != event.device:
                return False
            if event.kind == "upload":
                done = None
                names = {x.id: (x.en, x.zh) for x in self._labels(memory)}
            elif event.kind == "chunk":
                done = self._piece(event)
            else:
                done = None
                self._remember(memory, event)
            memory.version += 1
        if event.kind == "upload":
            self.trainer.receive(event, names)
        if done is not None:
            shelve(self._console, done)
        return True

    def _held(self, event: TeachEvent) -> bool:
        """A robot's answer to :meth:`born`: it purges every student it holds whom this console
        does not know. False (refused) when not asked, asked already, too big, or a bad id."""
        said = event.students or []
        if len(said) > MAX_PURGE or not all(_STUDENT.match(s) for s in said):
            return False
        students, part, parts = list(dict.fromkeys(said)), event.part, event.parts
        with self._lock:
            ask = self._asked.get(event.device)
            if (
                ask is None
                or self._clock() > ask.until
                or part is None
                or parts is None
                or not 0 <= part < parts <= MAX_HELD_PARTS
                or ask.parts not in (None, parts)
                or part in ask.seen
            ):
                return False
            ask.parts = parts
            ask.seen.add(part)
            if len(ask.seen) == parts:
                ask.until = 0.0  # the whole answer came: nothing more until its next birth
        known = self._console.db.rosters.known(students) if students else set()
        gone = [s for s in students if s not in known]
        if gone:
            logger.info(
                "%s holds the teach pictures of %d students this console does not know: purging",
                event.device,
                len(gone),
            )
            self.command(event.device, None, "purge", students=gone)
        return True

    @staticmethod
    def _labels(memory: _Memory) -> list[LabelInfo]:
        state = memory.state or {}
        return [LabelInfo.model_validate(x) for x in state.get("labels") or []]

    def _remember(self, memory: _Memory, event: TeachEvent) -> None:
        kind = event.kind
        data = event.model_dump(exclude_none=True, exclude={"v", "device", "student", "jpeg"})
        if kind == "picture" and event.picture and event.jpeg:
            try:
                memory.pictures[event.picture] = base64.b64decode(event.jpeg, validate=True)
            except (binascii.Error, ValueError):
                return
            while len(memory.pictures) > MAX_PICTURES:
                memory.pictures.popitem(last=False)
        elif kind == "state":
            memory.state = data
            kept = {p for x in event.labels or [] for p in x.pictures}
            for gone in [p for p in memory.pictures if p not in kept]:
                del memory.pictures[gone]
            if event.busy != "try":
                memory.tried = None
        elif kind == "progress":
            memory.progress = data
        elif kind == "result":
            memory.result, memory.progress = data, None
        elif kind == "try":
            memory.tried = {**data, "jpeg": event.jpeg}
        elif kind == "deployed":
            memory.deployed = {k: v for k, v in data.items() if k != "manifest"}
            memory.progress = None
            self._expect(event)
        elif kind == "error":
            self._seq += 1
            memory.error = {**data, "n": self._seq}

    def _expect(self, event: TeachEvent) -> None:
        if not (event.model and event.sha256 and event.size and event.manifest and event.parts):
            return
        if event.size > MAX_MODEL_BYTES:
            return
        while len(self._incoming) >= MAX_INCOMING:
            self._incoming.pop(next(iter(self._incoming)))
        self._incoming[(event.device, event.sha256)] = Shelved(
            event.student or "", event.model, event.sha256, event.size, event.manifest, event.parts
        )

    def _piece(self, event: TeachEvent) -> Shelved | None:
        key = (event.device, event.sha256 or "")
        incoming = self._incoming.get(key)
        if incoming is None or event.part is None or event.data is None:
            return None
        if event.part >= incoming.parts or event.parts != incoming.parts:
            return None
        try:
            incoming.pieces[event.part] = base64.b64decode(event.data, validate=True)
        except (binascii.Error, ValueError):
            return None
        if sum(len(p) for p in incoming.pieces.values()) > incoming.size:
            del self._incoming[key]
            return None
        if len(incoming.pieces) < incoming.parts:
            return None
        del self._incoming[key]
        return incoming

    # -- to the page ---------------------------------------------------------

    def view(self, student: str) -> tuple[int, dict[str, Any]] | None:
        """(version, what the page shows) of ``student``'s session; None before it opened."""
        with self._lock:
            memory = self._students.get(student)
            if memory is None:
                return None
            return memory.version, {
                "device": memory.device,
                "state": memory.state,
                "pictures": list(memory.pictures),
                "progress": memory.progress,
                "result": memory.result,
                "try": memory.tried,
                "deployed": memory.deployed,
                "error": memory.error,
            }

    def thumbnail(self, student: str, picture: str) -> bytes | None:
        with self._lock:
            memory = self._students.get(student)
            return None if memory is None else memory.pictures.get(picture)

    def forget(self, student: str) -> None:
        with self._lock:
            self._students.pop(student, None)


def shelve(console: Console, model: Shelved) -> bool:
    """A deployed model, all its pieces come: checked, into the bundle store and the shelf.

    The shelf (``console.db.models``) lists it for the teacher's push button.
    """
    data = b"".join(model.pieces[n] for n in range(model.parts))
    if len(data) != model.size or sha256_of(data) != model.sha256:
        logger.warning("the model %s came with the wrong sha256 or size: dropped", model.name)
        return False
    sha = console.bundles.put(data)
    console.db.models.add(model.name, sha, len(data), model.manifest, model.student or None)
    logger.info("model %s (%s) is on the console's shelf", model.name, sha[:12])
    return True


def camera_panel_allowed(console: Console, student: StudentSession) -> bool:
    """May this student's page show the camera and the teach panel (the class's switch)?"""
    return student.camera_panel
