"""Running one verified job: its bundle, the robot, the runner, and its final status.

A job either installs a model (:mod:`fleet.core.modelpush`) or runs a lesson:
the bundle is fetched by sha256 (inline or over HTTP into the cache), the
robot is lent or handed to the runner (:class:`~fleet.agent.lease.RobotLease`),
and the runner's lesson result becomes the job's final status and result
(:class:`~fleet.agent.results.ResultSender`)::

    execute = JobExecutor(runner=lessons_runner, cache=cache, results=results,
                          logs=logs, lease=lease, console_url=lambda: url)
    execute(Running(doc))     # the job worker's thread calls it
"""

from __future__ import annotations

import logging
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fleet.agent.lease import RobotLease
from fleet.agent.logs import LogForwarder
from fleet.agent.results import ResultSender
from fleet.agent.sensors import LiveSensors
from fleet.agent.worker import Running
from fleet.core.bundles import BundleCache
from fleet.core.errors import JobError, JobRejected
from fleet.core.protocol import TERMINAL, JobDocument, Status

if TYPE_CHECKING:
    from hardware import Robot

__all__ = [
    "RESULT_STATUS",
    "JobContext",
    "JobExecutor",
    "JobRunner",
    "lessons_runner",
    "opens_robot",
]

logger = logging.getLogger(__name__)

#: Lesson result status -> final job status.
RESULT_STATUS = {
    "passed": Status.SUCCEEDED,
    "failed": Status.SUCCEEDED,  # graded: the student did not pass, the job did its work
    "error": Status.FAILED,
    "timeout": Status.TIMED_OUT,
    "stopped": Status.CANCELED,
}


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
    #: Called with the runner's robot and recorder once it is ready (the live sensor values).
    on_robot: Callable[[Any, Any], None] | None = None


#: Runs one job and returns a lesson result (``LessonResult.as_dict()`` shape).
JobRunner = Callable[[JobContext], dict[str, Any]]


def opens_robot(runner: JobRunner) -> bool:
    """True for a runner that opens the robot's kit itself (the agent lends it the hardware)."""
    return bool(getattr(runner, "opens_robot", False))


def lessons_runner(ctx: JobContext) -> dict[str, Any]:
    """Run the job's lesson bundle with :func:`lessons.run_lesson` (in its own child process).

    The student's code (``job.code``) replaces the lesson's starter; the
    runner opens its own robot on ``ctx.backend`` and ends it stopped when
    ``ctx.stop`` is set. On a real robot the agent closes its own robot for
    the job first (``opens_robot``): pins and a serial port open only once.
    """
    from lessons import BundleError, ModelMissingError, run_lesson, unpack_bundle  # noqa: PLC0415

    with tempfile.TemporaryDirectory(prefix="roboclass-job-") as tmp:
        try:  # sha256 checked on fetch; sizes checked as it unpacks (a bomb stops at the cap)
            lesson_dir = unpack_bundle(ctx.bundle, Path(tmp) / "lesson")
        except BundleError as exc:  # nothing started: the reason is in English and Chinese
            return {"status": "error", "reason": str(exc)}
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
                on_start=ctx.on_robot,
            )
        except ModelMissingError as exc:  # nothing started: tell the student what to do
            return {"status": "error", "reason": f"{exc.message.en} / {exc.message.zh}"}
        out: dict[str, Any] = result.as_dict()
        return out


#: A runner that opens the robot's kit itself sets this: the agent lends it the hardware.
lessons_runner.opens_robot = True  # type: ignore[attr-defined]


