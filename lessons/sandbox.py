"""One sandbox for every program we did not write: a student's, or anyone's.

A program started here (:func:`start`) runs under bubblewrap with:

- its own PID namespace: when the sandbox ends, every process the program
  made ends with it, whatever it forked, whatever signals it ignores;
- its own network namespace: no network at all (the robot is reached only
  through the file descriptors the caller passes, as the lesson runner does);
- a read-only view of only what it needs (the system's libraries, Python,
  our student-side packages and the folders the caller names) and one
  writable work folder; nothing else of this computer: no keys, databases,
  settings, environment or ``/proc`` of other processes;
- an unprivileged user: started as root, it runs as a user of its own
  (``SANDBOX_UID`` and up, one per sandbox running at the same time) with no
  capabilities and ``no_new_privs``; started as a user, it stays that user
  inside a user namespace;
- limits for the whole tree: memory and processes in a cgroup of its own
  where one can be made (cgroup v1 or v2), else per-process limits sized
  from the machine's memory; ``oom_score_adj`` 1000, so the kernel kills the
  program before anything else; CPU time, open files and file size per
  process.

::

    sandbox = Sandbox(work=Path("/tmp/job"), read_only=[models_folder])
    with sandbox.start([sys.executable, "-m", "hardware.child", "/tmp/job/main.py"],
                       stdout=subprocess.PIPE) as run:
        run.wait(timeout=30)
    # here every process of the program has ended and its cgroup is gone

:func:`check` says whether a sandbox can be made on this computer, and if
not, what to do about it (``roboclass doctor`` shows it).
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import importlib.util
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from lessons.errors import SandboxError
from lessons.limits import Cgroup, Limits, cgroup_kind, default_limits, prepare_child
from rcbase.closeable import Closeable

__all__ = [
    "HOME",
    "SANDBOX_UID",
    "Limits",
    "Sandbox",
    "SandboxCheck",
    "SandboxedProcess",
    "available",
    "check",
    "default_limits",
]

logger = logging.getLogger(__name__)

#: The first user id a sandbox runs as when it is started by root; one id per
#: sandbox running at the same time, so their process limits are their own.
SANDBOX_UID = 61000
_UIDS = 1000
#: Our packages a student's program may import; the rest of ours stays outside.
STUDENT_PACKAGES = ("hardware", "vision", "models", "lessons", "firmware_bridge", "rcbase")
#: Read-only system folders every program needs (those that exist are bound).
SYSTEM_FOLDERS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
SYSTEM_FILES = ("/etc/ld.so.cache", "/etc/localtime", "/etc/alternatives")
#: onnxruntime and OpenBLAS read the CPU topology.
SYSTEM_INFO = ("/sys/devices/system/cpu",)
#: Where the program sees its work folder (and its home).
HOME = Path("/home/student")
#: The program's own /tmp: a small tmpfs inside its namespace, gone when it ends.
TMP = "/tmp"  # noqa: S108 - a private tmpfs, not the shared /tmp


@dataclass(frozen=True)
class SandboxCheck:
    """Whether a sandbox can be made here; if not, why and what to do."""

    ok: bool
    reason: str = ""
    fix: str = ""
    bwrap: str | None = None
    cgroup: str | None = None  # "v1", "v2" or None (per-process limits)


@functools.cache
def available() -> SandboxCheck:
    """:func:`check`, once per process (it starts a sandbox to be sure)."""
    return check()


def check() -> SandboxCheck:
    """Can a sandbox be made on this computer? (It starts one to be sure.)"""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return SandboxCheck(
            False,
            "bubblewrap (bwrap) is not installed",
            "sudo apt install bubblewrap",
        )
    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        return SandboxCheck(
            False, "setpriv is missing (util-linux)", "sudo apt install util-linux", bwrap
        )
    try:
        Sandbox(work=None).run_check()
    except SandboxError as exc:
        return SandboxCheck(
            False,
            str(exc),
            "allow user namespaces: sudo sysctl -w kernel.unprivileged_userns_clone=1 "
            "(and user.max_user_namespaces > 0)",
            bwrap,
        )
    return SandboxCheck(True, bwrap=bwrap, cgroup=cgroup_kind())


# -- user ids -----------------------------------------------------------------------
# One user id per running sandbox on this computer, whichever process started it (the
# agent, the console, a test): a lock file per id, held while the sandbox runs. The kernel
# drops the lock when the process dies, so a crash never leaks an id.

_uid_lock = threading.Lock()
_uid_files: dict[int, int] = {}  # uid -> the open lock file


def _uid_folder() -> Path:
    base = Path("/run") if os.access("/run", os.W_OK) else Path(tempfile.gettempdir())
    folder = base / "roboclass-sandbox-uids"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def _take_uid() -> int:
    folder = _uid_folder()
    with _uid_lock:
        for uid in range(SANDBOX_UID, SANDBOX_UID + _UIDS):
            if uid in _uid_files:
                continue
            fd = os.open(folder / f"{uid}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:  # another process's sandbox has it
                os.close(fd)
                continue
            _uid_files[uid] = fd
            return uid
    raise SandboxError(f"more than {_UIDS} sandboxes at the same time")


def _give_uid(uid: int) -> None:
    with _uid_lock:
        fd = _uid_files.pop(uid, None)
    if fd is not None:
        os.close(fd)  # closing drops the lock


# -- the sandbox --------------------------------------------------------------------


@functools.cache
def _package_folders() -> tuple[Path, ...]:
    """Where our student-side packages are (their source folders when installed editable).
    Found once per process: they do not move while it runs."""
    found: list[Path] = []
    for name in STUDENT_PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.submodule_search_locations:
            found.extend(Path(p) for p in spec.submodule_search_locations)
    return tuple(found)


@functools.cache
def _python_folders() -> tuple[Path, ...]:
    """Python itself, the venv and its site-packages, as real paths and as named."""
    folders = {Path(sys.base_prefix), Path(sys.prefix), Path(sys.executable).parent}
    folders |= {Path(os.path.realpath(p)) for p in list(folders)}
    folders.add(Path(os.path.realpath(sys.executable)).parent.parent)
    return tuple(sorted(folders))


@dataclass(frozen=True)
class _Streams:
    """Where the program's standard streams go, and the file descriptors it inherits."""

    stdin: int | IO[Any] | None
    stdout: int | IO[Any] | None
    stderr: int | IO[Any] | None
    pass_fds: tuple[int, ...]
    text: bool

    def popen(
        self,
        argv: list[str],
        prepare: Callable[[], None],
        *,
        cwd: Path | None = None,
        env: Mapping[str, str] | None = None,
    ) -> subprocess.Popen[Any]:
        """Start ``argv`` with these streams; ``prepare`` runs in the child before it."""
        return subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdin=self.stdin,
            stdout=self.stdout,
            stderr=self.stderr,
            pass_fds=self.pass_fds,
            text=self.text,
            errors="replace" if self.text else None,
            preexec_fn=prepare,  # noqa: PLW1509 - rlimits need it
        )


