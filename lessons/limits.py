"""What a sandboxed program may use, and how it is held to it.

:class:`Limits` (sized from this computer by :func:`default_limits`) holds
for the whole tree of a program's processes: memory and processes in a
cgroup of its own (:class:`Cgroup`, where :func:`cgroup_kind` says one can
be made: cgroup v1 or v2, as root), and per process the rlimits and
``oom_score_adj`` that :func:`prepare_child` sets in the child before it
becomes the program. :mod:`lessons.sandbox` uses them for every program::

    limits = default_limits()
    kind = cgroup_kind()
    if kind is not None:
        with Cgroup(kind, limits.memory_bytes, limits.processes) as group:
            ...  # Popen(..., preexec_fn=prepare_child(limits, group))
"""

from __future__ import annotations

import contextlib
import logging
import os
import resource
import signal
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rcbase.closeable import Closeable

__all__ = [
    "PER_PROCESS_SPACE",
    "Cgroup",
    "Limits",
    "cgroup_kind",
    "default_limits",
    "mem_total",
    "prepare_child",
]

logger = logging.getLogger(__name__)

_CGROUP = Path("/sys/fs/cgroup")
_MIB = 1024 * 1024
#: The least address space a process gets (what onnxruntime and OpenCV reserve at start).
PER_PROCESS_SPACE = 2 * 1024 * _MIB


@dataclass(frozen=True)
class Limits:
    """What one sandboxed program may use, in all."""

    memory_bytes: int
    processes: int = 128  # tasks: processes and their threads (numpy, onnxruntime)
    cpu_seconds: int = 120
    open_files: int = 256
    file_bytes: int = 64 * _MIB
    tmp_bytes: int = 64 * _MIB
    nice: int = 0  # how much less CPU priority than its runner (os.nice, 0-19)


def mem_total() -> int:
    """This computer's memory in bytes (from /proc/meminfo)."""
    with open("/proc/meminfo", encoding="ascii") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    return 1024 * _MIB  # pragma: no cover - every Linux has the line


def default_limits(*, share: float = 0.4, at_most: int = 1024 * _MIB) -> Limits:
    """Limits sized from this computer: ``share`` of its memory, at most ``at_most``.

    On a 512 MB Pi Zero 2 W that is about 200 MB for the student's program,
    which leaves the agent and the system room to stop the robot.
    """
    return Limits(memory_bytes=min(int(mem_total() * share), at_most))


def _own_cgroup(controller: str | None) -> Path | None:
    """This process's cgroup folder for ``controller`` (None: the v2 unified tree)."""
    try:
        lines = Path("/proc/self/cgroup").read_text(encoding="ascii").splitlines()
    except OSError:
        return None
    for line in lines:
        _, names, path = line.split(":", 2)
        if (controller is None and names == "") or (
            controller is not None and controller in names.split(",")
        ):
            root = _CGROUP if controller is None else _CGROUP / controller
            return root / path.lstrip("/")
    return None


def cgroup_kind() -> str | None:
    """``"v2"`` or ``"v1"``: the cgroups this process may make; None: it may make none."""
    if os.geteuid() != 0:
        return None  # only root may make cgroups here (a delegated service could; not yet)
    if (_CGROUP / "cgroup.controllers").is_file():
        return "v2"
    if (_CGROUP / "memory").is_dir() and (_CGROUP / "pids").is_dir():
        return "v1"
    return None


#: A sandbox cgroup left empty this long was left by a process that died (an agent killed
#: mid-job): the next sandbox removes it. Younger ones may be another sandbox starting.
STALE_S = 60.0


def _sweep(parent: Path) -> None:
    """Remove empty sandbox cgroups that a dead process left behind in ``parent``."""
    now = time.time()
    for old in parent.glob("roboclass-sandbox-*"):
        try:
            if now - old.stat().st_mtime > STALE_S and not (old / "cgroup.procs").read_text():
                old.rmdir()  # fails, harmlessly, if a process joined it meanwhile
                logger.info("removed the stale sandbox cgroup %s", old)
        except OSError:
            continue


