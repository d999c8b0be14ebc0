"""Students' programs in the simulator, on the console, in real time: :class:`SimRuns`.

A student presses Run: :meth:`SimRuns.start` runs their program for the
lesson with :func:`lessons.runner.run_lesson` (the real sandbox; the
simulator on the wall clock, so ``time.sleep(1)`` is a second the student
watches) in a thread of its own, and every page that subscribes gets what
happens as events (:class:`SimEvent`, in this order):

- ``world`` once, first: the lesson's world for the page to draw
  (:func:`fleet.console.simprobe.world_event`);
- ``pose`` ``pose_hz`` times a second: sim time, the robot's pose, motors and
  live sensor values (:class:`fleet.console.simprobe.Probe`);
- ``output`` each line the program prints, at most ``MAX_OUTPUT_LINES``;
- ``camera`` (``want_camera``) the newest frame the program read, a small
  JPEG in base64, at most ``camera_hz`` a second, never stored;
- ``end`` the graded result (``LessonResult.as_dict()`` less its output,
  which came line by line), then nothing more.

One run per student: starting again stops their previous run. One sampler
thread reads every running robot; a subscriber that reads slowly loses pose
frames (it keeps the newest), never output or the end, and never holds up
the run::

    with SimRuns() as runs:
        run = runs.start("ming", "lessons/library/line-follower", code)
        with run.subscribe() as events:
            for event in events:                  # ends after the end event
                print(event.kind, event.data)
"""

from __future__ import annotations

import collections
import dataclasses
import itertools
import logging
import queue
import secrets
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from fleet.console.simevents import SimEvent, Subscription
from fleet.console.simprobe import Probe, camera_jpeg, world_event
from fleet.core.errors import SimRunError
from hardware.telemetry import Recorder
from lessons.errors import LessonError
from lessons.model import Lesson, load_lesson
from lessons.program import limits_for
from lessons.runner import run_lesson
from rcbase.closeable import Closeable
from rcbase.i18n import Text
from rcbase.threads import join_thread

__all__ = ["MAX_OUTPUT_CHARS", "MAX_OUTPUT_LINES", "SimEvent", "SimRun", "SimRuns", "Subscription"]

logger = logging.getLogger(__name__)

#: What one run sends of its program's output: lines, and characters in all.
MAX_OUTPUT_LINES = 1000
MAX_OUTPUT_CHARS = 200_000

_STOPPED = {
    "stop": Text("stopped with the Stop button", "用停止按钮停下了"),
    "replaced": Text("stopped: a new run started", "已停止：新的运行开始了"),
    "closing": Text("stopped: the console is shutting down", "已停止：控制台正在关闭"),
    "estop": Text("stopped by the teacher (e-stop)", "被老师停止（紧急停止）"),
}
_MORE_OUTPUT = Text(
    "the program printed more than the page shows: the rest is left out",
    "程序输出太多，页面只显示前面的部分",
)


