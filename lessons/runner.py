"""Run a lesson: the student's code in a sandbox, the robot and the grader here.

The robot (the simulator, or the real robot's backend) stays in this
trusted process behind a :class:`hardware.remote.RobotServer`; the student's
code runs in :mod:`lessons.sandbox` (its own user, PID and network
namespaces, only its work folder writable, memory and process limits for
the whole tree) with a wall time limit, and drives the robot through the
server's socket, the only way out. Whatever the child does — an error, an
endless loop, a crash, a memory blow-up, a fork bomb, an e-stop — the robot
ends stopped, every process it made ends, and the grader (``check.py``)
runs here, from the lesson's own folder the child never saw, on what the
server recorded and the simulator's ground truth.

A model the program exports (``vision.teach``) is written inside its work
folder; after the run this process checks it (manifest, sha256, size) and
keeps it in the data folder, where the next run finds it. The program's
folder, environment and models are :mod:`lessons.program`'s job; running
it, watching it and grading it are this module's.
"""

from __future__ import annotations

import collections
import importlib.util
import logging
import signal
import socket
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import IO, Any

from hardware.backends import open_backend
from hardware.kit import KitProfile, load_kit
from hardware.remote import RobotServer
from hardware.sim.truth import SimTruth, truth_of
from hardware.telemetry import Recorder
from lessons.errors import RunnerError, SandboxError
from lessons.explain import explain
from lessons.grading import Grade, Run, RunStatus
from lessons.model import Lesson, load_lesson
from lessons.needs import check_models
from lessons.program import (
    OWN_DATA,
    keep_exported_models,
    kit_file,
    limits_for,
    must_confine,
    start_program,
)
from lessons.sandbox import Limits, SandboxedProcess
from models import Registry, default_roots
from rcbase import paths

__all__ = ["LessonResult", "Outcome", "run_lesson"]

logger = logging.getLogger(__name__)

OUTPUT_TAIL_LINES = 400
MAX_LINE = 2000


class Outcome(StrEnum):
    """What a run of a lesson came to."""

    PASSED = "passed"  # the grade reached the lesson's pass score
    FAILED = "failed"  # the program ran, the grade did not reach it
    ERROR = "error"  # the program failed (an exception or a crash) and did not pass
    TIMEOUT = "timeout"  # the program ran past the wall-clock limit
    STOPPED = "stopped"  # the e-stop ended the run


@dataclass
class LessonResult:
    """The outcome of one run of a lesson."""

    lesson: str
    status: Outcome
    score: int
    run_status: RunStatus
    grade: Grade
    seconds: float
    wall_seconds: float
    error: str | None = None
    output: str = ""
    reports: list[dict[str, Any]] = field(default_factory=list)
    #: What went wrong, at the student's line, for a child (:mod:`lessons.explain`), or None.
    explanation: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "lesson": self.lesson,
            "status": self.status.value,
            "score": self.score,
            "run_status": self.run_status.value,
            **{k: v for k, v in self.grade.as_dict().items() if k != "score"},
            "seconds": round(self.seconds, 3),
            "wall_seconds": round(self.wall_seconds, 3),
            "error": self.error,
            "output": self.output,
            "reports": self.reports,
            "explanation": self.explanation,
        }


def _pump(
    stream: IO[str],
    name: str,
    tail: collections.deque[str],
    on_line: Callable[[str, str], None] | None,
) -> None:
    for raw in stream:
        line = raw.rstrip("\n")[:MAX_LINE]
        tail.append(line)
        if on_line is not None:
            try:
                on_line(name, line)
            except Exception:  # a listener's bug must not stop the output
                logger.exception("output listener failed")
    stream.close()


def _start_pumps(
    proc: SandboxedProcess,
    tail: collections.deque[str],
    on_line: Callable[[str, str], None] | None,
) -> list[threading.Thread]:
    """Threads that read the program's output into ``tail`` (and ``on_line``) until it ends."""
    pumps = [
        threading.Thread(target=_pump, args=(s, n, tail, on_line), daemon=True)
        for s, n in ((proc.proc.stdout, "stdout"), (proc.proc.stderr, "stderr"))
    ]
    for p in pumps:
        p.start()
    return pumps


def _truth(backend: Any) -> SimTruth:
    """The simulator's ground truth about the robot (empty on a real robot)."""
    body = getattr(backend, "body", None)
    if body is None:
        return SimTruth()
    return truth_of(backend.world, body, getattr(backend, "outputs", {}))