class Cgroup(Closeable):
    """A cgroup of one sandbox: memory and processes for the whole tree."""

    def __init__(self, kind: str, memory_bytes: int, processes: int) -> None:
        self.kind = kind
        name = f"roboclass-sandbox-{uuid.uuid4().hex[:12]}"
        self.folders: list[Path] = []
        try:
            if kind == "v2":
                base = _own_cgroup(None)
                if base is None:
                    raise OSError("no cgroup v2 folder for this process")
                folder = base.parent / name if base != _CGROUP else base / name
                _sweep(folder.parent)
                folder.mkdir()
                self.folders.append(folder)
                (folder / "memory.max").write_text(str(memory_bytes))
                (folder / "memory.swap.max").write_text("0")
                (folder / "pids.max").write_text(str(processes))
            else:
                for controller, knob, value in (
                    ("memory", "memory.limit_in_bytes", memory_bytes),
                    ("pids", "pids.max", processes),
                ):
                    base = _own_cgroup(controller) or _CGROUP / controller
                    folder = base / name
                    _sweep(base)
                    folder.mkdir()
                    self.folders.append(folder)
                    (folder / knob).write_text(str(value))
                memsw = self.folders[0] / "memory.memsw.limit_in_bytes"
                if memsw.exists():  # no swap either, where the kernel counts it
                    with contextlib.suppress(OSError):
                        memsw.write_text(str(memory_bytes))
        except OSError:
            self._remove()
            raise

    def join(self) -> None:
        """Move the calling process in (run in the child before it becomes the program)."""
        for folder in self.folders:
            (folder / "cgroup.procs").write_text("0" if self.kind == "v2" else str(os.getpid()))

    def pids(self) -> list[int]:
        """The processes in the cgroup now."""
        found: set[int] = set()
        for folder in self.folders:
            with contextlib.suppress(OSError, ValueError):
                found.update(int(p) for p in (folder / "cgroup.procs").read_text().split())
        return sorted(found)

    def kill_all(self) -> None:
        """SIGKILL every process left in the cgroup."""
        kill = self.folders[0] / "cgroup.kill" if self.folders else None
        if kill is not None and kill.exists():
            with contextlib.suppress(OSError):
                kill.write_text("1")
        for _ in range(50):  # processes that fork while we kill: until none is left
            pids = self.pids()
            if not pids:
                return
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            threading.Event().wait(0.01)
        logger.warning("sandbox cgroup %s still has processes", self.folders[0])

    def oom_kills(self) -> int:
        """How often the kernel killed a process of this sandbox for memory."""
        if not self.folders:
            return 0
        events = self.folders[0] / ("memory.events" if self.kind == "v2" else "memory.oom_control")
        with contextlib.suppress(OSError, ValueError):
            for line in events.read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill":
                    return int(value)
        return 0

    def _remove(self) -> None:
        for folder in self.folders:
            with contextlib.suppress(OSError):
                folder.rmdir()

    def _close(self) -> None:
        self.kill_all()
        for _ in range(100):  # rmdir fails while the last process is being reaped
            self._remove()
            if not any(f.exists() for f in self.folders):
                return
            threading.Event().wait(0.01)
        logger.warning("could not remove the sandbox cgroup %s", self.folders[0])


def prepare_child(limits: Limits, cgroup: Cgroup | None) -> Callable[[], None]:
    """What the child does before it becomes bwrap: limits that it and the program inherit."""

    def apply() -> None:
        os.setsid()
        if cgroup is not None:
            cgroup.join()  # the whole tree's memory and processes
        # Each process's address space too: one huge allocation then fails at once with a
        # MemoryError at the student's line, rather than a kill by the kernel. Address space
        # is not memory (Python, numpy and onnxruntime reserve far more than they use), so it
        # is never set below PER_PROCESS_SPACE.
        space = max(limits.memory_bytes, PER_PROCESS_SPACE)
        resource.setrlimit(resource.RLIMIT_AS, (space, space))
        with contextlib.suppress(OSError), open("/proc/self/oom_score_adj", "w") as f:
            f.write("1000")  # the kernel kills the program first, never the agent
        resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 5))
        resource.setrlimit(resource.RLIMIT_NOFILE, (limits.open_files, limits.open_files))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_NPROC, (limits.processes, limits.processes))
        if limits.nice:
            os.nice(limits.nice)  # the console's own threads before a class of programs

    return apply
