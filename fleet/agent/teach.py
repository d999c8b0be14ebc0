"""Teach your robot from the browser: the robot's side (pictures stay on the robot).

The console sends :class:`~fleet.core.teach.TeachCommand` messages on the
robot's ``down/cmd/teach``; this part does them one after another on its own
thread (the agent's link never waits for a picture or a training) and answers
with :class:`~fleet.core.teach.TeachEvent` messages on ``up/teach``::

    part = TeachPart("robot-03", publish, store=TeachStore(state / "teach", models),
                     camera=agent_camera, busy=lambda: agent.current_job is not None)
    part.handle(command)       # from the link's thread: queued, answered by events
    part.close()

What it does: labels, pictures from the robot's own camera between jobs
(never while a job runs: the answer is ``busy: job``), training with
progress (:mod:`vision.teach`), the result with the mistaken pictures, "try
it" on the live camera, and deploy: the model goes into the robot's model
cache under the student's name, where ``Classifier(name)`` and lessons find
it, and its bytes go up to the console in pieces (:mod:`fleet.agent.teachwork`).
On the simulator a student holds up a card (:mod:`hardware.sim.card`) instead
of a real sign. Pictures are kept per pseudonymous student id
(:mod:`fleet.agent.teachstore`), never logged, and only thumbnails travel.
Asked ``held`` (the console does, at each birth), it lists the students it
keeps folders of, so that a class purged while it was off reaches it too.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fleet.agent import teachwork
from fleet.agent.preview import thumbnail
from fleet.agent.teachstore import TeachSession, TeachStore
from fleet.core.protocol import encode
from fleet.core.teach import MAX_HELD_PARTS, MAX_PICTURES, MAX_PURGE, TeachCommand, TeachEvent
from rcbase.closeable import Closeable
from rcbase.i18n import Text

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from fleet.agent.agent import Agent
    from hardware.sim.card import CardHolder
    from vision.teach.model import TrainedModel

    Frame = npt.NDArray[np.uint8]

__all__ = ["GALLERY", "TeachPart", "teach_part"]

logger = logging.getLogger(__name__)

#: The size of a gallery thumbnail (a capture's, or one sent on open).
GALLERY = (120, 90)
#: Seconds between the pictures of a burst (a real camera needs the sign to move a little).
BURST_GAP_S = 0.12
_QUEUE = 64

BUSY = {
    "job": Text(
        "your robot is running a program: wait until it ends, then take pictures",
        "你的机器人正在运行程序：等它结束后再拍照",
    ),
    "train": Text("the robot is still training: wait a moment", "机器人还在训练：请稍等"),
    "full": Text(
        "the robot is busy with many requests: wait a moment", "机器人正忙着处理很多请求：请稍等"
    ),
}


class TeachPart(Closeable):
    """A robot's teach sessions: one student's at a time, one command at a time."""

    def __init__(
        self,
        device: str,
        publish: Callable[[TeachEvent, int], object],
        *,
        store: TeachStore,
        camera: Callable[[], Callable[[], Frame] | None],
        busy: Callable[[], bool],
        cards: CardHolder | None = None,
        registry: Any = None,
    ) -> None:
        self.device = device
        self.store = store
        self.cards = cards
        self.registry = registry
        self._publish = publish
        self._camera = camera
        self._job_busy = busy
        self._seq = 0
        self._seq_lock = threading.Lock()
        self._read_lock = threading.Lock()
        self._queue: queue.Queue[TeachCommand | None] = queue.Queue(_QUEUE)
        self._session: TeachSession | None = None
        self._model: TrainedModel | None = None
        self.card: str | None = None
        self.doing: str | None = None
        self._try_stop = threading.Event()
        self._closing = threading.Event()
        self._try_thread: threading.Thread | None = None
        self._thread = threading.Thread(target=self._run, name=f"agent-{device}-teach", daemon=True)
        self._thread.start()

    # -- from the link's thread ----------------------------------------------

    def handle(self, cmd: TeachCommand) -> None:
        """Queue ``cmd`` (try_off acts at once); a full queue answers "busy"."""
        if self.closed:
            return
        if cmd.op == "try_off":
            self._try_stop.set()
            return
        try:
            self._queue.put_nowait(cmd)
        except queue.Full:
            self._error(cmd.student, BUSY["full"])

    def camera(self) -> Callable[[], Frame] | None:
        """How to read the camera between jobs (the card while one is held); for the preview too."""
        card, cards = self.card, self.cards
        if cards is not None and card is not None:
            return lambda: cards.read(card)
        read = self._camera()
        if read is None:
            return None

        def locked() -> Frame:
            with self._read_lock:  # the preview and a capture never read at once
                return read()

        return locked

    # -- events --------------------------------------------------------------

    def send(self, kind: str, student: str | None, *, qos: int = 0, **fields: Any) -> None:
        with self._seq_lock:
            self._seq += 1
            seq = self._seq
        event = TeachEvent(
            device=self.device, seq=seq, ts=time.time(), kind=kind, student=student, **fields
        )
        self._publish(event, qos)

    def job_running(self) -> bool:
        return self._job_busy()

    def _error(self, student: str | None, text: Text) -> None:
        self.send("error", student, en=text.en[:400], zh=text.zh[:400])

    def state_event(self, session: TeachSession | None = None) -> None:
        """Say the session's labels, pictures and what the robot is doing."""
        from vision.teach.model import MIN_PER_LABEL  # noqa: PLC0415

        s = session or self._session
        if s is None:
            return
        self.send(
            "state",
            s.student,
            busy="job" if self._job_busy() else self.doing,
            labels=s.labels(),
            cards=None if self.cards is None else list(self.cards.kinds),
            card=self.card,
            min_per_label=MIN_PER_LABEL,
            trained_on=None if self._model is None else self._model.report.trained_on,
        )

    # -- the thread ----------------------------------------------------------

    def _run(self) -> None:
        while True:
            cmd = self._queue.get()
            if cmd is None:
                return
            try:
                self._do(cmd)
            except Exception as exc:  # one bad command must not end the teach thread
                logger.exception("teach: %s failed", cmd.op)
                self._error(
                    cmd.student,
                    Text(
                        f"the robot failed: {type(exc).__name__}",
                        f"机器人出错：{type(exc).__name__}",
                    ),
                )
            finally:
                self.doing = None

    def _session_for(self, student: str) -> TeachSession:
        s = self._session
        if s is None or s.student != student:
            self._stop_try()
            self._drop_model()
            s = self._session = self.store.open(student)
        return s

    def _do(self, cmd: TeachCommand) -> None:  # noqa: PLR0912 - one branch per op
        if cmd.op == "purge":
            self._purge(cmd.students)
            return
        if cmd.op == "held":
            self._held()
            return
        if cmd.op == "card":
            self._set_card(cmd)
            return
        if cmd.student is None:
            return
        if cmd.op == "close":
            if self._session is not None and self._session.student == cmd.student:
                self._stop_try()
                self._drop_model()
                self._session, self.card = None, None
            return
        s = self._session_for(cmd.student)
        if cmd.op == "open":
            self.state_event(s)
            self._gallery(s)
        elif cmd.op == "label" and cmd.label is not None:
            if not s.add_label(cmd.label, en=cmd.en, zh=cmd.zh):
                self._error(s.student, teachwork.TOO_MANY_LABELS)
            self.state_event(s)
        elif cmd.op == "delete":
            if cmd.picture is not None:
                s.dataset.discard(f"{cmd.picture}.jpg")
            elif cmd.label is not None:
                s.remove_label(cmd.label)
            self.state_event(s)
        elif cmd.op == "capture" and cmd.label is not None:
            self._capture(s, cmd.label, cmd.count)
        elif cmd.op == "train":
            self._stop_try()
            self.doing = "train"
            self.state_event(s)
            model = teachwork.train_session(self, s)
            if model is not None:
                self._drop_model()
                self._model = model
            self.doing = None
            self.state_event(s)
        elif cmd.op == "try_on":
            self._start_try(s)
        elif cmd.op == "deploy" and cmd.model is not None:
            teachwork.deploy(self, s, self._model, cmd.model)
        elif cmd.op == "upload":  # the console trains now: this robot's last model is old
            self._stop_try()
            self._drop_model()
            teachwork.upload(self, s)
        elif cmd.op == "owns" and cmd.model is not None:
            s.deployed(cmd.model)

    # -- pictures ------------------------------------------------------------

    def _gallery(self, s: TeachSession) -> None:
        for file, _label in s.dataset.files():
            path = s.dataset.folder / file
            try:
                import cv2  # noqa: PLC0415

                frame: Any = cv2.imread(str(path), cv2.IMREAD_COLOR)
                if frame is None:
                    continue
                jpeg = teachwork.b64(thumbnail(frame, GALLERY)[0])
            except (OSError, ValueError):
                continue
            self.send("picture", s.student, picture=file.removesuffix(".jpg"), jpeg=jpeg)

    def _capture(self, s: TeachSession, label: str, count: int) -> None:
        names = s.names(label)
        if names is None:
            self._error(
                s.student,
                Text(f"no label {label!r}: add it first", f"没有标签 {label!r}：请先添加"),
            )
            return
        if self._job_busy():
            self._error(s.student, BUSY["job"])
            return
        if len(s.dataset) + count > MAX_PICTURES:
            self._error(
                s.student,
                Text(
                    f"at most {MAX_PICTURES} pictures: delete some first",
                    f"最多 {MAX_PICTURES} 张图片：请先删除一些",
                ),
            )
            return
        read = self.camera()
        if read is None:
            self._error(
                s.student,
                Text("this robot has no camera", "这台机器人没有摄像头"),
            )
            return
        self._stop_try()
        self.doing = "capture"
        for n in range(count):
            if self._closing.is_set():
                break
            if self._job_busy():
                self._error(s.student, BUSY["job"])
                break
            frame = read()
            path = s.dataset.add(label, frame, en=names["en"], zh=names["zh"])
            jpeg = teachwork.b64(thumbnail(frame, GALLERY)[0])
            self.send("picture", s.student, picture=f"{label}/{path.stem}", jpeg=jpeg)
            if n + 1 < count and self.cards is None:
                self._closing.wait(BURST_GAP_S)  # the camera's next frame: a new one
        self.doing = None
        self.state_event(s)

    def _set_card(self, cmd: TeachCommand) -> None:
        if self.cards is None:
            self._error(
                cmd.student, Text("only a simulated robot takes cards", "只有模拟机器人能举卡片")
            )
            return
        if cmd.card is not None and cmd.card not in self.cards.kinds:
            self._error(cmd.student, Text(f"no card {cmd.card!r}", f"没有卡片 {cmd.card!r}"))
            return
        self.card = cmd.card
        if self._session is not None and self._session.student == cmd.student:
            self.state_event()

    # -- try it --------------------------------------------------------------

    def _start_try(self, s: TeachSession) -> None:
        if self._job_busy():
            self._error(s.student, BUSY["job"])
            return
        self._stop_try()
        model: Any = self._model
        owned = model is None  # trained on the console: the model it put on this robot
        if owned:
            model = teachwork.owned_model(self, s)
        if model is None:
            return
        self._try_stop.clear()
        self.doing = "try"
        thread = threading.Thread(
            target=teachwork.try_loop,
            args=(self, s, model, self._try_stop, owned),
            name=f"agent-{self.device}-try",
            daemon=True,
        )
        self._try_thread = thread
        thread.start()

    def _stop_try(self) -> None:
        self._try_stop.set()
        thread, self._try_thread = self._try_thread, None
        if thread is not None:
            thread.join(timeout=10)

    def _drop_model(self) -> None:
        model, self._model = self._model, None
        if model is not None:
            model.close()

    # -- purge and closing ---------------------------------------------------

    def _purge(self, students: list[str]) -> None:
        s = self._session
        if s is not None and s.student in students:
            self._stop_try()
            self._drop_model()
            self._session, self.card = None, None
        self.store.purge(students)
        self.send("purged", None, qos=1, students=students)

    def _held(self) -> None:
        """Say which students this robot keeps teach folders of (the console, on its birth,
        answers ``purge`` for those it does not know: purged while this robot was off)."""
        students = self.store.students()[: MAX_HELD_PARTS * MAX_PURGE]
        pages = [students[n : n + MAX_PURGE] for n in range(0, len(students), MAX_PURGE)] or [[]]
        for n, page in enumerate(pages):
            self.send("held", None, qos=1, students=page, part=n, parts=len(pages))

    def _close(self) -> None:
        self._closing.set()
        self._try_stop.set()
        try:
            self._queue.put(None, timeout=5)
        except queue.Full:
            logger.warning("teach: the queue stayed full while closing")
        self._thread.join(timeout=30)
        self._stop_try()
        self._drop_model()


