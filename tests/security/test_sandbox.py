"""Attacks on the sandbox itself, made by a program as a student would write it.

Each test runs a hostile program in :class:`lessons.sandbox.Sandbox` with the
real bubblewrap and checks that the attack failed and what the caller sees.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from lessons.sandbox import Limits, Sandbox, SandboxedProcess, check
from tests.conftest import missing, system_part

pytestmark = pytest.mark.integration

MIB = 1024 * 1024


@pytest.fixture(autouse=True)
def _bwrap() -> None:
    system_part("bwrap")
    found = check()
    if not found.ok:
        missing(f"no sandbox here: {found.reason} ({found.fix})")


@pytest.fixture
def work(tmp_path: Path) -> Path:
    folder = tmp_path / "work"
    folder.mkdir()
    return folder


def run(
    work: Path, code: str, *, limits: Limits | None = None, timeout: float = 60, **kw: object
) -> subprocess.CompletedProcess[str]:
    """Run ``code`` as a program in a sandbox over ``work``; its output and exit code."""
    program = work / "main.py"
    program.write_text(textwrap.dedent(code))
    box = Sandbox(work=work, limits=limits or Limits(memory_bytes=512 * MIB), **kw)  # type: ignore[arg-type]
    with box.start(
        [sys.executable, str(box.inside(program))],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        out, err = proc.proc.communicate(timeout=timeout)
        return subprocess.CompletedProcess(proc.proc.args, proc.proc.returncode, out, err)


def test_a_plain_program_runs_and_imports_the_student_api(work: Path) -> None:
    done = run(
        work,
        """
        from hardware import Robot
        from vision import Classifier
        import numpy, cv2
        open("out.txt", "w").write("written")
        print("hello", numpy.__version__)
    """,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("hello ")
    assert (work / "out.txt").read_text() == "written"


def test_secrets_outside_are_not_there(work: Path, tmp_path: Path) -> None:
    secret = tmp_path / "robot.key"
    secret.write_text("PRIVATE KEY")
    os.environ["ROBOCLASS_SECRET_PROBE"] = "agent-secret"
    try:
        done = run(
            work,
            f"""
            import os, json, pathlib
            seen = {{}}
            for path in [{str(secret)!r}, "/root", "/etc/passwd", "/etc/shadow", "/home", "/var/lib"]:
                try:
                    p = pathlib.Path(path)
                    seen[path] = p.read_text()[:20] if p.is_file() else sorted(os.listdir(path))[:3]
                except OSError as exc:
                    seen[path] = type(exc).__name__
            seen["env"] = sorted(k for k in os.environ if "SECRET" in k or k.startswith("ROBOCLASS"))
            seen["uid"] = os.getuid()
            print(json.dumps(seen))
        """,
        )
    finally:
        del os.environ["ROBOCLASS_SECRET_PROBE"]
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen[str(secret)] in {"FileNotFoundError", "PermissionError"}
    for path in ("/etc/passwd", "/etc/shadow", "/var/lib"):
        assert seen[path] == "FileNotFoundError", (path, seen[path])
    assert seen["/home"] == ["student"]  # its own work folder, nobody else's
    # root's home holds nothing but the Python install where that lives there
    assert seen["/root"] == "FileNotFoundError" or set(seen["/root"]) <= {".pyenv"}
    assert seen["env"] == []
    assert seen["uid"] != 0


def test_other_processes_are_invisible(work: Path) -> None:
    done = run(
        work,
        f"""
        import os
        pids = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
        print(pids)
        try:
            print(open("/proc/{os.getpid()}/environ").read()[:10])
        except OSError as exc:
            print(type(exc).__name__)
    """,
    )
    assert done.returncode == 0, done.stderr
    pids_line, environ_line = done.stdout.splitlines()
    assert max(eval(pids_line)) < 10
    assert environ_line in {"FileNotFoundError", "PermissionError", "ProcessLookupError"}


def test_no_network(work: Path) -> None:
    done = run(
        work,
        """
        import socket
        for host, port in [("127.0.0.1", 1883), ("10.0.0.1", 80)]:
            s = socket.socket()
            s.settimeout(2)
            try:
                s.connect((host, port))
                print("connected", host)
            except OSError as exc:
                print("refused", host, type(exc).__name__)
        print(sorted(n for _, n in socket.if_nameindex()))
    """,
    )
    assert done.returncode == 0, done.stderr
    assert "connected" not in done.stdout
    assert done.stdout.strip().splitlines()[-1] == "['lo']"


def test_cannot_write_outside_its_work_folder(work: Path, tmp_path: Path) -> None:
    grader = tmp_path / "check.py"
    grader.write_text("def grade(run): return 10\n")
    done = run(
        work,
        f"""
        import sys
        for path in [{str(grader)!r}, sys.executable, __import__("hardware").__file__, "/usr/x"]:
            try:
                open(path, "a").write("# changed")
                print("WROTE", path)
            except OSError as exc:
                print("no", type(exc).__name__)
    """,
        read_only=[tmp_path / "check.py"],
    )
    assert done.returncode == 0, done.stderr
    assert "WROTE" not in done.stdout
    assert grader.read_text() == "def grade(run): return 10\n"


def survivors(marker: str) -> list[int]:
    """Processes on this computer whose command line carries ``marker``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def test_a_double_forked_daemon_that_ignores_sigterm_dies_with_the_sandbox(work: Path) -> None:
    marker = f"survivor-{os.getpid()}-{time.monotonic_ns()}"
    program = work / "main.py"
    program.write_text(
        textwrap.dedent(f"""
        import os, signal, sys, time
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                signal.signal(signal.SIGTERM, signal.SIG_IGN)
                os.execv(sys.executable, [sys.executable, "-c", "import time\\nwhile True: time.sleep(1)", "{marker}"])
            os._exit(0)
        time.sleep(0.5)
        print("parent ends")
    """)
    )
    box = Sandbox(work=work, limits=Limits(memory_bytes=512 * MIB))
    with box.start(
        [sys.executable, str(box.inside(program))], stdout=subprocess.PIPE, text=True
    ) as proc:
        out, _ = proc.proc.communicate(timeout=60)
    assert "parent ends" in out
    deadline = time.monotonic() + 5
    while survivors(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert survivors(marker) == []


def test_a_running_program_and_its_children_end_when_the_sandbox_is_closed(work: Path) -> None:
    marker = f"looper-{os.getpid()}-{time.monotonic_ns()}"
    program = work / "main.py"
    program.write_text(
        textwrap.dedent(f"""
        import os, signal, subprocess, sys, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        subprocess.Popen([sys.executable, "-c", "import time\\nwhile True: time.sleep(1)", "{marker}"], start_new_session=True)
        print("started", flush=True)
        while True:
            time.sleep(1)
    """)
    )
    box = Sandbox(work=work, limits=Limits(memory_bytes=512 * MIB))
    proc: SandboxedProcess = box.start(
        [sys.executable, str(box.inside(program))], stdout=subprocess.PIPE, text=True
    )
    assert proc.proc.stdout is not None
    assert proc.proc.stdout.readline().strip() == "started"
    assert survivors(marker)
    proc.close()
    assert proc.poll() is not None
    deadline = time.monotonic() + 5
    while survivors(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert survivors(marker) == []


def test_memory_is_limited_for_the_whole_tree(work: Path) -> None:
    """Two processes of 300 MB each against a 400 MB limit: not both get it."""
    done = run(
        work,
        """
        import os, sys
        def grab():
            block = bytearray(300 * 1024 * 1024)
            for i in range(0, len(block), 4096):
                block[i] = 1
            return block
        child = os.fork()
        if child == 0:
            grab()
            os._exit(0)
        try:
            kept = grab()
            print("parent has 300 MB")
        except MemoryError:
            print("parent MemoryError")
        _, status = os.waitpid(child, 0)
        print("child status", status)
    """,
        limits=Limits(memory_bytes=400 * MIB),
    )
    text = done.stdout + done.stderr
    both = "parent has 300 MB" in text and "child status 0" in text
    assert not both, text


def test_a_fork_bomb_is_stopped_by_the_process_limit(work: Path) -> None:
    done = run(
        work,
        """
        import os
        made = 0
        try:
            while made < 10000:
                if os.fork() == 0:
                    import time; time.sleep(30); os._exit(0)
                made += 1
        except OSError as exc:
            print("refused after", made, type(exc).__name__)
    """,
        limits=Limits(memory_bytes=512 * MIB, processes=32),
        timeout=90,
    )
    assert "refused after" in done.stdout, done.stdout + done.stderr
    made = int(done.stdout.split("refused after")[1].split()[0])
    assert made < 32


def test_unconfined_runs_only_when_asked_and_keeps_the_limits(work: Path) -> None:
    """A student's own file where bubblewrap is missing: the limits still apply."""
    done = run(
        work,
        """
        import resource
        print(resource.getrlimit(resource.RLIMIT_NOFILE)[0])
        """,
        confined=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "256"


def test_each_running_sandbox_has_a_user_id_of_its_own_across_processes() -> None:
    """Two programs (the agent's and the console's, say) never share a user id, so one's
    process limit is never spent by the other."""
    if os.geteuid() != 0:
        pytest.skip("user ids of their own only when started by root")
    from lessons.sandbox import _give_uid, _take_uid  # noqa: PLC0415 - the allocator itself

    mine = _take_uid()
    try:
        other = subprocess.run(
            [sys.executable, "-c", "from lessons.sandbox import _take_uid; print(_take_uid())"],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        assert int(other.stdout) != mine
        again = _take_uid()  # the other process has ended: its id is free again
        _give_uid(again)
        assert again != mine
    finally:
        _give_uid(mine)