class JobExecutor:
    """Runs one job to its final status; the job worker's thread calls it."""

    def __init__(
        self,
        *,
        runner: JobRunner,
        cache: BundleCache,
        results: ResultSender,
        logs: LogForwarder,
        lease: RobotLease,
        console_url: Callable[[], str | None],
        backend: str = "sim",
        kit: str | None = None,
        cache_dir: Path | None = None,
        on_frame: Callable[[Any], None] | None = None,
        on_start: Callable[[], None] | None = None,
        sensors: LiveSensors | None = None,
        on_sensors_end: Callable[[], None] | None = None,
    ) -> None:
        self.runner = runner
        self.backend = backend
        self.kit = kit
        self.cache_dir = cache_dir
        self._cache = cache
        self._results = results
        self._logs = logs
        self._lease = lease
        self._console_url = console_url
        self._on_frame = on_frame
        self._on_start = on_start
        self._sensors = sensors
        self._on_sensors_end = on_sensors_end

    def __call__(self, running: Running) -> None:
        try:
            self._execute(running)
        except Exception as exc:  # a bug of ours: the job still ends, FAILED, and says why
            doc = running.job
            logger.exception("job %s: the agent failed", doc.job)
            known = self._results.outbox.job_status(doc.job)
            if known is None or known[0] not in {s.value for s in TERMINAL}:
                reason = f"the agent failed: {type(exc).__name__}: {exc}"
                result = None if doc.lesson is None else {"status": "error", "reason": reason}
                self._results.finish(doc.job, Status.FAILED, result, reason)

    def _execute(self, running: Running) -> None:
        doc = running.job
        if doc.lesson is None:  # a model to install, not a lesson to run
            self._install_model(doc)
            return
        try:
            bundle = self._cache.fetch(doc.lesson, self._console_url())
        except JobError as exc:
            self._refuse(doc, exc)
            return
        if doc.expires < time.time():
            self._results.finish(
                doc.job, Status.REJECTED, None, "job expired before it could start"
            )
            return
        self._results.status(doc.job, Status.IN_PROGRESS)
        if self._on_start is not None:
            self._on_start()
        result = self._run(running, bundle)
        if running.status is not None:  # stopped by the teacher, the e-stop, the agent...
            result = {
                **result,
                "status": "stopped" if running.status is Status.CANCELED else "error",
                "reason": running.reason,
            }
            self._results.finish(doc.job, running.status, result, running.reason)
            return
        status = RESULT_STATUS.get(str(result.get("status")), Status.FAILED)
        reason = (
            None
            if status is Status.SUCCEEDED
            else str(result.get("reason") or result.get("status"))
        )
        self._results.finish(doc.job, status, result, reason)

    def _run(self, running: Running, bundle: Path) -> dict[str, Any]:
        """The runner's result; the robot ends stopped (or taken back) whatever happens."""
        doc = running.job
        try:
            with self._lease.for_job() as robot:
                ctx = JobContext(
                    job=doc,
                    bundle=bundle,
                    stop=running.stop,
                    on_line=lambda stream, line: self._logs.line(doc.job, stream, line),
                    robot=robot,
                    backend=self.backend,
                    kit=self.kit,
                    on_frame=self._on_frame,
                    cache_dir=self.cache_dir,
                    on_robot=None if self._sensors is None else self._sensors.watch,
                )
                try:
                    return self.runner(ctx)
                except Exception as exc:  # a broken lesson must end as FAILED, not kill the agent
                    logger.exception("job %s failed", doc.job)
                    return {"status": "error", "reason": f"{type(exc).__name__}: {exc}"}
        finally:
            if self._sensors is not None:
                self._sensors.clear()
                if self._on_sensors_end is not None:
                    self._on_sensors_end()  # the last values, before the result
            self._logs.flush()  # after the robot stopped (or was taken back)

    def _refuse(self, doc: JobDocument, exc: JobError) -> None:
        """A job whose bundle or model failed: REJECTED when it failed a check, else FAILED."""
        if isinstance(exc, JobRejected):
            self._results.finish(doc.job, Status.REJECTED, None, str(exc))
        else:
            result = None if doc.lesson is None else {"status": "error", "reason": str(exc)}
            self._results.finish(doc.job, Status.FAILED, result, str(exc))

    def _install_model(self, doc: JobDocument) -> None:
        """Install the model a job names into the device cache (:mod:`fleet.core.modelpush`)."""
        from fleet.core.modelpush import install_model  # noqa: PLC0415 - only when a model comes
        from models import device_cache  # noqa: PLC0415

        try:
            entry = install_model(
                doc, self._cache, self._console_url(), device_cache(self.cache_dir)
            )
        except JobError as exc:
            logger.warning("model job %s refused: %s", doc.job, exc)
            self._refuse(doc, exc)
            return
        sha = entry.manifest.sha256[:12]
        self._logs.say(doc.job, f"model {entry.name} installed ({sha}): {entry.model_path}")
        self._results.finish(doc.job, Status.SUCCEEDED, None, None)
