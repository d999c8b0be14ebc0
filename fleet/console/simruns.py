"""Students' programs in the simulator, on the console, in real time: :class:`SimRuns`.

A student presses Run: :meth:`SimRuns.start` sends their program to one of
the console's simulator workers (:mod:`fleet.console.simworker`, processes
of their own, so a class of runs never takes the console's GIL from its
pages), which runs it for the lesson with :func:`lessons.runner.run_lesson`
(the real sandbox; the simulator on the wall clock, so ``time.sleep(1)`` is
a second the student watches). Every page that subscribes gets what happens
as events (:class:`SimEvent`, in this order):

- ``world`` once, first: the lesson's world for the page to draw
  (:func:`fleet.console.simprobe.world_event`);
- ``pose`` ``pose_hz`` times a second: sim time, the robot's pose, motors and
  live sensor values (:class:`fleet.console.simprobe.Probe`); the last one
  is where the robot came to rest;
- ``output`` each line the program prints, at most ``MAX_OUTPUT_LINES``;
- ``camera`` (``want_camera``) the newest frame the program read, a small
  JPEG in base64, at most ``camera_hz`` a second, never stored;
- ``end`` the graded result (``LessonResult.as_dict()`` less its output,
  which came line by line), then nothing more.

One run per student: starting again stops their previous run. A subscriber
that reads slowly loses pose frames (it keeps the newest), never output or
the end, and never holds up the run::

    with SimRuns() as runs:
        run = runs.start("ming", "lessons/library/line-follower", code)
        with run.subscribe() as events:
            for event in events:                  # ends after the end event
                print(event.kind, event.data)
"""

from __future__ import annotations

import collections
import contextlib
import itertools
import json
import logging
import os
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import fleet
from fleet.console.simevents import SimEvent, Subscription
from fleet.core.errors import SimRunError
from lessons.model import Lesson, load_lesson
from rcbase.closeable import Closeable
from rcbase.i18n import Text
from rcbase.threads import join_thread

__all__ = ["SimEvent", "SimRun", "SimRuns", "Subscription"]

logger = logging.getLogger(__name__)

_STOPPED = {
    "stop": Text("stopped with the Stop button", "用停止按钮停下了"),
    "replaced": Text("stopped: a new run started", "已停止：新的运行开始了"),
    "closing": Text("stopped: the console is shutting down", "已停止：控制台正在关闭"),
    "estop": Text("stopped by the teacher (e-stop)", "被老师停止（紧急停止）"),
}
_WORKER_GONE = Text(
    "the simulator stopped unexpectedly: press Run again", "模拟器意外停止了：请再按一次运行"
)


class SimRun:
    """One student's program running in the simulator (made by :meth:`SimRuns.start`)."""

    def __init__(
        self,
        owner: str,
        lesson: Lesson,
        want_camera: bool,
        max_subscribers: int,
        worker: _Worker,
        *,
        graded: bool = False,
    ) -> None:
        self.id = secrets.token_urlsafe(9)
        self.graded = graded  # a hand-in (SimRuns.hand_in): graded on simulated time
        self.owner = owner
        self.lesson = lesson.id
        self.want_camera = want_camera
        self.created = time.time()
        self.result: dict[str, Any] | None = None
        self.max_subscribers = max_subscribers
        self._worker = worker
        self._started = False  # the world has come: the robot is ready
        self._stopped_by: str | None = None
        self._ended = threading.Event()
        self._lock = threading.Lock()
        self._subs: list[Subscription] = []
        self._seq = itertools.count()
        self._kept: list[SimEvent] = []  # world, output and end: what a late subscriber gets

    @property
    def state(self) -> str:
        """``starting`` (the robot is not ready yet), ``running`` or ``ended``."""
        if self._ended.is_set():
            return "ended"
        return "running" if self._started else "starting"

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
            "graded": self.graded,
            "result": self.result,
        }

    def stop(self, reason: str = "stop") -> None:
        """End the run: the robot stops now; ``end`` follows with status ``stopped``.

        ``reason`` says why in the end's error: ``stop`` (the student), ``estop``
        (the teacher), ``replaced`` or ``closing``."""
        with self._lock:
            if self._stopped_by is not None or self.ended:
                return
            self._stopped_by = reason if reason in _STOPPED else "stop"
        self._worker.send({"op": "stop", "run": self.id})

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

    @property
    def subscribers(self) -> int:
        """How many clients follow the run now."""
        with self._lock:
            return len(self._subs)

    def _unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            if sub in self._subs:
                self._subs.remove(sub)

    def _event(self, kind: str, data: dict[str, Any]) -> None:
        """An event from the worker: to every subscriber, in order."""
        if kind == "end":
            self._finish(data)
            return
        with self._lock:
            if self.ended:
                return
            event = SimEvent(kind, data, next(self._seq))
            if kind in ("world", "output"):
                self._kept.append(event)
                if kind == "world" and not self._started:
                    self._started = True
                    logger.debug(
                        "run %s: robot ready %.3f s after Run", self.id, time.time() - self.created
                    )
            for sub in self._subs:
                sub.put(event)

    def _finish(self, end: dict[str, Any]) -> None:
        with self._lock:
            if self.ended:
                return
            if self._stopped_by is not None and end.get("status") == "stopped":
                end["error"] = _STOPPED[self._stopped_by].en
                end["error_zh"] = _STOPPED[self._stopped_by].zh
            end.setdefault("lesson", self.lesson)
            self.result = end
            event = SimEvent("end", end, next(self._seq))
            self._kept.append(event)
            for sub in self._subs:
                sub.put(event)  # they keep their queued events; nothing more comes
            self._subs = []
            self._ended.set()


