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
expiry), else REJECTED with the reason; identify / cancel / preflight /
leave-room commands. The work is done by the parts it owns and wires to the
link and the robot:

- :class:`~fleet.agent.worker.JobWorker`: the queue, one job at a time, cancel;
  :class:`~fleet.agent.jobs.JobExecutor` runs each (bundle, runner, result);
- :class:`~fleet.agent.estop.EStopLatch`: the retained e-stop, which stops the
  running job and the robot at once and holds until a clear with a newer epoch;
- :class:`~fleet.agent.lease.RobotLease`: the robot, lent to a job and taken back stopped;
- :class:`~fleet.agent.results.ResultSender`: statuses, and results re-sent
  from the on-disk :class:`~fleet.agent.outbox.Outbox` until the console acks;
- :class:`~fleet.agent.logs.LogForwarder`: a job's output, batched and throttled;
- :class:`~fleet.agent.offline.OfflineWatch`: a job stops when the broker has
  been gone longer than the job allows;
- :class:`~fleet.agent.errands.Errands`: identify and preflight;
- :class:`~fleet.agent.preview.PreviewSender`: the live camera preview;
- :class:`~fleet.agent.teach.TeachPart`: teach your robot (pictures stay on the robot).
"""

from __future__ import annotations

import functools
import importlib.metadata
import logging
import platform
import secrets
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Self

from fleet.agent.config import MAX_TELEMETRY_HZ, AgentConfig
from fleet.agent.errands import Errands
from fleet.agent.estop import Change, EStopLatch
from fleet.agent.jobs import (
    RESULT_STATUS,
    JobContext,
    JobExecutor,
    JobRunner,
    lessons_runner,
    opens_robot,
)
from fleet.agent.lease import RobotLease
from fleet.agent.logs import LOG_BATCH_S, LogForwarder
from fleet.agent.offline import OfflineWatch
from fleet.agent.outbox import Outbox
from fleet.agent.preview import PreviewSender
from fleet.agent.results import FORGOTTEN, ResultSender
from fleet.agent.sensors import LiveSensors
from fleet.agent.teach import teach_part
from fleet.agent.worker import JobWorker
from fleet.core.bundles import BundleCache
from fleet.core.link import PUSHED_OFF_TIMES, PUSHED_OFF_WINDOW_S, Link
from fleet.core.protocol import (
    PROTOCOL_REVISION,
    Command,
    ConsoleState,
    DeviceState,
    DropCounter,
    EStop,
    JobDocument,
    LogBatch,
    LogLine,
    Preview,
    Reassign,
    Status,
    TeachCommand,
    Telemetry,
    Topics,
    decode,
    encode,
)
from fleet.core.signing import verify_job
from rcbase.closeable import Closeable
from rcbase.i18n import Text

if TYPE_CHECKING:
    from hardware import Robot

__all__ = [
    "MAX_TELEMETRY_HZ",
    "RESULT_STATUS",
    "Agent",
    "AgentConfig",
    "JobContext",
    "JobRunner",
    "lessons_runner",
]

logger = logging.getLogger(__name__)

#: What the agent says (its log, and a line in the robot's log on the console) when
#: another computer with this robot's certificate keeps pushing it off the broker.
PUSHED_OFF = Text(
    en="another computer is using {device}'s certificate: the broker pushed this robot off "
    "{times} times in {window:.0f} s. Find the copy of the robot's broker folder and delete "
    "it, or revoke {device} (`roboclass broker revoke`, or Revoke on the console) and enrol "
    "the robot again.",
    zh="另一台电脑正在使用 {device} 的证书：{window:.0f} 秒内代理服务器把这台机器人挤下线 "
    "{times} 次。请找到并删除这台机器人代理文件夹的副本，或者吊销 {device}"
    "（`roboclass broker revoke`，或在控制台上点“吊销”）后重新登记这台机器人。",
)


@functools.cache
def _version() -> str:
    """This package's version (read once: a metadata lookup scans sys.path)."""
    try:
        return importlib.metadata.version("roboclass")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