def _load_grader(lesson: Lesson) -> Callable[[Run], Grade]:
    spec = importlib.util.spec_from_file_location(
        f"roboclass_check_{lesson.id.replace('-', '_')}", lesson.file("check.py")
    )
    if spec is None or spec.loader is None:
        raise RunnerError(f"cannot load {lesson.file('check.py')}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    grade: Callable[[Run], Grade] = module.grade
    return grade


def _open_backend(
    lesson: Lesson, backend: str, kit: KitProfile, world: str | None, *, realtime: bool = False
) -> Any:
    if backend != "sim":
        return open_backend(backend, kit)
    chosen = world or lesson.model.world
    if chosen and chosen.endswith((".yaml", ".yml")):
        chosen = str(lesson.file(chosen))
    return open_backend("sim", kit, world=chosen, realtime=realtime, start=lesson.model.start)


def _open_robot(
    lesson: Lesson,
    backend: str,
    kit: KitProfile,
    world: str | None,
    realtime: bool,
    on_start: Callable[[Any, Recorder], None] | None,
) -> tuple[Any, Recorder]:
    """The robot and the recorder of its run, shown to ``on_start`` (a live view)."""
    robot = _open_backend(lesson, backend, kit, world, realtime=realtime)
    recorder = Recorder(robot.clock)
    if on_start is not None:
        try:
            on_start(robot, recorder)
        except Exception:  # a live view's bug must not stop the run
            logger.exception("run listener failed")
    return robot, recorder


def run_lesson(
    lesson_dir: str | Path | Lesson,
    *,
    code: str | Path | None = None,
    backend: str = "sim",
    kit: str | None = None,
    world: str | None = None,
    time_limit: float | None = None,
    wall_limit: float | None = None,
    on_line: Callable[[str, str], None] | None = None,
    stop: threading.Event | None = None,
    on_frame: Callable[[Any], None] | None = None,
    cache_dir: Path | None = None,
    limits: Limits | None = None,
    unconfined_ok: bool = False,
    realtime: bool = False,
    on_start: Callable[[Any, Recorder], None] | None = None,
) -> LessonResult:
    """Run ``code`` (default: the lesson's starter) for the lesson and grade it.

    ``backend="sim"`` runs in the simulator on simulated time; another
    backend name drives a real robot in real time. ``stop`` (e.g. the
    e-stop) ends the run: the robot stops at once and the result says
    ``stopped``. ``on_frame`` sees each camera frame the student's program
    reads (a reference only: the fleet agent's live preview). ``realtime``
    runs the simulator on the wall clock, for a student who watches (the
    program's ``time`` is then real time too). ``on_start(robot, recorder)``
    is called once the robot is ready, before the program starts: a live
    view keeps them to read the robot's pose and sensors while it runs (from
    its own thread, holding ``robot.world.view.held()`` in the simulator).
    ``cache_dir``
    is the robot's cache folder (default: this process's), whose ``models/``
    holds models the console sent; the program finds models where this
    process would. A model the lesson needs that is not there raises
    :class:`ModelMissingError` before anything starts. The program runs in
    :mod:`lessons.sandbox` with ``limits`` (default: sized from this
    computer's memory); where no sandbox can be made, :class:`SandboxError`
    says how to fix it and nothing runs — unless ``unconfined_ok`` (a
    student's own file on their own computer, never pushed code, never with
    ``CI=true``): then it runs with the limits only, and a warning says so.
    """
    lesson = lesson_dir if isinstance(lesson_dir, Lesson) else load_lesson(lesson_dir)
    m = lesson.model
    student = Path(code) if code is not None else lesson.file("starter.py")
    if not student.is_file():
        raise RunnerError(f"no such file: {student}")
    kit_profile, places = _needs(lesson, kit, cache_dir)
    limit = time_limit or m.time_limit
    wall = wall_limit or m.wall_limit
    robot, recorder = _open_robot(lesson, backend, kit_profile, world, realtime, on_start)
    parent_sock, child_sock = socket.socketpair()
    server = RobotServer(
        robot, parent_sock, recorder=recorder, time_limit=robot.clock() + limit, on_frame=on_frame
    )
    tail: collections.deque[str] = collections.deque(maxlen=OUTPUT_TAIL_LINES)
    exit_code: int | None = None
    with tempfile.TemporaryDirectory(prefix="roboclass-lesson-") as folder:
        work = Path(folder)
        try:
            proc = start_program(
                work,
                lesson,
                student,
                kit=kit,
                profile=kit_profile,
                places=places,
                fd=child_sock.fileno(),
                fast=backend == "sim" and not realtime,
                limits=limits or limits_for(wall),
                confined=must_confine(unconfined_ok),
            )
        except (OSError, SandboxError) as exc:
            server.close()
            robot.close()
            if isinstance(exc, SandboxError):
                raise
            raise RunnerError(f"cannot start the student's program: {exc}") from exc
        finally:
            child_sock.close()
        started = time.monotonic()
        pumps = _start_pumps(proc, tail, on_line)
        try:
            status = _watch(proc, server, stop, started + wall)
        finally:
            oom = proc.oom_killed
            proc.close()  # every process the program made ends here
            exit_code = proc.returncode
            for p in pumps:
                p.join(timeout=5)
            robot.stop_all()
            server.close()
            wall_seconds = time.monotonic() - started
            seconds = robot.clock()
            truth = _truth(robot)
            robot.close()
        keep_exported_models(
            work / OWN_DATA / "models", Path(places["ROBOCLASS_DATA_DIR"]) / "models"
        )
    status, error = _classify(status, exit_code, server.time_up, tail, wall, oom=oom)
    run = Run(
        status=status,
        exit_code=exit_code,
        error=error,
        output="\n".join(tail),
        seconds=seconds,
        wall_seconds=wall_seconds,
        telemetry=recorder.samples,
        reports=list(server.reports),
        truth=truth,
        params=dict(m.grading.params),
    )
    grade = _load_grader(lesson)(run)
    outcome = _outcome(status, grade.score, m.grading.pass_score)
    return LessonResult(
        lesson=m.id,
        status=outcome,
        score=grade.score,
        run_status=status,
        grade=grade,
        seconds=seconds,
        wall_seconds=wall_seconds,
        error=error,
        output=run.output,
        reports=run.reports,
        explanation=_explanation(run, student, m.entry),
    )


def _explanation(run: Run, student: Path, entry: str) -> dict[str, Any] | None:
    """The run explained for the student; a bug in explaining never costs the grade."""
    try:
        found = explain(
            run.output,
            student.read_text(encoding="utf-8", errors="replace"),
            entry=entry,
            status=run.status,
            error=run.error,
        )
    except Exception:
        logger.exception("could not explain the run")
        return None
    return found.to_json() if found is not None else None


def _kit_for(lesson: Lesson, kit: str | None) -> KitProfile:
    profile = load_kit(kit_file(lesson, kit) or kit or lesson.model.hardware.kit)
    missing = [p for p in lesson.model.hardware.parts if p not in profile.parts]
    if missing:
        raise RunnerError(
            f"kit {profile.name!r} lacks what lesson {lesson.id!r} needs: {', '.join(missing)}"
        )
    return profile


def _needs(
    lesson: Lesson, kit: str | None, cache_dir: Path | None
) -> tuple[KitProfile, dict[str, str]]:
    """What the lesson needs, checked: the kit's parts, and its models where the program will
    look. The program gets this process's data and cache folders (the agent's service sets
    them; they are folders, not settings), so it finds the same models."""
    here = paths()
    places = {
        "ROBOCLASS_DATA_DIR": str(here.data),
        "ROBOCLASS_CACHE_DIR": str(cache_dir or here.cache),
    }
    profile = _kit_for(lesson, kit)
    check_models(lesson, Registry(default_roots(places)))
    return profile, places


def _watch(
    proc: SandboxedProcess, server: RobotServer, stop: threading.Event | None, deadline: float
) -> RunStatus:
    """Wait for the child to end, the e-stop, or the wall deadline; returns how it ended.

    One look every 50 ms (a class of runs on the console costs 20 wake-ups a second
    each, not ``Popen.wait``'s polling); the e-stop is seen at once."""
    tick = stop if stop is not None else threading.Event()
    while True:
        if proc.poll() is not None:
            return RunStatus.FINISHED
        if stop is not None and stop.is_set():
            server.estop()  # the robot stops now, whatever the child does
            return RunStatus.STOPPED
        if time.monotonic() > deadline:
            server.estop()
            return RunStatus.TIMEOUT
        tick.wait(0.05)


def _classify(
    status: RunStatus,
    exit_code: int | None,
    time_up: bool,
    tail: collections.deque[str],
    wall: float,
    *,
    oom: bool = False,
) -> tuple[RunStatus, str | None]:
    """The run's status and the one line that explains it (``oom``: the kernel ended a
    process of the program for the memory of the whole sandbox)."""
    error: str | None = None
    if oom and status is RunStatus.FINISHED:
        tail.append("MemoryError: the program's processes used too much memory together")
        exit_code = 1
    if status is RunStatus.TIMEOUT:
        error = (
            f"the program ran longer than {wall:g} s (an endless loop?) and was stopped / "
            f"程序运行超过了 {wall:g} 秒（是不是有死循环？），已被停止"
        )
    elif status is RunStatus.STOPPED:
        error = "stopped by the teacher (e-stop) / 老师按了紧急停止"
    elif time_up:
        status = RunStatus.TIME_UP
    elif exit_code is not None and exit_code < 0:
        status = RunStatus.CRASHED
        name = signal.Signals(-exit_code).name
        en, zh = f"the program was killed by {name}", f"程序被信号 {name} 结束了"
        if -exit_code == signal.SIGXCPU:
            en += " (it used more CPU time than allowed)"
            zh += "（它用的 CPU 时间超过了允许的量）"
        error = f"{en} / {zh}"
    elif exit_code:
        status = RunStatus.ERROR
        error = next(
            (line for line in reversed(tail) if line and not line.startswith(" ")), "error"
        )
        if "MemoryError" in error:
            error += " (the program used more memory than allowed / 程序用的内存超过了允许的量)"
        elif "BlockingIOError" in error or "Resource temporarily unavailable" in error:
            error += " (the program started more processes than allowed / 程序启动的进程太多了)"
    return status, error


def _outcome(status: RunStatus, score: int, pass_score: int) -> Outcome:
    if status is RunStatus.STOPPED:
        return Outcome.STOPPED
    if status is RunStatus.TIMEOUT:
        return Outcome.TIMEOUT
    if score >= pass_score:
        return Outcome.PASSED
    return Outcome.ERROR if status in (RunStatus.ERROR, RunStatus.CRASHED) else Outcome.FAILED
