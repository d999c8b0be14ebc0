"""Attacks on memory: bodies far larger than any route needs, a gzip bomb as a bundle.

The console runs as ``roboclass console serve`` in its own process, so its
memory can be read from ``/proc/<pid>/status``: ``VmHWM`` is the most it
ever held (reset before each attack), and cannot stay low by accident while a
body is buffered.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import json
import os
import select
import socket
import subprocess
import sys
import tarfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.integration

MIB = 1024 * 1024
ATTACK = 200 * MIB
#: What the console may grow by while refusing a 200 MB body (its cap is 2 MiB).
GROWTH = 8 * MIB
PASSWORD = "a long secret for ms-li"


class RunningConsole:
    def __init__(self, proc: subprocess.Popen[str], url: str) -> None:
        self.proc = proc
        self.url = url
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", int(parts.port or 80)

    def memory(self, field: str) -> int:
        """``VmRSS`` or ``VmHWM`` of the console's process, in bytes."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) * 1024
        raise AssertionError(f"no {field} for the console's process")

    def reset_peak(self) -> None:
        """Start ``VmHWM`` again from the current ``VmRSS`` (Linux >= 4.0)."""
        Path(f"/proc/{self.proc.pid}/clear_refs").write_text("5")


def _roboclass(*args: str, **kw: Any) -> subprocess.Popen[str]:
    code = "from roboclass.cli import cli; cli()"
    return subprocess.Popen([sys.executable, "-c", code, *args], text=True, **kw)


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningConsole]:
    data = str(tmp_path_factory.mktemp("limits") / "console")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    adduser = _roboclass(
        "console", "adduser", "ms-li", "--data-dir", data, "--password-stdin",
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env,
    )  # fmt: skip
    adduser.communicate(PASSWORD + "\n", timeout=60)
    assert adduser.returncode == 0
    proc = _roboclass(
        "console", "serve", "--port", "0", "--no-mdns", "--data-dir", data, "--json",
        "--duration", "600",
        stdout=subprocess.PIPE, env=env,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line, "the console did not start"
        running = RunningConsole(proc, json.loads(line)["api"])
        _post_login(running, "nobody", "wrong")  # the first request loads what a login needs
        yield running
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def call(
    console: RunningConsole, path: str, body: Any = None, token: str | None = None
) -> tuple[int, Any]:
    """The status and JSON answer of a GET (no body) or POST to the console."""
    request = urllib.request.Request(f"{console.url}{path}")
    if body is not None:
        request.data = json.dumps(body).encode()
        request.add_header("Content-Type", "application/json")
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def _post_login(console: RunningConsole, username: str, password: str) -> tuple[int, Any]:
    return call(console, "/api/v1/login", {"username": username, "password": password})


def send_large(
    console: RunningConsole,
    path: str,
    size: int,
    *,
    chunked: bool,
    body: Iterator[bytes] | None = None,
    token: str | None = None,
) -> tuple[int, dict[str, Any], int]:
    """POST ``size`` bytes (a login's JSON, or ``body``) to ``path``, made as they are sent.

    Sends until the console answers or hangs up; returns the status, the JSON
    answer and how many bytes went out.
    """
    length = b"Transfer-Encoding: chunked" if chunked else f"Content-Length: {size}".encode()
    sock = socket.create_connection((console.host, console.port), timeout=30)
    with sock:
        sock.sendall(
            b"POST " + path.encode() + b" HTTP/1.1\r\nHost: " + console.host.encode() + b"\r\n"
            b"Content-Type: application/json\r\n"
            + (f"Authorization: Bearer {token}\r\n".encode() if token else b"")
            + length
            + b"\r\n\r\n"
        )
        sent = 0
        try:
            for data in _login_body(size) if body is None else body:
                readable, _, _ = select.select([sock], [], [], 0)
                if readable:
                    break  # the console answered before the end
                sock.sendall(b"%x\r\n%s\r\n" % (len(data), data) if chunked else data)
                sent += len(data)
            else:
                if chunked:
                    sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # it hung up: read what it said
        answer = b""
        try:
            while not _complete(answer):
                more = sock.recv(65536)
                if not more:
                    break
                answer += more
        except ConnectionResetError:
            pass
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line, f"no answer after {sent} bytes"
    head, _, said = rest.partition(b"\r\n\r\n")
    if b"transfer-encoding: chunked" in head.lower():
        said = _dechunk(said)
    return int(status_line.split()[1]), json.loads(said or b"{}"), sent


def _login_body(size: int) -> Iterator[bytes]:
    """A login's JSON of ``size`` bytes (a very long password), 256 KiB at a time."""
    head, tail = b'{"username": "ms-li", "password": "', b'"}'
    yield head
    left = size - len(head) - len(tail)
    piece = b"a" * (256 * 1024)
    while left > len(piece):
        yield piece
        left -= len(piece)
    yield piece[:left] + tail


def _dechunk(body: bytes) -> bytes:
    out = b""
    while body:
        size_line, _, body = body.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            break
        out, body = out + body[:size], body[size + 2 :]
    return out


def _complete(answer: bytes) -> bool:
    head, found, body = answer.partition(b"\r\n\r\n")
    if not found:
        return False
    if b"transfer-encoding: chunked" in head.lower():
        return body.endswith(b"0\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return len(body) >= int(line.split(b":")[1])
    return False


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_200_mb_login_body_is_refused_without_taking_memory(
    console: RunningConsole, chunked: bool
) -> None:
    console.reset_peak()  # a login hashes a password with scrypt: 16 MiB at its peak
    before = console.memory("VmRSS")
    status, answer, sent = send_large(console, "/api/v1/login", ATTACK, chunked=chunked)
    peak = console.memory("VmHWM")
    assert status == 413
    assert "too large" in answer["detail"] and "请求过大" in answer["detail"]
    assert sent < 20 * MIB  # refused at the cap, not after the whole body
    assert peak - before < GROWTH, f"the console grew by {(peak - before) / MIB:.1f} MiB"
    assert console.proc.poll() is None
    # nothing lost: the console still answers, and a real login still works
    assert _post_login(console, "ms-li", PASSWORD)[0] == 200


def test_a_body_at_the_cap_still_reaches_the_route(console: RunningConsole) -> None:
    big_but_allowed = "x" * (1024 * 1024)  # JSON under the 2 MiB cap: the route answers it
    assert _post_login(console, "ms-li", big_but_allowed)[0] == 401
    status, login = _post_login(console, "ms-li", PASSWORD)
    assert status == 200
    status, health = call(console, "/api/v1/health")
    assert status == 200 and health["ok"] in (True, False)
    status, devices = call(console, "/api/v1/devices", token=login["token"])
    assert status == 200 and devices == []


def test_an_upload_is_written_as_it_comes_and_has_its_own_cap(console: RunningConsole) -> None:
    size = 64 * MIB
    piece = bytes(range(256)) * 1024
    expected = hashlib.sha256(piece * (size // len(piece))).hexdigest()
    status, login = _post_login(console, "ms-li", PASSWORD)
    assert status == 200
    upload = functools.partial(send_large, console, "/api/v1/bundles", token=login["token"])
    console.reset_peak()
    before = console.memory("VmRSS")
    pieces = (piece for _ in range(size // len(piece)))
    status, answer, _ = upload(size, chunked=True, body=pieces)
    growth = console.memory("VmHWM") - before
    assert status == 200 and answer == {"sha256": expected, "size": size}
    assert growth < GROWTH, f"the console grew by {growth / MIB:.1f} MiB taking a 64 MiB upload"
    status, answer, sent = upload(300 * MIB, chunked=False, body=iter([bytes(MIB)] * 300))
    assert status == 413 and "请求过大" in answer["detail"] and sent < 20 * MIB
    # without a login nothing is read, whatever its size
    status, _, sent = send_large(
        console, "/api/v1/bundles", 300 * MIB, chunked=True, body=iter([bytes(MIB)] * 300)
    )
    assert status == 401 and sent < 20 * MIB


# -- a gzip bomb pushed as a lesson bundle ------------------------------------------------

#: Runs a job with the bundle in argv[1] through the agent's own code path (the bundle
#: cache, then ``lessons_runner`` unpacking it); prints the job's end and the peak memory.
_AGENT = """
import base64, hashlib, json, resource, sys
from pathlib import Path
import lessons  # loaded before the first measure: only the job counts
from fleet.agent.jobs import JobExecutor, lessons_runner
from fleet.agent.lease import RobotLease
from fleet.agent.logs import LogForwarder
from fleet.agent.outbox import Outbox
from fleet.agent.results import ResultSender
from fleet.agent.worker import Running
from fleet.core.bundles import BundleCache
from fleet.core.protocol import BundleRef, JobResult, Topics
from tests.unit.agent_fakes import FakeLink, FakeRobot, lesson_job

bomb, state = Path(sys.argv[1]).read_bytes(), Path(sys.argv[2])
ref = BundleRef(id="bomb", sha256=hashlib.sha256(bomb).hexdigest(), size=len(bomb),
                inline=base64.b64encode(bomb).decode())
outbox = Outbox(state / "agent.sqlite")
execute = JobExecutor(
    runner=lessons_runner, cache=BundleCache(state / "bundles"),
    results=ResultSender(outbox, FakeLink(), Topics("school", "room1"), "r1"),
    logs=LogForwarder(lambda job, lines: None), lease=RobotLease(FakeRobot()),
    console_url=lambda: None, backend="sim", kit="sim",
)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
execute(Running(lesson_job("j1", lesson=ref)))
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
(item,) = [p for p in outbox.pending() if p.job == "j1"]
print(json.dumps({"before": before, "peak": peak, "status": outbox.job_status("j1"),
                  "result": JobResult.model_validate_json(item.payload).result}))
"""


def _tar_header(name: str, size: int) -> bytes:
    info = tarfile.TarInfo(name)
    info.size, info.mode = size, 0o644
    return info.tobuf(tarfile.USTAR_FORMAT)


def gzip_bomb(files: list[tuple[str, int]]) -> bytes:
    """A bundle of ``lesson.yaml`` and files of zeros (whole MiB), ~1 KB a MiB once gzip'd.

    A gzip file may hold many members one after the other: one MiB of zeros is
    compressed once and repeated, so the bomb is never made whole, in memory or on disk.
    """
    yaml = b"id: bomb\n"
    parts = [gzip.compress(_tar_header("lesson.yaml", len(yaml)) + yaml.ljust(512, b"\0"))]
    one_mib = gzip.compress(bytes(MIB), compresslevel=9, mtime=0)
    for name, size in files:
        assert size % MIB == 0
        parts += [gzip.compress(_tar_header(name, size), mtime=0), one_mib * (size // MIB)]
    parts.append(gzip.compress(bytes(1024), mtime=0))  # the tar's end
    return b"".join(parts)


@pytest.mark.parametrize(
    ("files", "said"),
    [
        ([("zeros.bin", 1024 * MIB)], "too large"),  # one file of 1 GiB
        ([(f"z{i:02}.bin", 16 * MIB) for i in range(64)], "more than the limit"),  # 64 x 16 MiB
    ],
    ids=["one-huge-file", "many-files-under-the-file-cap"],
)
def test_a_gzip_bomb_stops_at_the_cap(
    tmp_path: Path, files: list[tuple[str, int]], said: str
) -> None:
    bomb = tmp_path / "bomb.tar.gz"
    bomb.write_bytes(gzip_bomb(files))
    assert bomb.stat().st_size < 1100 * 1024  # ~1 MB that unpacks to 1 GiB
    state = tmp_path / "agent"
    state.mkdir()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "TMPDIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", _AGENT, str(bomb), str(state)],
        check=False, capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.splitlines()[-1])
    growth = seen["peak"] - seen["before"]
    assert growth < 16 * MIB, f"the agent grew by {growth / MIB:.0f} MiB unpacking the bomb"
    status, reason = seen["status"]  # the student's job ends, saying why in both languages
    assert status == "FAILED" and said in reason and ("上限" in reason or "太大" in reason)
    assert seen["result"]["status"] == "error" and seen["result"]["reason"] == reason
    assert not list(tmp_path.glob("roboclass-job-*"))  # what it unpacked is gone