def teach_part(agent: Agent) -> TeachPart:
    """The agent's teach part: its folders, its camera, and cards on the simulator."""
    from models import device_cache  # noqa: PLC0415

    config = agent.config
    cards = None
    if config.backend == "sim":
        cards = _cards(agent)
    return TeachPart(
        agent.device,
        lambda event, qos: agent.link.publish(
            agent.topics.teach(agent.device), encode(event), qos=qos
        ),
        store=TeachStore(config.state_dir / "teach", device_cache(config.cache_dir)),
        camera=agent.robot_camera,
        busy=lambda: agent.worker.busy,
        cards=cards,
    )


def _cards(agent: Agent) -> CardHolder | None:
    """Cards to hold up in front of the simulated robot's camera, made like its camera."""
    from hardware.sim import CameraSpec  # noqa: PLC0415
    from hardware.sim.card import CardHolder  # noqa: PLC0415

    robot = agent.lease.usable()
    if robot is None:
        return None
    spec = next((p for p in robot.kit.parts.values() if p.kind == "camera"), None)
    if spec is None:
        return None
    c: Any = spec
    return CardHolder(
        CameraSpec(
            width=c.width,
            height=c.height,
            fov_deg=c.fov_deg,
            height_m=c.height_m,
            tilt_deg=c.tilt_deg,
            x=c.mount.x,
            y=c.mount.y,
            angle=c.mount.angle,
        )
    )