class SimRun:
    """One student's program running in the simulator (made by :meth:`SimRuns.start`)."""

    def __init__(self, owner: str, lesson: Lesson, want_camera: bool, max_subscribers: int) -> None:
        self.id = secrets.token_urlsafe(9)
        self.owner = owner
        self.lesson = lesson.id
        self.want_camera = want_camera
        self.created = time.time()
        self.result: dict[str, Any] | None = None
        self.max_subscribers = max_subscribers
        self._stop = threading.Event()
        self._stopped_by: str | None = None
        self._ended = threading.Event()
        self._lock = threading.Lock()
        self._subs: list[Subscription] = []
        self._seq = itertools.count()
        self._kept: list[SimEvent] = []  # world, output and end: what a late subscriber gets
        self._output_lines = self._output_chars = 0
        self._output_full = False
        self._probe: Probe | None = None
        self._frame: npt.NDArray[np.uint8] | None = None
        self._frames = self._frames_sent = 0
        self._camera_due = 0.0

    @property
    def state(self) -> str:
        """``starting`` (the robot is not ready yet), ``running`` or ``ended``."""
        if self._ended.is_set():
            return "ended"
        return "starting" if self._probe is None else "running"

    @property
    def ended(self) -> bool:
        return self._ended.is_set()

    def info(self) -> dict[str, Any]:
        """What a page lists about the run."""
        return {
            "id": self.id,
            "owner": self.owner,
            "lesson": self.lesson,
            "state": self.state,
            "created": self.created,
            "want_camera": self.want_camera,
            "result": self.result,
        }

    def stop(self, reason: str = "stop") -> None:
        """End the run: the robot stops now; ``end`` follows with status ``stopped``."""
        with self._lock:
            if self._stopped_by is None and not self.ended:
                self._stopped_by = reason
        self._stop.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the run has ended (True) or ``timeout`` seconds passed (False)."""
        return self._ended.wait(timeout)

    def subscribe(self) -> Subscription:
        """A new subscription: the world (once the robot is ready), output so far, then live."""
        sub = Subscription(self._unsubscribe)
        with self._lock:
            if len(self._subs) >= self.max_subscribers:
                raise SimRunError(
                    429,
                    Text(
                        f"this run already has {self.max_subscribers} viewers: close a page "
                        "that shows it and try again",
                        f"这个运行已经有 {self.max_subscribers} 个页面在看：关掉一个页面再试",
                    ),
                )
            for event in self._kept:
                sub.put(event)
            if not self.ended:
                self._subs.append(sub)
        return sub

    def _unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            if sub in self._subs:
                self._subs.remove(sub)

    def _publish(self, kind: str, data: dict[str, Any], *, keep: bool = False) -> None:
        with self._lock:  # in order for every subscriber, whichever thread publishes
            event = SimEvent(kind, data, next(self._seq))
            if keep:
                self._kept.append(event)
            for sub in self._subs:
                sub.put(event)

    # -- called by the run's threads ---------------------------------------------
    def _robot_ready(self, lesson: Lesson, backend: Any, recorder: Recorder) -> None:
        self._publish("world", world_event(lesson, backend), keep=True)
        self._probe = Probe(backend)
        logger.debug("run %s: robot ready %.3f s after Run", self.id, time.time() - self.created)

    def _line(self, stream: str, line: str) -> None:
        with self._lock:
            if self._output_full:
                return
            self._output_lines += 1
            self._output_chars += len(line)
            self._output_full = (
                self._output_lines > MAX_OUTPUT_LINES or self._output_chars > MAX_OUTPUT_CHARS
            )
        if self._output_full:
            line, stream = "[roboclass] " + _MORE_OUTPUT.en + " / " + _MORE_OUTPUT.zh, "stderr"
        self._publish("output", {"stream": stream, "line": line}, keep=True)

    def _seen(self, frame: npt.NDArray[np.uint8]) -> None:
        self._frame = frame  # a reference only: encoded by the sampler when someone watches
        self._frames += 1

    def _sample(self, now: float, camera_period: float) -> None:
        probe = self._probe
        if probe is None or self.ended or not self._subs:
            return
        try:
            pose = probe.pose()
        except Exception:  # the robot closed between two looks: the end follows
            logger.debug("run %s: no pose", self.id, exc_info=True)
            return
        self._publish("pose", pose)
        frame = self._frame
        if frame is not None and self._frames != self._frames_sent and now >= self._camera_due:
            self._frames_sent, self._camera_due = self._frames, now + camera_period
            self._publish("camera", camera_jpeg(frame))

    def _finish(self, end: dict[str, Any]) -> None:
        with self._lock:
            if self._stopped_by is not None and end.get("status") == "stopped":
                end["error"] = _STOPPED[self._stopped_by].en
                end["error_zh"] = _STOPPED[self._stopped_by].zh
            self.result = end
            self._probe, self._frame = None, None
        self._publish("end", end, keep=True)
        with self._lock:
            subs, self._subs = self._subs, []
            self._ended.set()
        del subs  # they keep their queued events; nothing more comes


class SimRuns(Closeable):
    """Every student's run in the simulator on this console (see the module docstring).

    At most ``max_runs`` at once for the whole console, one per owner;
    programs of at most ``max_code_bytes``; ``pose_hz`` pose frames and at
    most ``camera_hz`` camera pictures a second to each subscriber. The
    programs run ``program_nice`` steps below the console's CPU priority, so
    a class of them never starves the console's own threads (its pages, the
    robots, the e-stop).
    """

    def __init__(
        self,
        *,
        max_runs: int = 48,
        max_code_bytes: int = 100_000,
        pose_hz: float = 20.0,
        camera_hz: float = 5.0,
        max_subscribers: int = 8,
        keep_ended: int = 256,
        program_nice: int = 10,
    ) -> None:
        if max_runs < 1 or max_code_bytes < 1 or not 0 < pose_hz <= 60 or not camera_hz > 0:
            raise ValueError("max_runs, max_code_bytes, pose_hz (<= 60), camera_hz must be > 0")
        self.max_runs = max_runs
        self.max_code_bytes = max_code_bytes
        self.pose_hz = pose_hz
        self.camera_hz = camera_hz
        self.max_subscribers = max_subscribers
        self.program_nice = program_nice
        self._lock = threading.Lock()
        self._runs: dict[str, SimRun] = {}
        self._by_owner: dict[str, SimRun] = {}
        self._ended: collections.deque[str] = collections.deque()
        self._keep_ended = keep_ended
        self._threads: dict[str, threading.Thread] = {}
        self._closing = threading.Event()
        # start() hands new run threads to the launcher: Thread.start() waits until the new
        # thread runs, which on a busy console can take a while; the caller (a web request)
        # should not wait for it
        self._launch: queue.SimpleQueue[threading.Thread | None] = queue.SimpleQueue()
        self._launcher = threading.Thread(
            target=self._launch_loop, name="roboclass-simruns-launcher", daemon=True
        )
        self._sampler = threading.Thread(
            target=self._sample_loop, name="roboclass-simruns-sampler", daemon=True
        )
        self._launcher.start()
        self._sampler.start()

    def start(
        self, owner: str, lesson: Lesson | str | Path, code: str, *, want_camera: bool = False
    ) -> SimRun:
        """Run ``code`` for ``lesson`` in the simulator, in real time, for ``owner``.

        Stops ``owner``'s previous run. :class:`SimRunError` when the console
        is full, the program too long or the console closing.
        """
        if not owner:
            raise ValueError("a run needs an owner")
        data = code.encode("utf-8")
        if len(data) > self.max_code_bytes:
            raise SimRunError(
                413,
                Text(
                    f"the program is too long ({len(data)} bytes): at most "
                    f"{self.max_code_bytes} bytes can run; make it shorter",
                    f"程序太长（{len(data)} 字节）：最多只能运行 {self.max_code_bytes} 字节，请缩短",
                ),
            )
        loaded = lesson if isinstance(lesson, Lesson) else load_lesson(lesson)
        with self._lock:
            if self.closed:
                raise SimRunError(503, _STOPPED["closing"])
            old = self._by_owner.get(owner)
            busy = sum(1 for r in self._runs.values() if not r.ended and r is not old)
            if busy >= self.max_runs:
                raise SimRunError(
                    503,
                    Text(
                        f"the simulator is full ({self.max_runs} programs are running): "
                        "wait a moment and press Run again",
                        f"模拟器已满（正在运行 {self.max_runs} 个程序）：请稍等，再按一次运行",
                    ),
                )
            if old is not None:
                old.stop("replaced")
            run = SimRun(owner, loaded, want_camera, self.max_subscribers)
            self._runs[run.id] = run
            self._by_owner[owner] = run
            thread = threading.Thread(
                target=self._run, args=(run, loaded, data), name="roboclass-simrun", daemon=True
            )
            self._threads[run.id] = thread
            self._launch.put(thread)
        return run

    def get(self, run_id: str) -> SimRun | None:
        """The run ``run_id`` (running, or one of the last ``keep_ended`` to end)."""
        with self._lock:
            return self._runs.get(run_id)

    def of(self, owner: str) -> SimRun | None:
        """``owner``'s latest run, if it is still known."""
        with self._lock:
            return self._by_owner.get(owner)

    def stop(self, which: str) -> bool:
        """Stop the run ``which`` (a run id, else an owner); False when nothing was running."""
        run = self.get(which) or self.of(which)
        if run is None or run.ended:
            return False
        run.stop()
        return True

    def running(self) -> list[SimRun]:
        """The runs that have not ended."""
        with self._lock:
            return [r for r in self._runs.values() if not r.ended]

    def _run(self, run: SimRun, lesson: Lesson, data: bytes) -> None:
        folder = Path(tempfile.mkdtemp(prefix="roboclass-simrun-"))
        try:
            code = folder / "main.py"
            code.write_bytes(data)
            if run._stop.is_set():
                end: dict[str, Any] = _failed(lesson, "stopped", "")
            else:
                end = run_lesson(
                    lesson,
                    code=code,
                    realtime=True,
                    on_line=run._line,
                    stop=run._stop,
                    on_frame=run._seen if run.want_camera else None,
                    on_start=lambda backend, rec: run._robot_ready(lesson, backend, rec),
                    limits=dataclasses.replace(
                        limits_for(lesson.model.wall_limit), nice=self.program_nice
                    ),
                ).as_dict()
                end.pop("output", None)  # the page has it, line by line
        except LessonError as exc:
            logger.warning("run %s of %s could not run: %s", run.id, lesson.id, exc)
            end = _failed(lesson, "error", str(exc))
        except Exception:
            logger.exception("run %s of %s failed", run.id, lesson.id)
            end = _failed(
                lesson, "error", "the console could not run the program / 控制台无法运行程序"
            )
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        run._finish(end)
        with self._lock:
            self._threads.pop(run.id, None)
            self._ended.append(run.id)
            while len(self._ended) > self._keep_ended:
                gone = self._runs.pop(self._ended.popleft(), None)
                if gone is not None and self._by_owner.get(gone.owner) is gone:
                    del self._by_owner[gone.owner]

    def _launch_loop(self) -> None:
        while (thread := self._launch.get()) is not None:
            thread.start()

    def _sample_loop(self) -> None:
        period = 1.0 / self.pose_hz
        camera_period = 1.0 / self.camera_hz
        due = time.monotonic()
        while not self._closing.wait(max(0.0, due - time.monotonic())):
            now = time.monotonic()
            due = max(due + period, now)  # late: carry on from now, no burst
            for run in self.running():
                try:
                    run._sample(now, camera_period)
                except Exception:
                    logger.exception("run %s: sampling failed", run.id)

    def _close(self) -> None:
        """Stop every run, wait for them to end, stop the sampler."""
        with self._lock:  # start() refuses new runs from here on
            runs = [r for r in self._runs.values() if not r.ended]
        for run in runs:
            run.stop("closing")
        self._launch.put(None)
        join_thread(self._launcher, timeout=15)  # the runs it starts now end at once
        with self._lock:
            threads = list(self._threads.values())
        for thread in threads:
            join_thread(thread, timeout=15)
        self._closing.set()
        join_thread(self._sampler, timeout=5)


def _failed(lesson: Lesson, status: str, error: str) -> dict[str, Any]:
    """The end of a run that never got to be graded."""
    return {"lesson": lesson.id, "status": status, "score": 0, "error": error or None}
