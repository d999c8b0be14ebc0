"""The device agent: one per robot, between the robot and the teacher's console.

::

    from fleet.agent.agent import Agent, AgentConfig

    config = AgentConfig(device="robot-07", host="192.168.1.10", port=1883,
                         state_dir=Path("~/.local/share/roboclass/agent"),
                         trusted_keys={kid: public_key})
    with Agent(config, robot=Robot()) as agent:
        agent.wait_closed()

What it does (docs/fleet-protocol.md has the details): a retained birth on
``up/state`` and a last will that says offline with the session id;
telemetry at <= 5 Hz; signed jobs verified (signature, target device,
expiry), else REJECTED with the reason; bundles by sha256 (inline or over
HTTP into a cache); models the console pushes, installed into the device
cache (:mod:`fleet.core.modelpush`); status transitions; results into an
on-disk outbox that is re-sent until the console acks; identify / cancel /
preflight commands;
a live camera preview while the teacher asks for one (:mod:`fleet.agent.preview`);
the retained e-stop, which stops the running job and the robot at once and
holds until a clear with a newer epoch. A job also stops when the broker has
been gone longer than the job allows.
"""

from __future__ import annotations

import functools
import importlib.metadata
import json
import logging
import platform
import queue
import secrets
import ssl
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from fleet.agent.outbox import Outbox
from fleet.agent.preview import PreviewSender
from fleet.core.bundles import BundleCache
from fleet.core.errors import JobError, JobRejected
from fleet.core.limits import TokenBucket
from fleet.core.link import Link
from fleet.core.protocol import (
    MAX_PAYLOAD,
    PROTOCOL_REVISION,
    Command,
    ConsoleState,
    DeviceState,
    DropCounter,
    EStop,
    JobDocument,
    JobResult,
    JobStatus,
    LogBatch,
    LogLine,
    Preview,
    Reassign,
    Status,
    Telemetry,
    Topics,
    decode,
    encode,
)
from fleet.core.signing import verify_job

if TYPE_CHECKING:
    from hardware import Robot

__all__ = ["Agent", "AgentConfig", "JobContext", "JobRunner", "lessons_runner"]

logger = logging.getLogger(__name__)

MAX_TELEMETRY_HZ = 5.0
LOG_BATCH_S = 0.25
#: A job's output on up/log: characters a second on average, and at once. Lines beyond
#: that are counted and said ("... N lines not sent"); the result keeps the output's tail.
LOG_CHARS_PER_S = 4000
LOG_CHARS_BURST = 32_000
#: Lesson result status -> final job status.
RESULT_STATUS = {
    "passed": Status.SUCCEEDED,
    "failed": Status.SUCCEEDED,  # graded: the student did not pass, the job did its work
    "error": Status.FAILED,
    "timeout": Status.TIMED_OUT,
    "stopped": Status.CANCELED,
}


@functools.cache
def _version() -> str:
    """This package's version (read once: a metadata lookup scans sys.path)."""
    try:
        return importlib.metadata.version("roboclass")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


@dataclass
class JobContext:
    """What a job runner gets: the verified job, its bundle, the robot and a stop event."""

    job: JobDocument
    bundle: Path
    stop: threading.Event
    on_line: Callable[[str, str], None]
    robot: Robot | None
    backend: str
    kit: str | None
    #: Called with each camera frame the student's program reads (the live preview's tap).
    on_frame: Callable[[Any], None] | None = None
    #: The robot's cache folder (its ``models/`` holds models the console sent); None: default.
    cache_dir: Path | None = None


#: Runs one job and returns a lesson result (``LessonResult.as_dict()`` shape).
JobRunner = Callable[[JobContext], dict[str, Any]]


