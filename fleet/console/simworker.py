"""``python -m fleet.console.simworker``: students' runs in the simulator, beside the console.

A class's real-time runs are many threads of busy Python (each robot's
world stepping 100 times a second, its server answering the program's
every call, its output, its pictures); in the console's own process they
would take its GIL from the web pages (and the e-stop). So the console
(:class:`fleet.console.simruns.SimRuns`) starts a few of these workers and
each runs its share of the class: :func:`lessons.runner.run_lesson` with the
real sandbox and the simulator on the wall clock, and one sampler thread that
reads every robot of the worker (:class:`fleet.console.simprobe.Probe`).

It talks JSON lines. Commands on stdin::

    {"op": "start", "run": "ID", "lesson": "/path/to/lesson", "code": "...",
     "camera": false, "nice": 10, "pose_hz": 20, "camera_hz": 5}
    {"op": "grade", "run": "ID", "lesson": ..., "code": ..., "nice": 19}   # a hand-in
    {"op": "stop", "run": "ID"}
    {"op": "warm", "lesson": "/path/to/lesson", "nice": 10}   # before a class: be ready

Events on stdout, ``{"run": "ID", "kind": KIND, "data": {...}}``: ``world``,
``pose``, ``output``, ``camera`` and last ``end`` (see :mod:`fleet.console.simruns`).
When stdin closes (the console closes, or dies), every run stops and the worker
exits once their ends are written.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import queue
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import IO, Any

import numpy as np
import numpy.typing as npt

from fleet.console.simprobe import Probe, camera_jpeg, world_event
from hardware.telemetry import Recorder
from lessons.errors import LessonError
from lessons.model import Lesson, load_lesson
from lessons.program import limits_for
from lessons.runner import run_lesson
from rcbase.i18n import Text
from rcbase.threads import join_thread

__all__ = ["MAX_OUTPUT_CHARS", "MAX_OUTPUT_LINES", "Worker", "main"]

logger = logging.getLogger(__name__)

#: What one run sends of its program's output: lines, and characters in all.
MAX_OUTPUT_LINES = 1000
MAX_OUTPUT_CHARS = 200_000
#: Programs of one worker that may be starting at once (Python's start and imports, the
#: sandbox's namespaces: half a second of CPU each); the others' robots are shown meanwhile.
STARTING_AT_ONCE = 3
#: Graded runs (hand-ins, on simulated time: as fast as the CPU goes) one worker runs at once;
#: the others wait their turn, first come first served.
GRADED_AT_ONCE = 1
#: A program that has not touched its robot or printed after this long stops counting as one.
STARTING_S = 3.0
_MORE_OUTPUT = Text(
    "the program printed more than the page shows: the rest is left out",
    "程序输出太多，页面只显示前面的部分",
)


@dataclasses.dataclass
class _Live:
    """One run in this worker."""

    id: str
    want_camera: bool
    graded: bool = False  # a hand-in: on simulated time, graded, nothing streamed but output
    stop: threading.Event = dataclasses.field(default_factory=threading.Event)
    probe: Probe | None = None
    warming: threading.Event | None = None  # set once this first run of its lesson has a robot
    starting: float | None = None  # when its program began to start (it holds a place)
    ended: bool = False
    lines: int = 0
    chars: int = 0
    frame: npt.NDArray[np.uint8] | None = None
    frames: int = 0
    frames_sent: int = 0
    camera_due: float = 0.0


class Worker:
    """Runs what the commands say and writes the events to ``out`` (see the module docstring)."""

    def __init__(self, out: IO[bytes]) -> None:
        self._out = out
        self._out_lock = threading.Lock()
        self._lock = threading.Lock()
        self._runs: dict[str, _Live] = {}
        self._threads: list[threading.Thread] = []
        self._lessons: dict[str, tuple[float, Lesson]] = {}
        self._warm: dict[str, threading.Event] = {}
        self._worlds: dict[str, tuple[tuple[object, ...], dict[str, Any]]] = {}
        self._starting = threading.BoundedSemaphore(STARTING_AT_ONCE)
        self._grading: queue.SimpleQueue[tuple[_Live, str, str, int] | None] = queue.SimpleQueue()
        self._graders = [
            threading.Thread(target=self._grade_loop, name="simworker-grader")
            for _ in range(GRADED_AT_ONCE)
        ]
        for grader in self._graders:
            grader.start()
        self._pose_period = 0.05
        self._camera_period = 0.2
        self._closing = threading.Event()
        self._sampler = threading.Thread(target=self._sample_loop, name="simworker-sampler")
        self._sampler.start()

    def command(self, message: dict[str, Any]) -> None:
        op = message.get("op")
        if op in ("start", "grade"):
            self._start(message)
        elif op == "warm":
            threading.Thread(
                target=self._warm_up,
                args=(str(message["lesson"]), int(message.get("nice", 0))),
                name="simworker-warm",
            ).start()
        elif op == "stop":
            with self._lock:
                live = self._runs.get(str(message.get("run")))
            if live is not None:
                live.stop.set()
        else:
            logger.warning("unknown command %r", op)

    def close(self) -> None:
        """Stop every run, wait for their ends, stop the sampler."""
        with self._lock:
            runs = list(self._runs.values())
            threads = list(self._threads)
        for live in runs:
            live.stop.set()  # a hand-in still waiting ends at once, stopped
        for _ in self._graders:
            self._grading.put(None)
        for thread in [*threads, *self._graders]:
            join_thread(thread, timeout=20)
        self._closing.set()
        join_thread(self._sampler, timeout=5)

    def _emit(self, run: str, kind: str, data: dict[str, Any]) -> None:
        line = json.dumps({"run": run, "kind": kind, "data": data}, ensure_ascii=False)
        with self._out_lock:
            try:
                self._out.write(line.encode() + b"\n")
                self._out.flush()
            except (OSError, ValueError):  # the console went: the runs stop when stdin ends
                logger.debug("no console to tell %s of run %s", kind, run)

    def _lesson(self, path: str) -> Lesson:
        """The lesson at ``path``, read again only when its lesson.yaml changed."""
        stamp = (Path(path) / "lesson.yaml").stat().st_mtime
        known = self._lessons.get(path)
        if known is None or known[0] != stamp:
            known = (stamp, load_lesson(path))
            self._lessons[path] = known
        return known[1]

    def _warm_up(self, lesson_path: str, nice: int) -> None:
        """Run an empty program for the lesson once, so that the class's first runs find its
        world read, its kit parsed and Python's files in the page cache."""
        with self._lock:
            if lesson_path in self._warm:
                return
            warming = self._warm[lesson_path] = threading.Event()
        try:
            with tempfile.TemporaryDirectory(prefix="roboclass-simwarm-") as folder:
                empty = Path(folder) / "main.py"
                empty.write_text("pass\n", encoding="utf-8")
                lesson = self._lesson(lesson_path)
                limits = dataclasses.replace(limits_for(30), nice=nice)
                run_lesson(lesson, code=empty, wall_limit=30, limits=limits)
        except (LessonError, OSError) as exc:
            logger.warning("could not warm up for %s: %s", lesson_path, exc)
        finally:
            warming.set()
            self._emit("", "warm", {"lesson": lesson_path})

    def _start(self, message: dict[str, Any]) -> None:
        graded = message.get("op") == "grade"
        live = _Live(str(message["run"]), bool(message.get("camera")), graded)
        args = (live, str(message["lesson"]), str(message["code"]), int(message.get("nice", 0)))
        with self._lock:
            self._runs[live.id] = live
        if graded:
            self._grading.put(args)
            return
        self._pose_period = 1.0 / float(message.get("pose_hz", 20.0))
        self._camera_period = 1.0 / float(message.get("camera_hz", 5.0))
        thread = threading.Thread(target=self._run, args=args, name="simworker-run")
        with self._lock:
            self._threads.append(thread)
        thread.start()

    def _grade_loop(self) -> None:
        while (job := self._grading.get()) is not None:
            self._run(*job)

    def _run(self, live: _Live, lesson_path: str, code: str, nice: int) -> None:
        folder = Path(tempfile.mkdtemp(prefix="roboclass-simrun-"))
        end: dict[str, Any]
        with self._lock:  # the first run of a lesson reads its world; the others then share it
            warm = self._warm.get(lesson_path)
            if warm is None:
                live.warming = self._warm[lesson_path] = threading.Event()
        if warm is not None:
            warm.wait(timeout=30)
        try:
            lesson = self._lesson(lesson_path)
            path = folder / "main.py"
            path.write_text(code, encoding="utf-8")
            limits = dataclasses.replace(limits_for(lesson.model.wall_limit), nice=nice)
            if live.stop.is_set():
                end = {"lesson": lesson.id, "status": "stopped", "score": 0, "error": None}
            elif live.graded:
                end = run_lesson(
                    lesson,
                    code=path,
                    on_line=lambda stream, line: self._line(live, stream, line),
                    stop=live.stop,
                    limits=limits,
                ).as_dict()
                end.pop("output", None)
            else:
                end = run_lesson(
                    lesson,
                    code=path,
                    realtime=True,
                    on_line=lambda stream, line: self._line(live, stream, line),
                    stop=live.stop,
                    on_frame=(lambda frame: self._seen(live, frame)) if live.want_camera else None,
                    on_start=lambda backend, rec: self._ready(live, lesson, backend, rec),
                    limits=limits,
                ).as_dict()
                end.pop("output", None)  # the page has it, line by line
        except (LessonError, OSError) as exc:
            logger.warning("run %s could not run: %s", live.id, exc)
            end = {"status": "error", "score": 0, "error": str(exc)}
        except Exception:
            logger.exception("run %s failed", live.id)
            end = {"status": "error", "score": 0, "error": "the console could not run the program"}
        finally:
            if live.warming is not None:
                live.warming.set()
            self._started(live)
            shutil.rmtree(folder, ignore_errors=True)
        with self._lock:
            live.ended = True  # the sampler leaves it alone from here
            probe, live.probe, live.frame = live.probe, None, None
        if probe is not None:  # where the robot came to rest, motors and all
            self._emit(live.id, "pose", probe.pose())
        self._emit(live.id, "end", end)
        with self._lock:
            self._runs.pop(live.id, None)
            self._threads = [
                t for t in self._threads if t.is_alive() and t is not threading.current_thread()
            ]

    def _ready(self, live: _Live, lesson: Lesson, backend: Any, recorder: Recorder) -> None:
        if live.warming is not None:
            live.warming.set()
        probe = Probe(backend)
        self._emit(live.id, "world", self._world(lesson, backend))
        self._emit(live.id, "pose", probe.pose())  # the robot where it starts, now
        live.probe = probe
        # A class pressing Run together would start 40 Pythons at once and starve everything,
        # the pages included; here they start a few at a time, each robot shown meanwhile (the
        # run's time limits start after this).
        while not self._starting.acquire(timeout=0.1):
            if live.stop.is_set():
                return
        live.starting = time.monotonic()
        recorder.listen(lambda sample: self._started(live))

    def _world(self, lesson: Lesson, backend: Any) -> dict[str, Any]:
        """The lesson's world event, made once for all its runs (the same lesson, world file
        and kit: the same objects, shared by their caches)."""
        made = self._worlds.get(str(lesson.path))
        sources = (lesson, backend.world.model, backend.kit)
        if made is None or any(a is not b for a, b in zip(made[0], sources, strict=True)):
            made = (sources, world_event(lesson, backend))
            self._worlds[str(lesson.path)] = made
        return made[1]

    def _started(self, live: _Live) -> None:
        """``live``'s program is up (it used its robot, printed, or ended): another may start."""
        if live.starting is None:  # the common case, every robot call: no lock
            return
        with self._lock:
            held, live.starting = live.starting is not None, None
        if held:
            self._starting.release()

    def _line(self, live: _Live, stream: str, line: str) -> None:
        self._started(live)
        if live.lines > MAX_OUTPUT_LINES or live.chars > MAX_OUTPUT_CHARS:
            return
        live.lines += 1
        live.chars += len(line)
        if live.lines > MAX_OUTPUT_LINES or live.chars > MAX_OUTPUT_CHARS:
            stream, line = "stderr", f"[roboclass] {_MORE_OUTPUT.en} / {_MORE_OUTPUT.zh}"
        self._emit(live.id, "output", {"stream": stream, "line": line})

    @staticmethod
    def _seen(live: _Live, frame: npt.NDArray[np.uint8]) -> None:
        live.frame = frame  # a reference only: the sampler makes a JPEG of the newest
        live.frames += 1

    def _sample_loop(self) -> None:
        due = time.monotonic()
        while not self._closing.wait(max(0.0, due - time.monotonic())):
            now = time.monotonic()
            due = max(due + self._pose_period, now)  # late: carry on from now, no burst
            with self._lock:
                runs = [r for r in self._runs.values() if r.probe is not None and not r.ended]
            for live in runs:
                if live.starting is not None and now - live.starting > STARTING_S:
                    self._started(live)  # slow, or busy with no robot: let the next one start
                try:
                    self._sample(live, now)
                except Exception:  # the robot closed between two looks: the end follows
                    logger.debug("run %s: no pose", live.id, exc_info=True)

    def _sample(self, live: _Live, now: float) -> None:
        probe = live.probe
        if probe is None:
            return
        self._emit(live.id, "pose", probe.pose())
        frame = live.frame
        if frame is not None and live.frames != live.frames_sent and now >= live.camera_due:
            live.frames_sent, live.camera_due = live.frames, now + self._camera_period
            self._emit(live.id, "camera", camera_jpeg(frame))


def main() -> int:
    logging.basicConfig(level=logging.WARNING, format="simworker %(levelname)s %(message)s")
    worker = Worker(sys.stdout.buffer)
    try:
        for raw in sys.stdin.buffer:
            try:
                worker.command(json.loads(raw))
            except (ValueError, KeyError, TypeError) as exc:
                logger.warning("bad command: %s", exc)
    finally:
        worker.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
