"""Attacks on the console's memory: bodies far larger than any route needs.

The console runs as ``roboclass console serve`` in its own process, so its
memory can be read from ``/proc/<pid>/status``: ``VmHWM`` is the most it
ever held (reset before each attack), and cannot stay low by accident while a
body is buffered.
"""

from __future__ import annotations

import json
import os
import select
import socket
import subprocess
import sys
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
    console: RunningConsole, path: str, size: int, *, chunked: bool
) -> tuple[int, dict[str, Any], int]:
    """POST ``size`` bytes of a login's JSON to ``path``, made as it is sent, never whole.

    Sends until the console answers or hangs up; returns the status, the JSON
    answer and how many bytes went out.
    """
    length = b"Transfer-Encoding: chunked" if chunked else f"Content-Length: {size}".encode()
    sock = socket.create_connection((console.host, console.port), timeout=30)
    with sock:
        sock.sendall(
            b"POST " + path.encode() + b" HTTP/1.1\r\nHost: " + console.host.encode() + b"\r\n"
            b"Content-Type: application/json\r\n" + length + b"\r\n\r\n"
        )
        sent = 0
        try:
            for data in _login_body(size):
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
    head, _, body = rest.partition(b"\r\n\r\n")
    if b"transfer-encoding: chunked" in head.lower():
        body = _dechunk(body)
    return int(status_line.split()[1]), json.loads(body or b"{}"), sent


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