def lessons_runner(ctx: JobContext) -> dict[str, Any]:
    """Run the job's lesson bundle with :func:`lessons.run_lesson` (in its own child process).

    The student's code (``job.code``) replaces the lesson's starter; the
    runner opens its own robot on ``ctx.backend`` and ends it stopped when
    ``ctx.stop`` is set. On a real robot the agent closes its own robot for
    the job first (``opens_robot``): pins and a serial port open only once.
    """
    from lessons import ModelMissingError, run_lesson, unpack_bundle  # noqa: PLC0415 - only for a job

    with tempfile.TemporaryDirectory(prefix="roboclass-job-") as tmp:
        lesson_dir = unpack_bundle(ctx.bundle, Path(tmp) / "lesson")  # sha256 checked on fetch
        code: Path | None = None
        if ctx.job.code is not None:
            code = Path(tmp) / "student.py"
            code.write_text(ctx.job.code, encoding="utf-8")
        try:
            result = run_lesson(
                lesson_dir,
                code=code,
                backend=ctx.backend,
                kit=ctx.kit,
                time_limit=ctx.job.time_limit_s,
                on_line=ctx.on_line,
                stop=ctx.stop,
                on_frame=ctx.on_frame,
                cache_dir=ctx.cache_dir,
            )
        except ModelMissingError as exc:  # nothing started: tell the student what to do
            return {"status": "error", "reason": f"{exc.message.en} / {exc.message.zh}"}
        out: dict[str, Any] = result.as_dict()
        return out


#: A runner that opens the robot's kit itself sets this: the agent lends it the hardware.
lessons_runner.opens_robot = True  # type: ignore[attr-defined]


def _size(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False).encode())


