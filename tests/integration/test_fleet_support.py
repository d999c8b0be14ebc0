"""What the fleet tests share: a room (console + agents on sim robots), a job runner, a cuttable link.

The runner drives a real sim robot for as many steps as the bundle says
(``b"steps:N"``); it stands in for the lesson runner, which lands with
``lessons``. :class:`CutProxy` sits between an agent and the broker and can
cut the connection like a Wi-Fi drop.
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from fleet.agent.agent import Agent, AgentConfig, JobContext
from fleet.broker.embedded import EmbeddedBroker
from fleet.broker.mosquitto import Mosquitto
from fleet.console.console import Console, ConsoleConfig
from hardware import Robot
from tests.conftest import system_part

STEP_S = 0.01


def drive_runner(ctx: JobContext) -> dict[str, Any]:
    """Drive forward for N steps of 20 ms sim time, paced by the stop event."""
    steps = int(ctx.bundle.read_bytes().splitlines()[0].split(b":")[1])
    robot = ctx.robot
    assert robot is not None
    done = 0
    robot.drive.forward(0.3)
    while done < steps:
        if ctx.stop.wait(STEP_S):
            return {"status": "stopped", "score": 0, "metrics": {"steps": done}}
        robot.sleep(0.02)
        done += 1
        if done % 10 == 0:
            ctx.on_line("stdout", f"step {done}")
    robot.drive.stop()
    return {"status": "passed", "score": 100, "metrics": {"steps": done}}


def wait_until(predicate: Callable[[], bool], timeout: float = 30.0, what: str = "") -> None:
    """Poll ``predicate`` (bounded) until true, else fail with ``what``."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what or predicate}")
        time.sleep(0.02)


@dataclass
class Room:
    console: Console
    host: str
    port: int
    tmp: Path
    agents: dict[str, Agent] = field(default_factory=dict)
    robots: dict[str, Robot] = field(default_factory=dict)

    def agent(
        self, device: str, *, port: int | None = None, robot: Robot | None = None, **options: Any
    ) -> Agent:
        """Start (or restart, on the same state folder) the agent of ``device``."""
        if robot is None:
            robot = self.robots.get(device) or Robot(kit="sim", backend="sim", realtime=False)
        self.robots[device] = robot
        config = AgentConfig(
            device=device,
            host=self.host,
            port=port or self.port,
            state_dir=self.tmp / "agents" / device,
            trusted_keys={self.console.key.kid: self.console.key.public_key},
            keepalive=2,
            resend_s=0.5,
            **{"runner": drive_runner, **options},
        )
        agent = Agent(config, robot=robot).start()
        self.agents[device] = agent
        assert agent.link.wait_connected(10)
        return agent

    def jobs(self) -> dict[str, str]:
        return {r.job: r.status for r in self.console.db.jobs.list()}

    def wait_jobs(self, status: str, n: int, timeout: float = 60.0) -> None:
        wait_until(
            lambda: sum(s == status for s in self.jobs().values()) >= n,
            timeout,
            f"{n} jobs {status} (now {self.jobs()})",
        )

    def close(self) -> None:
        for agent in self.agents.values():
            agent.close()
        for robot in self.robots.values():
            robot.close()
        self.console.close()


@contextlib.contextmanager
def room(host: str, port: int, tmp: Path, devices: int = 0) -> Iterator[Room]:
    console = Console(ConsoleConfig(host=host, port=port, data_dir=tmp / "console", keepalive=2))
    r = Room(console.start(), host, port, tmp)
    try:
        assert console.wait_connected(10)
        for i in range(devices):
            r.agent(f"r{i:02d}")
        wait_until(lambda: len(console.db.devices.ids(online_only=True)) >= devices, 20, "births")
        yield r
    finally:
        r.close()


@contextlib.contextmanager
def broker(kind: str) -> Iterator[tuple[str, int]]:
    if kind == "mosquitto":
        system_part("mosquitto")
        with Mosquitto.loopback() as m:
            yield m.host, m.port
    else:
        with EmbeddedBroker() as b:
            yield b.host, b.port


class CutProxy:
    """A TCP relay to ``host:port`` that can drop every connection and refuse new ones."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._server.getsockname()[1])
        self._up = threading.Event()
        self._up.set()
        self._stop = threading.Event()
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()

    def cut(self) -> None:
        self._up.clear()
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for a, b in pairs:
            for s in (a, b):
                with contextlib.suppress(OSError):
                    s.close()

    def restore(self) -> None:
        self._up.set()

    def _accept(self) -> None:
        self._server.settimeout(0.1)
        while not self._stop.is_set():
            try:
                client, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if not self._up.is_set():
                client.close()
                continue
            upstream = socket.create_connection(self.target)
            with self._lock:
                self._pairs.append((client, upstream))
            t = threading.Thread(target=self._relay, args=(client, upstream), daemon=True)
            t.start()
            self._threads.append(t)

    def _relay(self, a: socket.socket, b: socket.socket) -> None:
        peers = {a: b, b: a}
        try:
            while not self._stop.is_set():
                ready, _, _ = select.select([a, b], [], [], 0.1)
                for s in ready:
                    data = s.recv(65536)
                    if not data:
                        return
                    peers[s].sendall(data)
        except (OSError, ValueError):
            return
        finally:
            for s in (a, b):
                with contextlib.suppress(OSError):
                    s.close()

    def close(self) -> None:
        self._stop.set()
        self.cut()
        self._server.close()
        for t in self._threads:
            t.join(timeout=5)


def test_cut_proxy_relays_and_cuts() -> None:
    with socket.create_server(("127.0.0.1", 0)) as echo:
        port = echo.getsockname()[1]
        proxy = CutProxy("127.0.0.1", port)
        try:
            with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as c:
                server_side, _ = echo.accept()
                with server_side:
                    c.sendall(b"ping")
                    assert server_side.recv(4) == b"ping"
                    proxy.cut()
                    c.settimeout(5)
                    assert c.recv(4) == b""  # the relay closed our end
        finally:
            proxy.close()