@dataclass
class Sandbox:
    """Where and how a program runs: one writable folder, read-only extras, limits.

    ``work`` is the only folder the program may write (None: no work folder,
    as for :meth:`run_check`); the program sees it as :data:`HOME`
    (``/home/student``), its current folder. ``read_only`` are further files
    or folders it may read (a lesson's models, say), each at the same path as
    outside.
    """

    work: Path | None
    read_only: Sequence[Path] = ()
    limits: Limits = field(default_factory=default_limits)
    env: Mapping[str, str] = field(default_factory=dict)
    #: False: no sandbox, only the limits (a student's own file on their own computer,
    #: where bubblewrap is missing; never for code pushed to a robot or run on a console).
    confined: bool = True

    def inside(self, path: Path) -> Path:
        """Where the program sees ``path``, a file or folder in the work folder."""
        if self.work is None:
            raise SandboxError("this sandbox has no work folder")
        return HOME / path.relative_to(self.work) if self.confined else path

    def argv(self, command: Sequence[str], uid: int | None) -> list[str]:
        """The bwrap command line that runs ``command`` in this sandbox."""
        bwrap = shutil.which("bwrap")
        if bwrap is None:
            raise SandboxError("bubblewrap (bwrap) is not installed: sudo apt install bubblewrap")
        args = [
            bwrap,
            "--unshare-pid",
            "--unshare-net",
            "--unshare-ipc",
            "--unshare-uts",
            "--unshare-cgroup-try",
            "--die-with-parent",
            "--new-session",
            "--hostname",
            "sandbox",
            "--proc",
            "/proc",
            "--dev",
            "/dev",
            "--size",
            str(self.limits.tmp_bytes),
            "--tmpfs",
            TMP,
            "--clearenv",
        ]
        if uid is None:  # a user: a user namespace of its own, no way to make another
            args += ["--unshare-user", "--disable-userns"]
        binds: list[tuple[str, str, str]] = []  # (option, source, where the program sees it)
        seen: set[str] = set()
        extra = [*_python_folders(), *_package_folders(), *self.read_only]
        for path in [*SYSTEM_FOLDERS, *SYSTEM_FILES, *SYSTEM_INFO, *map(str, extra)]:
            if path not in seen and os.path.exists(path) and not _inside(path, seen):
                binds.append(("--ro-bind", path, path))
                seen.add(path)
        if self.work is not None:
            binds.append(("--bind", str(self.work), str(HOME)))
        # bwrap makes missing parent folders private (0700): the program could not reach
        # what is bound below them, so make them first, readable by everyone.
        for folder in _parents(where for _, _, where in binds):
            args += ["--perms", "0755", "--dir", folder]
        for option, source, where in binds:
            args += [option, source, where]
        if self.work is not None:
            args += ["--chdir", str(HOME)]
        home = str(HOME) if self.work is not None else TMP
        env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": home,
            "LANG": os.environ.get("LANG", "C.UTF-8"),
            "PYTHONNOUSERSITE": "1",
            # where our packages are when they are not installed (a source checkout)
            "PYTHONPATH": os.pathsep.join(sorted({str(f.parent) for f in _package_folders()})),
            "PYTHONDONTWRITEBYTECODE": "1",
            **self.env,
        }
        for key, value in env.items():
            args += ["--setenv", key, value]
        args.append("--")
        if uid is not None:  # root made the namespaces; the program runs as nobody of ours
            args += [
                shutil.which("setpriv") or "setpriv",
                f"--reuid={uid}",
                f"--regid={uid}",
                "--clear-groups",
                "--inh-caps=-all",
                "--bounding-set=-all",
                "--no-new-privs",
            ]
        return args + list(command)

    def start(
        self,
        command: Sequence[str],
        *,
        stdin: int | IO[Any] | None = subprocess.DEVNULL,
        stdout: int | IO[Any] | None = None,
        stderr: int | IO[Any] | None = None,
        pass_fds: Sequence[int] = (),
        text: bool = False,
    ) -> SandboxedProcess:
        """Start ``command`` in the sandbox; :class:`SandboxError` when it cannot be made."""
        streams = _Streams(stdin, stdout, stderr, tuple(pass_fds), text)
        if not self.confined:
            return self._start_unconfined(command, streams)
        uid = _take_uid() if os.geteuid() == 0 else None
        cgroup: Cgroup | None = None
        try:
            kind = cgroup_kind()
            if kind is not None:
                try:
                    cgroup = Cgroup(kind, self.limits.memory_bytes, self.limits.processes)
                except OSError as exc:
                    logger.info("no cgroup for the sandbox (%s): per-process limits", exc)
            if self.work is not None and uid is not None:
                _give_to(self.work, uid)
            proc = streams.popen(
                self.argv(command, uid),
                prepare_child(self.limits, cgroup),
                env={"PATH": "/usr/bin:/bin"},  # bwrap is the sandbox's pid 1: /proc/1/environ
            )
        except (OSError, SandboxError) as exc:
            if cgroup is not None:
                cgroup.close()
            if uid is not None:
                _give_uid(uid)
            if isinstance(exc, SandboxError):
                raise
            raise SandboxError(f"cannot start the sandbox: {exc}") from exc
        return SandboxedProcess(proc, cgroup, uid)

    def _start_unconfined(self, command: Sequence[str], streams: _Streams) -> SandboxedProcess:
        logger.warning(
            "no sandbox: the program runs with your own rights / 没有沙箱：程序以你自己的权限运行"
        )
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(self.work), **self.env}
        try:
            proc = streams.popen(
                list(command), prepare_child(self.limits, None), cwd=self.work, env=env
            )
        except OSError as exc:
            raise SandboxError(f"cannot start the program: {exc}") from exc
        return SandboxedProcess(proc, None, None)

    def run_check(self) -> None:
        """Start a trivial program in a sandbox; :class:`SandboxError` with bwrap's words if not."""
        with self.start(
            [sys.executable, "-c", "pass"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
        ) as run:
            try:
                _, err = run.proc.communicate(timeout=30)
            except subprocess.TimeoutExpired as exc:
                raise SandboxError("a sandbox did not start within 30 s") from exc
            if run.proc.returncode != 0:
                words = err.decode(errors="replace").strip().splitlines()
                raise SandboxError(
                    f"bubblewrap cannot make a sandbox here: {words[-1] if words else 'failed'}"
                )


def _inside(path: str, folders: Iterable[str]) -> bool:
    return any(path.startswith(f.rstrip("/") + "/") for f in folders)


def _parents(paths: Iterable[str]) -> list[str]:
    """Every folder above ``paths`` (not ``/``), parents before children, each once."""
    found: dict[str, None] = {}
    for path in paths:
        for parent in reversed(Path(path).parents[:-1]):
            found[str(parent)] = None
    return sorted(found, key=lambda p: (p.count("/"), p))


def _give_to(folder: Path, uid: int) -> None:
    """The work folder (and what is in it) belongs to the sandbox's user."""
    os.chown(folder, uid, uid)
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            os.chown(os.path.join(root, name), uid, uid, follow_symlinks=False)


class SandboxedProcess(Closeable):
    """A program running in a sandbox; closing it ends every process it made."""

    def __init__(self, proc: subprocess.Popen[Any], cgroup: Cgroup | None, uid: int | None) -> None:
        self.proc = proc
        self._cgroup = cgroup
        self._uid = uid

    @property
    def pid(self) -> int:
        """bubblewrap's process id (the program's own id is 2 inside its namespace)."""
        return self.proc.pid

    def wait(self, timeout: float | None = None) -> int:
        """Wait for the program to end; its :attr:`returncode`."""
        self.proc.wait(timeout)
        return self.returncode  # type: ignore[return-value]

    def poll(self) -> int | None:
        """The :attr:`returncode` if the program has ended, else None."""
        self.proc.poll()
        return self.returncode

    @property
    def returncode(self) -> int | None:
        """As :class:`subprocess.Popen`'s: the exit code, or minus the signal that killed it.

        bubblewrap reports a program killed by a signal as 128 + the signal's number.
        """
        code = self.proc.returncode
        if code is not None and code > 128 and (code - 128) in signal.valid_signals():
            return -(code - 128)
        return code

    @property
    def oom_killed(self) -> bool:
        """True when the kernel ended a process of this sandbox for using too much memory."""
        return self._cgroup is not None and self._cgroup.oom_kills() > 0

    def kill(self) -> None:
        """End the program and everything it made, now."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        if self._cgroup is not None:
            self._cgroup.kill_all()

    def _close(self) -> None:
        try:
            if self.proc.poll() is None:
                self.kill()
            self.proc.wait(timeout=10)
            if self._cgroup is not None:
                self._cgroup.close()
        finally:
            for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
                if stream is not None:
                    with contextlib.suppress(OSError):
                        stream.close()
            if self._uid is not None:
                _give_uid(self._uid)