def _fit(result: dict[str, Any]) -> dict[str, Any]:
    """Trim a result's output (its tail is kept) so the message fits the size limit."""
    room = MAX_PAYLOAD - 4096
    if _size(result) <= room:
        return result
    trimmed = {**result, "output": "", "truncated": True}
    left = room - _size(trimmed)
    output = result.get("output")
    if left > 0 and isinstance(output, str):
        tail = output[-(left // 4) :]  # up to 4 bytes per character once escaped
        trimmed["output"] = tail
        return trimmed
    if left > 0:
        return trimmed
    keep = ("lesson", "status", "score", "run_status", "seconds", "error", "reason")
    return {k: result[k] for k in keep if k in result} | {"truncated": True}


@dataclass
class AgentConfig:
    device: str
    host: str
    port: int
    state_dir: Path
    trusted_keys: dict[str, Ed25519PublicKey]
    site: str = "school"
    room: str = "room1"
    console_url: str | None = None
    backend: str = "sim"
    kit: str | None = None
    telemetry_hz: float = 1.0
    resend_s: float = 2.0
    keepalive: int = 10
    runner: JobRunner = field(default=lessons_runner)
    #: A classroom broker's TLS (``fleet.broker.config.Credentials.tls_context()``); None: plain.
    tls: ssl.SSLContext | None = None
    #: Takes a new name from the console (enrolment's credential folder checks and
    #: writes it); True when taken: the agent then ends (``reassigned``) to start again.
    on_reassign: Callable[[Reassign], bool] | None = None
    #: The robot's cache folder: models the console sends go to its ``models/`` (the
    #: registry's device cache), and lessons see it. None: ``ROBOCLASS_CACHE_DIR`` or XDG.
    cache_dir: Path | None = None
    #: Opens the robot again after a job that opened the kit itself (a runner with
    #: ``opens_robot``, on a real robot: the agent closed its own robot for the job,
    #: since GPIO pins and a serial port open only once). None: no robot after such a job.
    open_robot: Callable[[], Robot] | None = None
    #: Forgets this room's credentials when the console releases the robot (it is moving
    #: to another room); True when done: the agent then ends (``released``). None: ignored.
    on_release: Callable[[], bool] | None = None


@dataclass
class _Running:
    job: JobDocument
    stop: threading.Event
    reason: str | None = None
    status: Status | None = None


class Agent:
    """A robot's connection to the console. Start it, then close it (idempotent)."""

    def __init__(self, config: AgentConfig, robot: Robot | None = None) -> None:
        if config.telemetry_hz > MAX_TELEMETRY_HZ:
            raise ValueError(f"telemetry_hz must be <= {MAX_TELEMETRY_HZ}")
        self.config = config
        self.device = config.device
        self.robot = robot
        self._reopened = False  # the robot is one the agent opened again after a job
        self.topics = Topics(config.site, config.room)
        self.session = secrets.token_hex(6)
        self.drops = DropCounter()
        self.outbox = Outbox(config.state_dir / "agent.sqlite")
        self.cache = BundleCache(config.state_dir / "bundles")
        self._lock = threading.RLock()
        self._wake = threading.Condition(self._lock)
        self._queue: queue.Queue[JobDocument | None] = queue.Queue()
        self._queued: set[str] = set()
        self._running: _Running | None = None
        self._stop = threading.Event()
        #: Set when the console gave this robot a new name: the caller starts a new agent.
        self.reassigned = threading.Event()
        self.released = threading.Event()
        self._resend = threading.Event()
        #: result id -> when it was last published on the current connection
        self._sent: dict[str, float] = {}
        self._log_lines: list[LogLine] = []
        self._log_bucket = TokenBucket(LOG_CHARS_PER_S, LOG_CHARS_BURST)
        self._log_skipped = 0
        self._log_job: str | None = None
        self._console_url = config.console_url
        self._preflight: dict[str, int] | None = None
        self._offline_since: float | None = None
        self._closed = False
        self.estop_at: float | None = None
        self._epoch, self._estopped = self._load_estop()
        if self._estopped and robot is not None:
            robot.estop()
        state_offline = DeviceState(
            device=self.device, session=self.session, online=False, ts=time.time()
        )
        self.link = Link(
            config.host,
            config.port,
            client_id=f"rc-{self.device}-{self.session}"[:64],
            subscriptions=self.topics.device_subscriptions(self.device),
            on_message=self._on_message,
            on_connect=self._on_connect,
            on_disconnect=self._on_disconnect,
            will=(self.topics.state(self.device), encode(state_offline), True),
            keepalive=config.keepalive,
            tls=config.tls,
        )
        self._recover()  # after the link exists: it publishes (or, offline, skips) statuses
        self.preview = PreviewSender(
            self.device,
            self._send_preview,
            camera=self._preview_camera,
            busy=lambda: self._running is not None,
        )
        self._threads = [
            threading.Thread(target=self._work, name=f"agent-{self.device}-jobs", daemon=True),
            threading.Thread(target=self._tick, name=f"agent-{self.device}-tick", daemon=True),
        ]

    # -- lifecycle -----------------------------------------------------------

    def start(self) -> Self:
        for t in self._threads:
            t.start()
        self.link.start()
        return self

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self, *, crash: bool = False) -> None:
        """Stop the job (the robot ends stopped), say offline, join threads. Idempotent.

        ``crash=True`` drops the connection without a clean goodbye (the broker
        sends the last will), as a killed agent would; used by fault tests.
        """
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        with self._lock:
            if self._running is not None:
                self._running.reason = "the agent stopped"
                self._running.status = Status.FAILED
                self._running.stop.set()
            self._wake.notify_all()
        self._queue.put(None)
        if not crash and self.link.connected:
            offline = DeviceState(
                device=self.device, session=self.session, online=False, ts=time.time()
            )
            self.link.publish(self.topics.state(self.device), encode(offline), retain=True)
        self.preview.close()
        for t in self._threads:
            if t.is_alive():
                t.join(timeout=10)
        self.link.close(send_will=crash)
        self.outbox.close()
        robot = self.robot
        if self._reopened and robot is not None:
            robot.close()  # opened by the agent after a job: the agent's to close

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- what others may read ------------------------------------------------

    @property
    def estopped(self) -> bool:
        return self._estopped

    @property
    def epoch(self) -> int:
        return self._epoch

    @property
    def current_job(self) -> str | None:
        running = self._running
        return None if running is None else running.job.job

    def job_status(self, job: str) -> str | None:
        found = self.outbox.job_status(job)
        return None if found is None else found[0]

    # -- start-up ------------------------------------------------------------

    def _load_estop(self) -> tuple[int, bool]:
        saved = self.outbox.get_meta("estop")
        if saved is None:
            return 0, False
        epoch, active = saved.split(":")
        return int(epoch), active == "1"

    def _recover(self) -> None:
        """Jobs a previous run left behind end in a clear state now."""
        for job in self.outbox.jobs_in({Status.IN_PROGRESS.value}):
            logger.warning("job %s was running when the agent stopped: FAILED", job)
            self._finish(
                job,
                Status.FAILED,
                {"status": "error", "reason": "the agent restarted during the run"},
                "the agent restarted during the run",
            )
        for job in self.outbox.jobs_in({Status.QUEUED.value}):
            self.outbox.set_job(job, "FORGOTTEN")  # the console re-sends it on our birth

    # -- MQTT ----------------------------------------------------------------

    def _state(self) -> DeviceState:
        robot = self.robot
        battery = None
        if robot is not None and not robot.closed and "battery" in robot.parts:
            battery = float(robot.parts["battery"].voltage)  # type: ignore[attr-defined]
        return DeviceState(
            device=self.device,
            session=self.session,
            online=True,
            ts=time.time(),
            kit=None if robot is None else robot.kit.name,
            backend=self.config.backend,
            versions={
                "roboclass": _version(),
                "python": platform.python_version(),
                "protocol": PROTOCOL_REVISION,
            },
            battery=battery,
            preflight=self._preflight,
            job=self.current_job,
            estopped=self._estopped,
        )

    def publish_state(self) -> None:
        self.link.publish(self.topics.state(self.device), encode(self._state()), retain=True)

    def _on_connect(self) -> None:
        with self._lock:
            self._offline_since = None
            self._sent.clear()  # a new connection: every unacked result goes again
        self.publish_state()
        self._resend.set()

    def _on_disconnect(self) -> None:
        with self._lock:
            self._offline_since = time.monotonic()

    def _on_message(self, topic: str, payload: bytes) -> None:
        decoded = decode(self.topics, topic, payload, self.drops, device=self.device)
        if decoded is None:
            return
        _parsed, msg = decoded
        if isinstance(msg, EStop):
            self._on_estop(msg)
        elif isinstance(msg, JobDocument):
            self._on_job(msg)
        elif isinstance(msg, Command):
            self._on_command(msg)
        elif isinstance(msg, Reassign):
            self._on_reassign(msg)
        elif isinstance(msg, ConsoleState) and msg.online and msg.url:
            self._console_url = msg.url

    def _on_estop(self, msg: EStop) -> None:
        with self._lock:
            stale = msg.epoch < self._epoch or (msg.epoch == self._epoch and not msg.active)
            if stale:
                if msg.epoch < self._epoch:
                    self.drops.add("stale_estop")
                return
            self._epoch = msg.epoch
            newly = msg.active and not self._estopped
            if msg.active:
                if self.robot is not None and not self.robot.closed:
                    self.robot.estop()
                running = self._running
                if running is not None and not running.stop.is_set():
                    running.reason = f"emergency stop by {msg.by}"
                    running.status = Status.CANCELED
                    running.stop.set()
                self._estopped = True
                if newly:
                    self.estop_at = time.monotonic()
            else:
                self._estopped = False
                if self.robot is not None and not self.robot.closed:
                    self.robot.release()
                self._wake.notify_all()
            self.outbox.set_meta("estop", f"{self._epoch}:{int(self._estopped)}")
        # said after the lock: a log handler's own lock is no reason to hold up the others
        if newly:
            logger.warning("e-stop (epoch %d) by %s", msg.epoch, msg.by)
        elif not msg.active:
            logger.info("e-stop released (epoch %d)", msg.epoch)
        self.publish_state()

    def _publish_status(self, job: str, status: Status, reason: str | None = None) -> None:
        reason = None if reason is None else reason[:500]  # JobStatus's limit
        self.outbox.set_job(job, status.value, reason)
        msg = JobStatus(device=self.device, job=job, status=status, reason=reason, ts=time.time())
        self.link.publish(self.topics.status(self.device, job), encode(msg))

    def _on_job(self, doc: JobDocument) -> None:
        known = self.outbox.job_status(doc.job)
        if known is not None and known[0] != "FORGOTTEN":
            # Re-sent by the console: say where it is, never run it twice.
            self._publish_status(doc.job, Status(known[0]), known[1])
            self._resend.set()
            return
        reason = verify_job(doc, self.config.trusted_keys, device=self.device)
        if reason is not None:
            logger.warning("job %s rejected: %s", doc.job, reason)
            self._publish_status(doc.job, Status.REJECTED, reason)
            return
        with self._lock:
            self._queued.add(doc.job)
        self._publish_status(doc.job, Status.QUEUED)
        self._queue.put(doc)

    def _on_reassign(self, msg: Reassign) -> None:
        hook = self.config.on_reassign
        if msg.expires < time.time() or hook is None:
            self.drops.add("expired" if hook is not None else "unexpected")
            return
        if hook(msg):
            logger.warning("renamed %s -> %s: starting again", self.device, msg.name)
            self.reassigned.set()

    def _on_release(self) -> None:
        hook = self.config.on_release
        if hook is None:
            self.drops.add("unexpected")
            return
        with self._lock:
            running = self._running
            if running is not None and not running.stop.is_set():
                running.reason = "the robot is moving to another room"
                running.status = Status.CANCELED
                running.stop.set()
        if hook():
            with self._lock:
                # the next room counts its own e-stop epochs: a stale one from here
                # would make the robot ignore that room's e-stops
                self.outbox.forget_room()
                self._epoch, self._estopped = 0, False
            logger.warning("released by the console: %s forgets this room", self.device)
            self.released.set()

    def _on_command(self, cmd: Command) -> None:
        if cmd.expires < time.time():
            self.drops.add("expired")
            return
        if cmd.name == "ack" and (cmd.result_id is not None or cmd.result_ids):
            acked = [cmd.result_id] if cmd.result_id is not None else []
            acked += cmd.result_ids or []
            self.outbox.ack(*acked)
            with self._lock:
                for result_id in acked:
                    self._sent.pop(result_id, None)
        elif cmd.name == "cancel" and cmd.job is not None:
            self._cancel(cmd.job)
        elif cmd.name == "identify":
            threading.Thread(target=self._identify, name="agent-identify", daemon=True).start()
        elif cmd.name == "preflight":
            threading.Thread(
                target=self._run_preflight, name="agent-preflight", daemon=True
            ).start()
        elif cmd.name == "release":
            self._on_release()
        elif cmd.name == "preview_on" and not self._closed:
            self.preview.start()
        elif cmd.name == "preview_off":
            self.preview.stop()

    # -- a real robot lent to a job that opens the kit itself ----------------------

    def _lend_robot(self) -> bool:
        """Close this agent's real robot for a job whose runner opens the kit (True if so).

        While it is lent, e-stop reaches the robot through the job's stop event.
        """
        if not getattr(self.config.runner, "opens_robot", False) or self.config.backend == "sim":
            return False
        with self._lock:
            robot = self.robot
            if robot is None or robot.closed:
                return False
            robot.close()  # stops it and frees its pins and port
        logger.info("robot lent to the job (closed here until it ends)")
        return True

    def _take_back_robot(self) -> None:
        """Open the robot again after a job it was lent to (stopped, latched if e-stopped)."""
        opener = self.config.open_robot
        if opener is None:
            logger.warning("no way to open the robot again after the job: running without it")
            self.robot = None
            return
        try:
            robot = opener()
        except Exception:  # the job may have left the hardware unusable: say so, go on
            logger.exception("could not open the robot again after the job")
            self.robot = None
            return
        with self._lock:
            self.robot = robot
            self._reopened = True
            if self._estopped:
                robot.estop()

    # -- live preview (fleet/agent/preview.py): never stored, never a second camera reader --

    def _preview_camera(self) -> Callable[[], Any] | None:
        """How to read this robot's own camera between jobs; None without one."""
        robot = self.robot
        if robot is None or robot.closed:
            return None
        for name, spec in robot.kit.parts.items():
            if spec.kind == "camera":
                return robot.parts[name].read  # type: ignore[attr-defined, no-any-return]
        return None

    def _send_preview(self, msg: Preview) -> None:
        self.link.publish(self.topics.preview(self.device), encode(msg), qos=0)

    def _cancel(self, job: str) -> None:
        with self._lock:
            running = self._running
            if running is not None and running.job.job == job:
                running.reason = "canceled by the teacher"
                running.status = Status.CANCELED
                running.stop.set()
                return
            if job in self._queued:
                self._queued.discard(job)
                queued = True
            else:
                queued = False
        if queued:
            self._finish(job, Status.CANCELED, {"status": "stopped"}, "canceled by the teacher")

    def _identify(self) -> None:
        robot = self.robot
        if robot is None or robot.closed:
            return
        led, buzzer = robot.parts.get("led"), robot.parts.get("buzzer")
        for i in range(6):
            if self._stop.is_set() or robot.closed:
                return
            on = i % 2 == 0
            if led is not None:
                led.on() if on else led.off()  # type: ignore[attr-defined]
            if buzzer is not None and not self._estopped:
                buzzer.beep() if on else buzzer.stop()  # type: ignore[attr-defined]
            self._stop.wait(0.2)

    def _run_preflight(self) -> None:
        robot = self.robot
        if robot is None or robot.closed or self._running is not None or self._estopped:
            return
        from hardware.preflight import run_preflight  # noqa: PLC0415

        checks = run_preflight(robot)
        summary = {"ok": 0, "warn": 0, "fail": 0}
        for c in checks:
            summary[c.status] += 1
        self._preflight = summary
        lines = [
            LogLine(stream="agent", line=f"preflight {c.part}: {c.status} {c.detail('en')}")
            for c in checks
        ]
        self._send_log(None, lines)
        self.publish_state()

    # -- jobs ----------------------------------------------------------------

    def _work(self) -> None:
        while not self._stop.is_set():
            doc = self._queue.get()
            if doc is None:
                return
            with self._lock:
                if doc.job not in self._queued:
                    continue  # canceled while queued
                # installing a model never moves the robot: only lessons wait for a release
                while self._estopped and doc.lesson is not None and not self._stop.is_set():
                    self._wake.wait(1.0)
                if self._stop.is_set():
                    return
                self._queued.discard(doc.job)
                running = _Running(doc, threading.Event())
                self._running = running
            try:
                self._run(running)
            finally:
                with self._lock:
                    self._running = None
                self.publish_state()

    def _refuse(self, doc: JobDocument, exc: JobError) -> None:
        """A job whose bundle or model failed: REJECTED when it failed a check, else FAILED."""
        if isinstance(exc, JobRejected):
            self._finish(doc.job, Status.REJECTED, None, str(exc))
        else:
            result = None if doc.lesson is None else {"status": "error", "reason": str(exc)}
            self._finish(doc.job, Status.FAILED, result, str(exc))

    def _install_model(self, doc: JobDocument) -> None:
        """Install the model a job names into the device cache (:mod:`fleet.core.modelpush`)."""
        from fleet.core.modelpush import install_model  # noqa: PLC0415 - only when a model comes
        from models import device_cache  # noqa: PLC0415

        try:
            entry = install_model(
                doc, self.cache, self._console_url, device_cache(self.config.cache_dir)
            )
        except JobError as exc:
            logger.warning("model job %s refused: %s", doc.job, exc)
            self._refuse(doc, exc)
            return
        line = f"model {entry.name} installed ({entry.manifest.sha256[:12]}): {entry.model_path}"
        self._send_log(doc.job, [LogLine(stream="agent", line=line)])
        self._finish(doc.job, Status.SUCCEEDED, None, None)

    def _run(self, running: _Running) -> None:
        doc = running.job
        if doc.lesson is None:  # a model to install, not a lesson to run
            self._install_model(doc)
            return
        try:
            bundle = self.cache.fetch(doc.lesson, self._console_url)
        except JobError as exc:
            self._refuse(doc, exc)
            return
        if doc.expires < time.time():
            self._finish(doc.job, Status.REJECTED, None, "job expired before it could start")
            return
        self._publish_status(doc.job, Status.IN_PROGRESS)
        self.publish_state()
        lent = self._lend_robot()
        ctx = JobContext(
            job=doc,
            bundle=bundle,
            stop=running.stop,
            on_line=lambda stream, line: self._line(doc.job, stream, line),
            robot=None if lent else self.robot,
            backend=self.config.backend,
            kit=self.config.kit,
            on_frame=self.preview.tap,
            cache_dir=self.config.cache_dir,
        )
        try:
            result = self.config.runner(ctx)
        except Exception as exc:  # a broken lesson must end as FAILED, not kill the agent
            logger.exception("job %s failed", doc.job)
            result = {"status": "error", "reason": f"{type(exc).__name__}: {exc}"}
        finally:
            if lent:
                self._take_back_robot()
            elif self.robot is not None and not self.robot.closed:
                self.robot.stop()
            self._flush_log()
        if running.status is not None:
            result = {
                **result,
                "status": "stopped" if running.status is Status.CANCELED else "error",
                "reason": running.reason,
            }
            self._finish(doc.job, running.status, result, running.reason)
            return
        status = RESULT_STATUS.get(str(result.get("status")), Status.FAILED)
        reason = (
            None
            if status is Status.SUCCEEDED
            else str(result.get("reason") or result.get("status"))
        )
        self._finish(doc.job, status, result, reason)

    def _finish(
        self, job: str, status: Status, result: dict[str, Any] | None, reason: str | None
    ) -> None:
        """Final status; the result (if any) goes into the outbox first."""
        if result is not None:
            if reason is not None and not result.get("reason"):
                # The result carries the reason: after a time offline it may reach
                # the console without the status message that also said it.
                result = {**result, "reason": reason}
            result = _fit(result)
            msg = JobResult(
                device=self.device,
                job=job,
                result_id=secrets.token_hex(16),
                status=status,
                result=result,
                ts=time.time(),
            )
            topic = self.topics.result(self.device, job)
            self.outbox.put(msg.result_id, job, topic, encode(msg), status.value, reason)
        self._publish_status(job, status, reason)
        self._resend.set()

    # -- log lines -----------------------------------------------------------

    def _line(self, job: str, stream: str, line: str) -> None:
        kind = stream if stream in ("stdout", "stderr") else "agent"
        line = line[:2000]
        with self._lock:
            self._log_job = job
            if not self._log_bucket.take(len(line) + 16):
                self._log_skipped += 1
                return
            self._log_lines.append(LogLine(stream=kind, line=line))
            full = len(self._log_lines) >= 100
        if full:
            self._flush_log()

    def _note_skipped(self) -> None:
        """Say how many lines the rate limit held back (call with the lock held)."""
        if self._log_skipped:
            self._log_lines.append(
                LogLine(
                    stream="agent",
                    line=f"... {self._log_skipped} lines not sent (more than "
                    f"{LOG_CHARS_PER_S} characters a second); the result keeps the last lines",
                )
            )
            self._log_skipped = 0

    def _flush_log(self) -> None:
        with self._lock:
            self._note_skipped()
            lines, self._log_lines = self._log_lines, []
            job = self._log_job
        if lines:
            self._send_log(job, lines)

    def _send_log(self, job: str | None, lines: list[LogLine]) -> None:
        msg = LogBatch(device=self.device, job=job, lines=lines)
        self.link.publish(self.topics.log(self.device), encode(msg), qos=0)

    # -- the ticker: telemetry, log batches, outbox re-sends, offline limit ---

    def _tick(self) -> None:
        period = 1.0 / self.config.telemetry_hz if self.config.telemetry_hz > 0 else None
        next_telemetry = time.monotonic()
        next_resend = time.monotonic()
        while not self._stop.is_set():
            self._resend.wait(LOG_BATCH_S)
            now = time.monotonic()
            if self._resend.is_set() or now >= next_resend:
                self._resend.clear()
                next_resend = now + self.config.resend_s
                if self.link.connected:
                    self._send_pending(now)
            self._flush_log()
            if period is not None and now >= next_telemetry and self.link.connected:
                next_telemetry = now + period
                self._send_telemetry()
            self._check_offline(now)

    def _send_pending(self, now: float) -> None:
        """Publish unacked results not sent on this connection in the last ``resend_s``.

        A new result goes at once; one already sent waits ``resend_s`` for its
        ack before it goes again, so a finished job does not re-send every
        other result still waiting for its ack.
        """
        for item in self.outbox.pending():
            with self._lock:
                last = self._sent.get(item.result_id)
            if last is not None and now - last < self.config.resend_s:
                continue
            if self.link.publish(item.topic, item.payload):
                with self._lock:
                    self._sent[item.result_id] = now

    def _send_telemetry(self) -> None:
        values: dict[str, float | int | str | bool | None] = {
            "estopped": self._estopped,
            "job": self.current_job,
            "outbox": self.outbox.count(),
            "dropped": self.drops.total,
        }
        robot = self.robot
        if robot is not None and not robot.closed and "battery" in robot.parts:
            values["battery_v"] = float(robot.parts["battery"].voltage)  # type: ignore[attr-defined]
        msg = Telemetry(device=self.device, session=self.session, ts=time.time(), values=values)
        self.link.publish(self.topics.telemetry(self.device), encode(msg), qos=0)

    def _check_offline(self, now: float) -> None:
        with self._lock:
            running, since = self._running, self._offline_since
            if running is None or since is None or running.stop.is_set():
                return
            allowed = running.job.max_offline_s
            if now - since > allowed:
                logger.warning(
                    "lost the broker for > %.0f s: stopping job %s", allowed, running.job.job
                )
                if self.robot is not None and not self.robot.closed:
                    self.robot.stop()
                running.reason = f"lost the console for more than {allowed:.0f} s"
                running.status = Status.FAILED
                running.stop.set()

    def wait_closed(self, timeout: float | None = None) -> bool:
        return self._stop.wait(timeout)