class _Worker:
    """One simulator worker process and the thread that reads its events."""

    def __init__(self, runs: SimRuns, index: int) -> None:
        self._runs = runs
        self.live: set[str] = set()
        self._send_lock = threading.Lock()
        root = str(Path(fleet.__file__).resolve().parents[1])
        path = os.environ.get("PYTHONPATH")
        env = {**os.environ, "PYTHONPATH": root + (os.pathsep + path if path else "")}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "fleet.console.simworker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )
        self._reader = threading.Thread(
            target=self._read, name=f"roboclass-simworker-{index}", daemon=True
        )
        self._reader.start()

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None and self._reader.is_alive()

    def send(self, command: dict[str, Any]) -> None:
        stdin = self.proc.stdin
        if stdin is None:
            return
        with self._send_lock:
            try:
                stdin.write(json.dumps(command).encode() + b"\n")
                stdin.flush()
            except (OSError, ValueError):
                logger.warning("a simulator worker is gone: %s not sent", command.get("op"))

    def _read(self) -> None:
        stdout = self.proc.stdout
        if stdout is None:
            return
        for raw in stdout:
            try:
                message = json.loads(raw)
                run_id, kind, data = message["run"], message["kind"], message["data"]
            except (ValueError, KeyError, TypeError):
                logger.warning("a simulator worker said something odd: %.200r", raw)
                continue
            if kind == "warm":
                self._runs._warmed(str(data.get("lesson")))
                continue
            run = self._runs.get(run_id)
            if run is not None:
                run._event(kind, data)
            if kind == "end":
                self.live.discard(run_id)
                self._runs._ended_run(run_id)
        # the worker has gone: whatever it was running has ended
        for run_id in list(self.live):
            run = self._runs.get(run_id)
            if run is not None:
                run._finish(
                    {
                        "status": "error",
                        "score": 0,
                        "error": _WORKER_GONE.en,
                        "error_zh": _WORKER_GONE.zh,
                    }
                )
            self._runs._ended_run(run_id)
        self.live.clear()

    def close(self) -> None:
        """Close its stdin (its runs stop and end), then wait for it and its events."""
        if self.proc.stdin is not None:
            with self._send_lock, contextlib.suppress(OSError):
                self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            logger.error("a simulator worker did not stop: killed")
            self.proc.kill()
            self.proc.wait()
        join_thread(self._reader, timeout=10)


