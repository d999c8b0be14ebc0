"""The teacher's console service: the room's MQTT side, the store and the signing key::

    from fleet.console.console import Console, ConsoleConfig

    with Console(ConsoleConfig(host="127.0.0.1", port=1883, data_dir=Path("data"))) as console:
        sha = console.bundles.put(bundle_bytes)
        console.push(sha, "line-follow", devices=None)    # every known device
        console.stop_all("teacher")

It subscribes to every device's ``up/`` topics of its room, records births, statuses
and results in :class:`fleet.console.store.Database` (results idempotently, then acks
them), re-sends pending jobs when a device is born, publishes the retained e-stop and
its own retained state (with a last will). :mod:`fleet.console.api` is a thin layer.
"""

from __future__ import annotations

import logging
import queue
import secrets
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

from fleet.console.identity import IdentityWatch
from fleet.console.jobguard import JobGuard
from fleet.console.joblogs import JOB_LOG_LINES, JobLogs
from fleet.console.preview import PreviewRelay
from fleet.console.purging import purge_class
from fleet.console.sensors import with_sensors
from fleet.console.store import LOGIN_TTL_S, Database, EStopState, Purged
from fleet.console.teach import TeachEvent, TeachRelay
from fleet.core.bundles import BundleStore
from fleet.core.errors import JobError
from fleet.core.link import Link
from fleet.core.protocol import (
    MAX_ACK_IDS,
    Command,
    ConsoleState,
    DeviceState,
    DropCounter,
    EStop,
    JobDocument,
    JobResult,
    JobStatus,
    LogBatch,
    ModelRef,
    Preview,
    Telemetry,
    Topics,
    decode,
    encode,
    takes_batched_acks,
)
from fleet.core.signing import SigningKey
from rcbase.closeable import Closeable

__all__ = ["JOB_LOG_LINES", "Console", "ConsoleConfig", "ack_fields"]

logger = logging.getLogger(__name__)

COMMAND_TTL_S = 60.0
#: Most results written in one transaction (and then acked).
RESULT_BATCH = 256
#: How long the writer waits after a result for more to arrive (s): a result is
#: stored and acked at most this much later, and a burst costs few transactions.
RESULT_LINGER_S = 0.02
LOG_LINES_KEPT = 200


@dataclass
class ConsoleConfig:
    host: str
    port: int
    data_dir: Path
    site: str = "school"
    room: str = "room1"
    #: Where devices fetch bundles (``http://host:port``); set by the API server.
    url: str | None = None
    job_ttl_s: float = 3600.0
    keepalive: int = 10
    #: A classroom broker's TLS (``fleet.broker.config.Credentials.tls_context()``); None: plain.
    tls: ssl.SSLContext | None = None
    #: How long a teacher's login lasts before the page asks again.
    session_ttl_s: float = LOGIN_TTL_S


def ack_fields(result_ids: list[str], *, batched: bool) -> list[dict[str, Any]]:
    """The ``ack`` commands for one device's stored results (their extra fields).

    ``batched``: its agent reads ``result_ids`` (protocol 1.1), so one ack
    carries up to :data:`MAX_ACK_IDS`; else one ``result_id`` per ack.

    >>> ack_fields(["a", "b", "c"], batched=True)
    [{'result_ids': ['a', 'b', 'c']}]
    >>> ack_fields(["a", "b"], batched=False)
    [{'result_id': 'a'}, {'result_id': 'b'}]
    """
    if batched and len(result_ids) > 1:
        return [
            {"result_ids": result_ids[first : first + MAX_ACK_IDS]}
            for first in range(0, len(result_ids), MAX_ACK_IDS)
        ]
    return [{"result_id": result_id} for result_id in result_ids]


