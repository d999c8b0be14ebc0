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
keeps it in the data folder, where the next run finds it.
"""

from __future__ import annotations

import collections
import hashlib
import importlib.util
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
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
from lessons.grading import Grade, Run, RunStatus
from lessons.model import Lesson, load_lesson
from lessons.needs import check_models
from lessons.sandbox import Limits, Sandbox, SandboxedProcess, available, default_limits
from models import Registry, default_roots
from models.manifest import load_manifest
from rcbase import paths
from rcbase.files import write_atomic

__all__ = ["LessonResult", "Outcome", "run_lesson"]

logger = logging.getLogger(__name__)

OUTPUT_TAIL_LINES = 400
MAX_LINE = 2000
#: Where the program's own data folder is, inside its work folder.
OWN_DATA = ".roboclass"
#: The largest model file the runner keeps from a program's export.
MAX_EXPORTED_MODEL = 64 * 1024**2


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


def _open_backend(lesson: Lesson, backend: str, kit: KitProfile, world: str | None) -> Any:
    if backend != "sim":
        return open_backend(backend, kit)
    chosen = world or lesson.model.world
    if chosen and chosen.endswith((".yaml", ".yml")):
        chosen = str(lesson.file(chosen))
    return open_backend("sim", kit, world=chosen, realtime=False, start=lesson.model.start)


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
) -> LessonResult:
    """Run ``code`` (default: the lesson's starter) for the lesson and grade it.

    ``backend="sim"`` runs in the simulator on simulated time; another
    backend name drives a real robot in real time. ``stop`` (e.g. the
    e-stop) ends the run: the robot stops at once and the result says
    ``stopped``. ``on_frame`` sees each camera frame the student's program
    reads (a reference only: the fleet agent's live preview). ``cache_dir``
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
    robot = _open_backend(lesson, backend, kit_profile, world)
    recorder = Recorder(robot.clock)
    parent_sock, child_sock = socket.socketpair()
    server = RobotServer(
        robot, parent_sock, recorder=recorder, time_limit=robot.clock() + limit, on_frame=on_frame
    )
    tail: collections.deque[str] = collections.deque(maxlen=OUTPUT_TAIL_LINES)
    exit_code: int | None = None
    with tempfile.TemporaryDirectory(prefix="roboclass-lesson-") as folder:
        work = Path(folder)
        try:
            proc = _start_program(
                work,
                lesson,
                student,
                kit=kit,
                profile=kit_profile,
                places=places,
                fd=child_sock.fileno(),
                fast=backend == "sim",
                limits=limits or _limits_for(wall),
                confined=_must_confine(unconfined_ok),
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
        _keep_exported_models(
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
    )


def _kit_file(lesson: Lesson, kit: str | None) -> Path | None:
    """The lesson's own kit profile (``hardware: {kit: kit.yaml}`` beside lesson.yaml), if any."""
    name = kit or lesson.model.hardware.kit
    if name.endswith((".yaml", ".yml")) and lesson.file(name).is_file():
        return lesson.file(name)
    return None


def _kit_for(lesson: Lesson, kit: str | None) -> KitProfile:
    profile = load_kit(_kit_file(lesson, kit) or kit or lesson.model.hardware.kit)
    missing = [p for p in lesson.model.hardware.parts if p not in profile.parts]
    if missing:
        raise RunnerError(
            f"kit {profile.name!r} lacks what lesson {lesson.id!r} needs: {', '.join(missing)}"
        )
    return profile


def _prepare(work: Path, lesson: Lesson, student: Path) -> Path:
    """Copy the student's code and the lesson's assets (not its grader or solution) into ``work``."""
    entry = work / lesson.model.entry
    shutil.copyfile(student, entry)
    hidden = {"check.py", "solution.py", "lesson.yaml", lesson.model.entry}
    for extra in lesson.path.iterdir():
        if extra.is_file() and extra.name not in hidden:
            shutil.copyfile(extra, work / extra.name)
    return entry


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


def _start_program(
    work: Path,
    lesson: Lesson,
    student: Path,
    *,
    kit: str | None,
    profile: KitProfile,
    places: dict[str, str],
    fd: int,
    fast: bool,
    limits: Limits,
    confined: bool,
) -> SandboxedProcess:
    """Copy the program into ``work`` and start it in a sandbox with the robot on ``fd``."""
    entry = _prepare(work, lesson, student)
    box = Sandbox(work=work, read_only=_readable(places), limits=limits, confined=confined)
    own_kit = _kit_file(lesson, kit)  # the child loads the lesson's kit from its copy
    kit_ref = str(box.inside(work / own_kit.name)) if own_kit else profile.name
    box.env = _child_env(kit_ref, fd, _own_data(box, places), box.inside(work), fast=fast)
    return box.start(
        [sys.executable, "-m", "lessons.child", str(box.inside(entry))],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        pass_fds=(fd,),
    )


def _limits_for(wall: float) -> Limits:
    """This computer's limits, with CPU time a little past the wall limit."""
    base = default_limits()
    return Limits(memory_bytes=base.memory_bytes, cpu_seconds=int(wall) + 5)


def _must_confine(unconfined_ok: bool) -> bool:
    """Whether the program must run in a sandbox (:class:`SandboxError` when none can be made)."""
    found = available()
    if found.ok:
        return True
    if unconfined_ok and os.environ.get("CI", "").lower() != "true":
        return False
    raise SandboxError(
        f"no sandbox for the student's program: {found.reason}; fix: {found.fix} "
        "(roboclass doctor checks it)"
    )


def _own_data(box: Sandbox, places: dict[str, str]) -> dict[str, str]:
    """The program's data folder, inside its work folder: the models of this computer's data
    folder seen through links (read-only), and room for a model it exports. The cache stays
    where it is, read-only."""
    work = box.work
    if work is None:
        raise RunnerError("a lesson's sandbox needs a work folder")
    real = Path(places["ROBOCLASS_DATA_DIR"]) / "models"
    own = work / OWN_DATA / "models"
    own.mkdir(parents=True)
    if real.is_dir():
        for file in real.iterdir():
            if file.suffix == ".onnx":
                (own / file.name).symlink_to(file)
            elif file.suffix in (".yaml", ".yml") and file.is_file():
                shutil.copyfile(file, own / file.name)  # small; a program may write over its copy
    return {
        "ROBOCLASS_DATA_DIR": str(box.inside(work / OWN_DATA)),
        "ROBOCLASS_CACHE_DIR": places["ROBOCLASS_CACHE_DIR"],
    }


def _readable(places: dict[str, str]) -> list[Path]:
    """What the program may read besides Python and our packages: the models on this computer."""
    return [
        Path(places["ROBOCLASS_DATA_DIR"]) / "models",
        Path(places["ROBOCLASS_CACHE_DIR"]) / "models",
    ]


def _keep_exported_models(own: Path, real: Path) -> None:
    """Keep the models the program exported (real files, not links), once checked here."""
    if not own.is_dir():
        return
    for manifest_path in sorted(own.glob("*.yaml")):
        try:
            manifest = load_manifest(manifest_path)
            model = own / manifest.file
            if (
                model.is_symlink()
                or not model.is_file()
                or model.parent != own
                or model.stat().st_size > MAX_EXPORTED_MODEL
            ):
                continue
            data = model.read_bytes()
            if hashlib.sha256(data).hexdigest() != manifest.sha256:
                logger.warning(
                    "exported model %s does not match its manifest: not kept", model.name
                )
                continue
            old = real / manifest_path.name
            if old.is_file() and old.read_bytes() == manifest_path.read_bytes():
                continue  # the copy it was given, unchanged
        except (OSError, ValueError) as exc:
            logger.warning("exported model %s not kept: %s", manifest_path.name, exc)
            continue
        real.mkdir(parents=True, exist_ok=True)
        write_atomic(real / manifest.file, data)
        write_atomic(real / manifest_path.name, manifest_path.read_bytes())
        logger.info("kept the exported model %s (%d bytes)", manifest.name, len(data))


def _child_env(
    kit: str, fd: int, places: dict[str, str], home: Path, *, fast: bool
) -> dict[str, str]:
    """The program's whole environment (nothing of this process's own is passed on)."""
    return {
        **places,
        "ROBOCLASS_BACKEND": "remote",
        "ROBOCLASS_KIT": kit,
        "ROBOCLASS_REMOTE_FD": str(fd),
        "ROBOCLASS_SIM_FAST": "1" if fast else "0",
        "ROBOCLASS_CONFIG_DIR": str(home),  # no robot.yaml of this computer leaks in
        "PYTHONUNBUFFERED": "1",
    }


def _watch(
    proc: SandboxedProcess, server: RobotServer, stop: threading.Event | None, deadline: float
) -> RunStatus:
    """Wait for the child to end, the e-stop, or the wall deadline; returns how it ended."""
    while True:
        try:
            proc.wait(timeout=0.05)
            return RunStatus.FINISHED
        except subprocess.TimeoutExpired:
            pass
        if stop is not None and stop.is_set():
            server.estop()  # the robot stops now, whatever the child does
            return RunStatus.STOPPED
        if time.monotonic() > deadline:
            server.estop()
            return RunStatus.TIMEOUT


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
        error = f"the program ran longer than {wall:g} s (an endless loop?) and was stopped"
    elif status is RunStatus.STOPPED:
        error = "stopped by the teacher (e-stop)"
    elif time_up:
        status = RunStatus.TIME_UP
    elif exit_code is not None and exit_code < 0:
        status = RunStatus.CRASHED
        error = f"the program was killed by {signal.Signals(-exit_code).name}"
        if -exit_code == signal.SIGXCPU:
            error += " (it used more CPU time than allowed)"
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