class SimRuns(Closeable):
    """Every student's run in the simulator on this console (see the module docstring).

    At most ``max_runs`` at once for the whole console, one per owner;
    programs of at most ``max_code_bytes``; ``pose_hz`` pose frames and at
    most ``camera_hz`` camera pictures a second to each subscriber. The runs
    share ``workers`` processes (default: one per core, at most 4), started
    now so that the first Run does not wait for one, and ready for the
    lessons in ``warm`` (see :meth:`warm`); the programs run
    ``program_nice`` steps below the console's CPU priority, so a class of
    them never starves the console (its pages, the robots, the e-stop).
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
        program_nice: int = 19,
        workers: int | None = None,
        warm: Sequence[Lesson | str | Path] = (),
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
        self._warm_count: dict[str, int] = {}
        count = workers if workers is not None else min(4, os.cpu_count() or 1)
        self._workers = [_Worker(self, i) for i in range(max(1, count))]
        for lesson in warm:
            self.warm(lesson)

    def warm(self, lesson: Lesson | str | Path) -> None:
        """Get every worker ready for ``lesson`` now (it reads the world, starts Python in the
        sandbox once), so that a class's first Runs do not wait for it: when a lesson is pushed."""
        path = _lesson_path(lesson)
        for worker in self._workers:
            worker.send({"op": "warm", "lesson": path, "nice": self.program_nice})

    def warmed(self, lesson: Lesson | str | Path) -> bool:
        """Whether every worker has got ready for ``lesson`` (see :meth:`warm`)."""
        with self._lock:
            return self._warm_count.get(_lesson_path(lesson), 0) >= len(self._workers)

    def _warmed(self, path: str) -> None:
        with self._lock:
            self._warm_count[path] = self._warm_count.get(path, 0) + 1

    def start(
        self, owner: str, lesson: Lesson | str | Path, code: str, *, want_camera: bool = False
    ) -> SimRun:
        """Run ``code`` for ``lesson`` in the simulator, in real time, for ``owner``.

        Stops ``owner``'s previous run. Returns at once (the robot is ready
        when the run's ``world`` event comes). :class:`SimRunError` when the
        console is full, the program too long or the console closing.
        """
        if not owner:
            raise ValueError("a run needs an owner")
        self._check_size(code)
        loaded = lesson if isinstance(lesson, Lesson) else load_lesson(lesson)
        with self._lock:
            if self.closed:
                raise SimRunError(503, _STOPPED["closing"])
            old = self._by_owner.get(owner)
            busy = sum(1 for r in self._runs.values() if not (r.ended or r.graded) and r is not old)
            if busy >= self.max_runs:
                raise SimRunError(
                    503,
                    Text(
                        f"the simulator is full ({self.max_runs} programs are running): "
                        "wait a moment and press Run again",
                        f"模拟器已满（正在运行 {self.max_runs} 个程序）：请稍等，再按一次运行",
                    ),
                )
            worker = self._worker()
            run = SimRun(owner, loaded, want_camera, self.max_subscribers, worker)
            self._runs[run.id] = run
            self._by_owner[owner] = run
            worker.live.add(run.id)
        if old is not None:
            old.stop("replaced")
        worker.send(
            {
                "op": "start",
                "run": run.id,
                "lesson": _lesson_path(loaded),
                "code": code,
                "camera": want_camera,
                "nice": self.program_nice,
                "pose_hz": self.pose_hz,
                "camera_hz": self.camera_hz,
            }
        )
        return run

    def hand_in(self, owner: str, lesson: Lesson | str | Path, code: str) -> SimRun:
        """Grade ``code`` for ``lesson`` on simulated time in a worker (a hand-in), in turn:
        the run's ``end`` is the graded result (its ``output`` events the program's lines; no
        world or poses). Hand-ins wait their turn, first come first served, so a class
        handing in together does not slow the pages; ``wait()`` then read ``result``."""
        self._check_size(code)
        loaded = lesson if isinstance(lesson, Lesson) else load_lesson(lesson)
        with self._lock:
            if self.closed:
                raise SimRunError(503, _STOPPED["closing"])
            worker = self._worker()
            run = SimRun(owner, loaded, False, self.max_subscribers, worker, graded=True)
            self._runs[run.id] = run
            worker.live.add(run.id)
        worker.send(
            {
                "op": "grade",
                "run": run.id,
                "lesson": _lesson_path(loaded),
                "code": code,
                "nice": self.program_nice,
            }
        )
        return run

    def _worker(self) -> _Worker:
        """The worker with the fewest runs (one that died is started again)."""
        for i, worker in enumerate(self._workers):
            if not worker.alive:
                logger.warning("simulator worker %d had stopped: starting it again", i)
                self._workers[i] = _Worker(self, i)
        return min(self._workers, key=lambda w: len(w.live))

    def _check_size(self, code: str) -> None:
        size = len(code.encode("utf-8"))
        if size > self.max_code_bytes:
            raise SimRunError(
                413,
                Text(
                    f"the program is too long ({size} bytes): at most "
                    f"{self.max_code_bytes} bytes can run; make it shorter",
                    f"程序太长（{size} 字节）：最多只能运行 {self.max_code_bytes} 字节，请缩短",
                ),
            )

    def get(self, run_id: str) -> SimRun | None:
        """The run ``run_id`` (running, or one of the last ``keep_ended`` to end)."""
        with self._lock:
            return self._runs.get(run_id)

    def of(self, owner: str) -> SimRun | None:
        """``owner``'s latest run, if it is still known."""
        with self._lock:
            return self._by_owner.get(owner)

    def stop(self, which: str, reason: str = "stop") -> bool:
        """Stop the run ``which`` (a run id, else an owner); False when nothing was running."""
        run = self.get(which) or self.of(which)
        if run is None or run.ended:
            return False
        run.stop(reason)
        return True

    def stop_all(self, reason: str = "estop") -> int:
        """Stop every run (the teacher's STOP ALL); how many were running."""
        runs = self.running()
        for run in runs:
            run.stop(reason)
        return len(runs)

    def running(self) -> list[SimRun]:
        """The runs that have not ended."""
        with self._lock:
            return [r for r in self._runs.values() if not r.ended]

    def _ended_run(self, run_id: str) -> None:
        with self._lock:
            self._ended.append(run_id)
            while len(self._ended) > self._keep_ended:
                gone = self._runs.pop(self._ended.popleft(), None)
                if gone is not None and self._by_owner.get(gone.owner) is gone:
                    del self._by_owner[gone.owner]

    def _close(self) -> None:
        """Stop every run, wait for their ends, stop the workers."""
        with self._lock:  # a start() under way has registered its run; the next ones refuse
            pass
        self.stop_all("closing")
        for worker in self._workers:
            worker.close()


def _lesson_path(lesson: Lesson | str | Path) -> str:
    return str((lesson.path if isinstance(lesson, Lesson) else Path(lesson)).resolve())