class Console(Closeable):
    """The room's MQTT side over a :class:`~fleet.console.store.Database` ``db`` it closes."""

    def __init__(self, config: ConsoleConfig, db: Database | None = None) -> None:
        self.config = config
        self.topics = Topics(config.site, config.room)
        self.db = db if db is not None else Database(config.data_dir / "console.sqlite")
        self.key = SigningKey.load_or_create(config.data_dir / "signing-key.pem")
        self.bundles = BundleStore(config.data_dir / "bundles")
        self.drops = DropCounter()
        #: A job's status, result or log is taken only from the device it was pushed to.
        self.guard = JobGuard(self.db.jobs.owners, self.drops)
        self.session = secrets.token_hex(6)
        #: Robots whose certificate another computer is using (the room card says so).
        self.identity = IdentityWatch()
        self.results_stored = 0
        self.results_duplicate = 0
        #: Devices whose birth says their agent reads many result ids in one ack.
        self._batched_acks: set[str] = set()
        # Results are stored by a writer thread, many per transaction, then acked:
        # the network thread only decodes and queues them
        # (docs/decisions/0009-sqlite-wal-store-group-commit.md).
        self._results: queue.Queue[JobResult | None] = queue.Queue()
        self._no_linger = threading.Event()  # set on close: store what came, at once
        self._writer = threading.Thread(
            target=self._write_results, name="console-results", daemon=True
        )
        self.telemetry: dict[str, dict[str, Any]] = {}
        self.logs: dict[str, deque[dict[str, Any]]] = {}
        #: Each job's newest lines (the job's log page), bounded per job and per device.
        self.job_logs = JobLogs()
        self._logs_lock = threading.Lock()  # not _lock: wait_for() predicates may read logs
        self.previews, self.teach = PreviewRelay(), TeachRelay(self)  # memory only, never stored
        #: Called with a purged class's student ids once it is deleted (the district link).
        self.purge_hooks: list[Callable[[list[str]], object]] = []
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        #: Counts every message stored and every teacher action (the web page's events follow it).
        self.changes = 0
        offline = ConsoleState(online=False, session=self.session, ts=time.time())
        self.link = Link(
            config.host,
            config.port,
            client_id=f"rc-console-{self.session}",
            subscriptions=[self.topics.all_up],
            on_message=self._on_message,
            on_connect=self._on_connect,
            will=(self.topics.console_state, encode(offline), True),
            keepalive=config.keepalive,
            tls=config.tls,
            # Nagle on: a burst of results is acked in few TCP segments (off, ingest fell
            # from 0.82-0.90x to 0.76-0.81x of the bare loop); the e-stop is sent urgent.
            no_delay=False,
        )

    # -- lifecycle -----------------------------------------------------------

    def start(self) -> Self:
        if not self._writer.is_alive():
            self._writer.start()
        self.link.start()
        return self

    def wait_connected(self, timeout: float) -> bool:
        return self.link.wait_connected(timeout)

    def __enter__(self) -> Self:
        return self.start()

    def _close(self) -> None:
        if self.link.connected:
            offline = ConsoleState(online=False, session=self.session, ts=time.time())
            self.link.publish(self.topics.console_state, encode(offline), retain=True)
        self._results.put(None)
        self._no_linger.set()
        if self._writer.is_alive():
            self._writer.join(timeout=10)  # results received are stored (and acked) first
        self.teach.trainer.close()  # a training under way ends first; queued ones are dropped
        self.link.close()
        self.db.close()

    def wait_for(self, predicate: Any, timeout: float) -> bool:
        """Wait until ``predicate()`` is true; it is checked after every message stored."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(min(left, 0.5))
        return True

    def notify(self) -> None:
        """Something changed: the pages' event streams look again."""
        with self._changed:
            self.changes += 1
            self._changed.notify_all()

    # -- MQTT ----------------------------------------------------------------

    def _on_connect(self) -> None:
        state = ConsoleState(
            online=True, session=self.session, ts=time.time(), url=self.config.url, kid=self.key.kid
        )
        self.link.publish(self.topics.console_state, encode(state), retain=True)
        current = self.db.estop.get()
        if current.epoch > 0:
            self._publish_estop(current)

    def _on_message(self, topic: str, payload: bytes) -> None:
        decoded = decode(self.topics, topic, payload, self.drops)
        if decoded is None:
            return
        _parsed, msg = decoded
        if isinstance(msg, DeviceState):
            self._on_state(msg)
        elif isinstance(msg, JobStatus):
            if not self.guard.accepts(msg.device, msg.job, "status"):
                return
            self.db.jobs.set_status(msg.job, msg.status, msg.reason)
        elif isinstance(msg, JobResult):
            self._on_result(msg)
            return  # the writer tells the pages once it is stored
        elif isinstance(msg, Telemetry):
            battery = msg.values.get("battery_v")
            pushed_off = msg.values.get("pushed_off")
            if isinstance(pushed_off, int) and not isinstance(pushed_off, bool):
                self.identity.reported(msg.device, pushed_off)
            old = self.telemetry.get(msg.device)  # its live sensors stay until new ones come
            self.telemetry[msg.device] = with_sensors(old, msg.values, msg.ts)
            self.db.devices.seen(
                msg.device, float(battery) if isinstance(battery, int | float) else None
            )
        elif isinstance(msg, LogBatch):
            self._on_log(msg)
        elif isinstance(msg, Preview | TeachEvent):  # the newest only, in memory; pages poll
            self.previews.offer(msg) if isinstance(msg, Preview) else self.teach.offer(msg)
            return
        else:  # a device may not publish anything else on up/
            self.drops.add("unexpected")
        self.notify()

    def _on_log(self, msg: LogBatch) -> None:
        """A robot's lines go to its own log; a job's, to the job's log only from its robot.

        Lines naming another robot's job are dropped (counted); lines naming a
        job this console never pushed stay in the robot's own log only.
        """
        job = msg.job
        if job is not None and self.job_logs.device_of(job) != msg.device:
            owner = self.guard.owners([job]).get(job)
            if owner is None:
                job = None  # no job of this console: the robot's own log only
            elif not self.guard.judge(msg.device, job, owner, "log"):
                return  # another robot's job: not even into this robot's own log
        lines = [{"job": msg.job, **line.model_dump()} for line in msg.lines]
        with self._logs_lock:
            self.logs.setdefault(msg.device, deque(maxlen=LOG_LINES_KEPT)).extend(lines)
        if job is not None:
            self.job_logs.add(msg.device, job, lines)

    def job_log(self, job: str) -> list[dict[str, Any]] | None:
        """The kept lines of ``job``, oldest first; None when none are kept."""
        return self.job_logs.get(job)

    def _on_state(self, msg: DeviceState) -> None:
        if not self.db.devices.record_state(msg):
            logger.debug("stale last will of %s session %s ignored", msg.device, msg.session)
            return
        self.teach.born(msg)  # back on: it deletes the teach pictures of students purged meanwhile
        if msg.online:
            self.identity.born(msg.device, msg.session)
            if takes_batched_acks(msg.versions):
                self._batched_acks.add(msg.device)
            else:  # an older agent (or one put back to an older version)
                self._batched_acks.discard(msg.device)
            for pending in self.db.jobs.pending(msg.device):
                logger.info("re-sending job %s to %s", pending.job, msg.device)
                self.link.publish(self.topics.job(msg.device, pending.job), pending.doc.encode())
        else:
            self.previews.stop(msg.device)  # gone: the page says the preview stopped

    def _on_result(self, msg: JobResult) -> None:
        self._results.put(msg)

    def _write_results(self) -> None:
        """Store queued results, a batch per transaction, and ack each once it is stored."""
        while True:
            first = self._results.get()
            if first is None:
                return
            # Let more arrive before writing (group commit): a burst of results then costs
            # one wake-up and one transaction per RESULT_LINGER_S, not one per result.
            # A full batch already waiting is written at once: waiting would only slow it.
            if self._results.qsize() < RESULT_BATCH - 1:
                self._no_linger.wait(RESULT_LINGER_S)
            batch, last = [first], False
            while len(batch) < RESULT_BATCH:
                try:
                    more = self._results.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    last = True
                    break
                batch.append(more)
            self._store_results(batch)
            if last:
                return

    def _store_results(self, batch: list[JobResult]) -> None:
        """Store the results of jobs pushed to their senders, then ack them.

        A result for another device's job is dropped and not acked. One for a job
        this console never pushed (a class purged since) is dropped but acked,
        so the robot's outbox stops sending it.
        """
        acks: dict[str, list[str]] = {}
        try:
            owners = self.guard.owners(m.job for m in batch)
            mine: list[JobResult] = []
            for msg in batch:
                owner = owners.get(msg.job)
                if self.guard.judge(msg.device, msg.job, owner, "result"):
                    mine.append(msg)
                elif owner is None:
                    acks.setdefault(msg.device, []).append(msg.result_id)
            added = self.db.results.add_many(mine) if mine else []
        except Exception:  # a failed write is not acked: the devices send it again
            logger.exception("storing %d results failed", len(batch))
            return
        for msg, new in zip(mine, added, strict=True):
            if new:
                self.results_stored += 1
            else:
                self.results_duplicate += 1
            acks.setdefault(msg.device, []).append(msg.result_id)
        self._ack(acks)
        self.notify()

    def _ack(self, acks: dict[str, list[str]]) -> None:
        for device, ids in acks.items():
            for fields in ack_fields(ids, batched=device in self._batched_acks):
                self._command(device, "ack", **fields)

    def _command(self, device: str, name: str, **fields: Any) -> None:
        now = time.time()
        cmd = Command(name=name, device=device, ts=now, expires=now + COMMAND_TTL_S, **fields)
        self.link.publish(self.topics.cmd(device, name), encode(cmd))

    def _publish_estop(self, state: EStopState) -> None:
        msg = EStop(active=state.active, epoch=state.epoch, by=state.by, ts=state.ts)
        self.link.publish(self.topics.estop, encode(msg), retain=True, urgent=True)

    # -- what the teacher does -----------------------------------------------

    def push(
        self,
        sha256: str,
        lesson_id: str,
        devices: list[str] | None = None,
        *,
        code: str | None = None,
        time_limit_s: float = 300.0,
        max_offline_s: float = 30.0,
    ) -> list[dict[str, str]]:
        """Sign and send one job per device (``None``: every device known)."""
        ref = self.bundles.ref(sha256, lesson_id)
        return self._send_jobs(
            devices,
            lesson_id,
            sha256,
            lesson=ref,
            code=code,
            time_limit_s=time_limit_s,
            max_offline_s=max_offline_s,
        )

    def push_model(self, ref: ModelRef, devices: list[str] | None = None) -> list[dict[str, str]]:
        """Sign and send a job per device that installs the model ``ref`` (see
        :func:`fleet.core.modelpush.prepare_model`); it shows as ``model:NAME``."""
        return self._send_jobs(devices, f"model:{ref.name}", ref.file.sha256, model=ref)

    def _send_jobs(
        self, devices: list[str] | None, label: str, sha256: str, **what: Any
    ) -> list[dict[str, str]]:
        targets = self.db.devices.ids() if devices is None else devices
        now = time.time()
        signed: list[tuple[str, str, bytes]] = []
        for device in targets:
            job = f"j{secrets.token_hex(8)}"
            doc = self.key.sign(
                JobDocument(
                    job=job,
                    device=device,
                    issued=now,
                    expires=now + self.config.job_ttl_s,
                    kid=self.key.kid,
                    **what,
                )
            )
            signed.append((job, device, encode(doc)))
        # one transaction for the whole room, then the documents go out
        self.db.jobs.add_many(
            [(job, device, label, sha256, payload.decode()) for job, device, payload in signed]
        )
        jobs = []
        for job, device, payload in signed:
            self.link.publish(self.topics.job(device, job), payload)
            jobs.append({"job": job, "device": device})
        logger.info("pushed %s to %d devices", label, len(jobs))
        self.notify()
        return jobs

    def cancel(self, job: str) -> bool:
        row = self.db.jobs.get(job)
        if row is None:
            raise JobError(f"no job {job}")
        self._command(row.device, "cancel", job=job)
        return True

    def forget(self, device: str) -> None:
        """A revoked robot leaves the room's list (its results stay)."""
        self.db.devices.forget(device)
        self.telemetry.pop(device, None)
        self.logs.pop(device, None)
        self.identity.forget(device)
        self.notify()

    def identify(self, device: str) -> None:
        self._command(device, "identify")

    def preflight(self, device: str) -> None:
        self._command(device, "preflight")

    def leave_room(self, device: str) -> None:
        """Tell ``device`` to forget this room (it waits to be claimed again: moving rooms)."""
        self._command(device, "leave_room")  # agents also still read the old name, "release"

    def preview_on(self, device: str, by: str) -> dict[str, Any]:
        """Ask ``device`` for a live camera preview (:class:`fleet.core.errors.PreviewError`: too many)."""
        watch = self.previews.start(device, by)
        self._command(device, "preview_on")
        logger.info("camera preview of %s turned on by %s", device, by)
        self.notify()
        return watch

    def preview_off(self, device: str) -> bool:
        """End ``device``'s preview; its newest picture is forgotten."""
        was_on = self.previews.stop(device)
        self._command(device, "preview_off")
        self.notify()
        return was_on

    def stop_all(self, by: str) -> EStopState:
        """The room's STOP button: retained, with a new epoch."""
        state = self.db.estop.set(True, by)
        self._publish_estop(state)
        logger.warning("e-stop by %s (epoch %d)", by, state.epoch)
        self.notify()
        return state

    def purge(self, roster: str, by: str) -> Purged:
        """Delete a class's data here and everywhere it went (:mod:`fleet.console.purging`)."""
        return purge_class(self, roster, by)

    def forget_devices(self, devices: list[str]) -> None:
        """Drop what the console keeps in memory of these robots' jobs (their class is gone)."""
        with self._logs_lock:
            for device in devices:
                self.logs.pop(device, None)
        self.job_logs.forget(devices)
        self.guard.clear()  # its jobs are gone: nobody's now

    def clear_stop(self, by: str) -> EStopState:
        """Clear the room's STOP (retained, with a new epoch): robots may run lessons again."""
        state = self.db.estop.set(False, by)
        self._publish_estop(state)
        logger.info("e-stop cleared by %s (epoch %d)", by, state.epoch)
        self.notify()
        return state