class Agent(Closeable):
    """A robot's connection to the console. Start it, then close it (idempotent)."""

    def __init__(self, config: AgentConfig, robot: Robot | None = None) -> None:
        if config.telemetry_hz > MAX_TELEMETRY_HZ:
            raise ValueError(f"telemetry_hz must be <= {MAX_TELEMETRY_HZ}")
        self.config = config
        self.device = config.device
        self.topics = Topics(config.site, config.room)
        self.session = secrets.token_hex(6)
        self.drops = DropCounter()
        self.outbox = Outbox(config.state_dir / "agent.sqlite")
        self.cache = BundleCache(config.state_dir / "bundles")
        #: Set when the console gave this robot a new name: the caller starts a new agent.
        self.reassigned = threading.Event()
        #: Set when the robot forgot this room (it moves to another): the caller enrols again.
        self.left_room = threading.Event()
        self._console_url = config.console_url
        self._preflight: dict[str, int] | None = None
        self._crash = False
        self._stop = threading.Event()
        self.latch = EStopLatch(self.outbox, on_stop=self._stop_all, on_clear=self._clear_stop)
        self.lease = RobotLease(
            robot,
            lends=opens_robot(config.runner) and config.backend != "sim",
            opener=config.open_robot,
            stopped=lambda: self.latch.active,
        )
        offline = DeviceState(
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
            on_pushed_off=self._on_pushed_off,
            will=(self.topics.state(self.device), encode(offline), True),
            keepalive=config.keepalive,
            tls=config.tls,
        )
        self.results = ResultSender(
            self.outbox, self.link, self.topics, self.device, resend_s=config.resend_s
        )
        self.results.recover()  # after the link exists: it publishes (or, offline, skips) statuses
        self.logs = LogForwarder(self._send_log)
        self.teach = teach_part(self)  # down/cmd/teach, up/teach (fleet/agent/teach.py)
        self.preview = PreviewSender(
            self.device, self._send_preview, camera=self.teach.camera, busy=self._busy
        )
        self.sensors = LiveSensors()
        execute = JobExecutor(
            runner=config.runner,
            cache=self.cache,
            results=self.results,
            logs=self.logs,
            lease=self.lease,
            console_url=lambda: self._console_url,
            backend=config.backend,
            kit=config.kit,
            cache_dir=config.cache_dir,
            on_frame=self.preview.tap,
            on_start=self.publish_state,
            sensors=self.sensors,
            on_sensors_end=self._last_sensors,
        )
        self.worker = JobWorker(execute, self.latch, name=self.device, on_done=self.publish_state)
        self.offline = OfflineWatch(self.worker, self.lease)
        self.errands = Errands(
            self.lease,
            stopped=lambda: self.latch.active,
            busy=self._busy,
            report=self._on_preflight,
            name=self.device,
        )
        self._heartbeat = threading.Thread(
            target=self._beat, name=f"agent-{self.device}-tick", daemon=True
        )

    # -- lifecycle -----------------------------------------------------------

    def start(self) -> Self:
        self.worker.start()
        self.results.start()
        self._heartbeat.start()
        self.link.start()
        return self

    def __enter__(self) -> Self:
        return self.start()

    def close(self, *, crash: bool = False) -> None:
        """Stop the job (the robot ends stopped), say offline, join threads. Idempotent.

        ``crash=True`` drops the connection without a clean goodbye (the broker
        sends the last will), as a killed agent would; used by fault tests.
        """
        if not self.closed:
            self._crash = crash
        super().close()

    def _close(self) -> None:
        self._stop.set()
        self.worker.halt("the agent stopped", Status.FAILED, force=True)  # the robot stops
        if not self._crash and self.link.connected:
            offline = DeviceState(
                device=self.device, session=self.session, online=False, ts=time.time()
            )
            self.link.publish(self.topics.state(self.device), encode(offline), retain=True)
        self.preview.close()
        self.teach.close()
        self.errands.close()
        self.worker.close()  # the job's final status goes out while the link is up
        if self._heartbeat.is_alive():
            self._heartbeat.join(timeout=10)
        self.results.close()
        self.link.close(send_will=self._crash)
        self.outbox.close()
        self.lease.close()

    def wait_closed(self, timeout: float | None = None) -> bool:
        return self._stop.wait(timeout)

    # -- what others may read ------------------------------------------------

    @property
    def robot(self) -> Robot | None:
        return self.lease.robot

    @property
    def estopped(self) -> bool:
        return self.latch.active

    @property
    def epoch(self) -> int:
        return self.latch.epoch

    @property
    def estop_at(self) -> float | None:
        """When (``time.monotonic()``) the robot was last e-stopped; None: not yet."""
        return self.latch.stopped_at

    @property
    def pushed_off(self) -> int:
        """How often another connection with this robot's identity pushed it off the broker
        lately (the last minute); :attr:`identity_clash` once that is too often to be chance."""
        return self.link.pushed_off

    @property
    def identity_clash(self) -> bool:
        """Another computer is using this robot's certificate (it keeps pushing it off)."""
        return self.link.pushed_off >= PUSHED_OFF_TIMES

    @property
    def current_job(self) -> str | None:
        return self.worker.current_job

    def job_status(self, job: str) -> str | None:
        found = self.outbox.job_status(job)
        return None if found is None else found[0]

    # -- what it says --------------------------------------------------------

    def _state(self) -> DeviceState:
        robot = self.lease.robot
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
            battery=self._battery(),
            preflight=self._preflight,
            job=self.current_job,
            estopped=self.estopped,
        )

    def _battery(self) -> float | None:
        robot = self.lease.usable()
        if robot is None or "battery" not in robot.parts:
            return None
        return robot.battery.voltage

    def _last_sensors(self) -> None:
        """A job's program ended: its last sensor values go out before its result does (a
        short job may end between two telemetry messages; a student is watching)."""
        if self.link.connected:
            self._send_telemetry()

    def publish_state(self) -> None:
        self.link.publish(self.topics.state(self.device), encode(self._state()), retain=True)

    def _send_telemetry(self) -> None:
        values: dict[str, float | int | str | bool | None] = {
            "estopped": self.estopped,
            "job": self.current_job,
            "outbox": self.outbox.count(),
            "dropped": self.drops.total,
        }
        battery = self._battery()
        if battery is not None:
            values["battery_v"] = battery
        values.update(self.sensors.snapshot())  # while a job runs: its sensors, live
        pushed = self.link.pushed_off
        if pushed:  # the console shows "another computer is using ..." on the robot's card
            values["pushed_off"] = pushed
        msg = Telemetry(device=self.device, session=self.session, ts=time.time(), values=values)
        self.link.publish(self.topics.telemetry(self.device), encode(msg), qos=0)

    def _send_log(self, job: str | None, lines: list[LogLine]) -> None:
        msg = LogBatch(device=self.device, job=job, lines=lines)
        self.link.publish(self.topics.log(self.device), encode(msg), qos=0)

    def _send_preview(self, msg: Preview) -> None:
        self.link.publish(self.topics.preview(self.device), encode(msg), qos=0)

    def _beat(self) -> None:
        """A few times a second: log batches, telemetry, the offline limit."""
        hz = self.config.telemetry_hz
        period = 1.0 / hz if hz > 0 else None
        next_telemetry = time.monotonic()
        while not self._stop.wait(LOG_BATCH_S):
            self.logs.flush()
            now = time.monotonic()
            # while a job runs, its sensors go out as fast as telemetry may (a student watches)
            live = 1.0 / MAX_TELEMETRY_HZ if self.sensors.active else period
            if live is not None and now >= next_telemetry and self.link.connected:
                next_telemetry = now + min(live, period or live)
                self._send_telemetry()
            self.offline.check()

    # -- what it hears -------------------------------------------------------

    def _on_connect(self) -> None:
        self.offline.back()
        self.publish_state()
        if self.identity_clash:  # say so at once: the connection may not last long
            self._send_telemetry()
        self.results.connected()  # a new connection: every unacked result goes again

    def _on_pushed_off(self, times: int) -> None:
        said = PUSHED_OFF.format(device=self.device, times=times, window=PUSHED_OFF_WINDOW_S)
        logger.warning("%s / %s", said.en, said.zh)
        self.logs.say(None, said.en, said.zh)

    def _on_disconnect(self) -> None:
        self.offline.lost()

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
        elif isinstance(msg, TeachCommand) and msg.expires >= time.time():
            self.teach.handle(msg)
        elif isinstance(msg, ConsoleState) and msg.online and msg.url:
            self._console_url = msg.url

    def _on_estop(self, msg: EStop) -> None:
        change = self.latch.apply(msg)
        if change is Change.STALE:
            self.drops.add("stale_estop")
        elif change is not Change.SAME:
            self.publish_state()

    def _stop_all(self, msg: EStop) -> None:
        """The e-stop (the latch calls it first): the robot, then the running job."""
        try:
            self.lease.estop()
        finally:  # a robot that failed to stop is all the more reason to end the job
            self.worker.halt(f"emergency stop by {msg.by}", Status.CANCELED)

    def _clear_stop(self, _msg: EStop) -> None:
        self.lease.clear_stop()

    def _on_job(self, doc: JobDocument) -> None:
        known = self.outbox.job_status(doc.job)
        if known is not None and known[0] != FORGOTTEN:
            # Re-sent by the console: say where it is, never run it twice.
            self.results.status(doc.job, Status(known[0]), known[1])
            self.results.nudge()
            return
        reason = verify_job(doc, self.config.trusted_keys, device=self.device)
        if reason is not None:
            logger.warning("job %s rejected: %s", doc.job, reason)
            self.results.status(doc.job, Status.REJECTED, reason)
            return
        self.results.status(doc.job, Status.QUEUED)  # before the worker may start it
        self.worker.submit(doc)

    def _on_command(self, cmd: Command) -> None:
        if cmd.expires < time.time():
            self.drops.add("expired")
            return
        if cmd.name == "ack" and (cmd.result_id is not None or cmd.result_ids):
            acked = [cmd.result_id] if cmd.result_id is not None else []
            self.results.acked(*acked, *(cmd.result_ids or []))
        elif cmd.name == "cancel" and cmd.job is not None:
            if self.worker.cancel(cmd.job) == "queued":
                reason = "canceled by the teacher"
                self.results.finish(cmd.job, Status.CANCELED, {"status": "stopped"}, reason)
        elif cmd.name == "identify":
            self.errands.identify()
        elif cmd.name == "preflight":
            self.errands.preflight()
        elif cmd.name == "leave_room":
            self._on_leave_room()
        elif cmd.name == "preview_on" and not self.closed:
            self.preview.start()
        elif cmd.name == "preview_off":
            self.preview.stop()

    def _on_reassign(self, msg: Reassign) -> None:
        hook = self.config.on_reassign
        if msg.expires < time.time() or hook is None:
            self.drops.add("expired" if hook is not None else "unexpected")
            return
        if hook(msg):
            logger.warning("renamed %s -> %s: starting again", self.device, msg.name)
            self.reassigned.set()

    def _on_leave_room(self) -> None:
        hook = self.config.on_leave_room
        if hook is None:
            self.drops.add("unexpected")
            return
        self.worker.halt("the robot is moving to another room", Status.CANCELED)
        if hook():
            # the next room counts its own e-stop epochs: a stale one from here
            # would make the robot ignore that room's e-stops
            self.outbox.forget_room()
            self.latch.forget()
            logger.warning("the console let %s go: it forgets this room", self.device)
            self.left_room.set()

    # -- the robot between jobs ----------------------------------------------

    def _busy(self) -> bool:
        return self.worker.busy

    def robot_camera(self) -> Callable[[], Any] | None:
        """How to read this robot's own camera between jobs; None without one."""
        robot = self.lease.usable()
        if robot is None:
            return None
        for name, spec in robot.kit.parts.items():
            if spec.kind == "camera":
                return robot.parts[name].read  # type: ignore[attr-defined, no-any-return]
        return None

    def _on_preflight(self, summary: dict[str, int], lines: list[str]) -> None:
        self._preflight = summary
        self.logs.say(None, *lines)
        self.publish_state()
