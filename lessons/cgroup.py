"""A cgroup of one sandbox: memory and processes for the whole tree of a program.

:func:`cgroup_kind` says which cgroups this process may make (v1, v2, or
none: only root may); :class:`Cgroup` makes one with its limits, moves a
starting child in (:meth:`Cgroup.join`), kills what is left in it and
removes it on close. :mod:`lessons.sandbox` uses it for every program::

    kind = cgroup_kind()
    if kind is not None:
        with Cgroup(kind, memory_bytes=200 * 1024**2, processes=64) as group:
            ...  # a child calls group.join() before it becomes the program
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import uuid
from pathlib import Path

from rcbase.closeable import Closeable

__all__ = ["Cgroup", "cgroup_kind"]

logger = logging.getLogger(__name__)

_CGROUP = Path("/sys/fs/cgroup")


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
