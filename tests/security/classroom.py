"""A real classroom for attacks: the generated Mosquitto config, the console and two agents.

``roboclass broker config`` makes the room (a CA, TLS client certificates, the
ACL); Mosquitto runs with that config; the console (with its API) and two
``roboclass agent`` processes, each with its robot's folder, on the sim backend
with the real lesson runner, connect over TLS. A teacher's API token pushes
lessons with a student's program in the ``code`` field, as the console's page does.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from fleet.broker.config import Layout
from fleet.broker.mosquitto import Mosquitto
from fleet.console.api import ApiServer
from fleet.console.console import Console, ConsoleConfig
from fleet.core.credentials import Credentials
from fleet.core.signing import public_key_text
from tests.conftest import free_port
from tests.integration.test_fleet_api import call
from tests.integration.test_fleet_support import wait_until

DEVICES = ("robot-01", "robot-02")
#: The lesson the attacks are pushed with: a program that leaves the robot alone scores 10
#: ("kept the wheels still"); the lesson's solution scores 100.
LESSON = "lights-and-sound"
IDLE_SCORE = 10
FINAL = {"SUCCEEDED", "FAILED", "TIMED_OUT", "REJECTED", "CANCELED"}


@dataclass
class AgentProcess:
    """One ``roboclass agent`` process and what it said when it started."""

    device: str
    proc: subprocess.Popen[bytes]
    state_dir: Path
    log: Path
    streams: list[IO[bytes]] = field(default_factory=list)

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    @property
    def tmp(self) -> Path:
        """The agent's TMPDIR: each job's unpacked lesson and the program's work folder."""
        return self.log.parent / "tmp"

    def stop(self) -> None:
        if self.alive:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        for stream in self.streams:
            stream.close()


@dataclass
class Classroom:
    """The running room: what a teacher reaches through the API, and where each secret is."""

    tmp: Path
    layout: Layout
    port: int
    console: Console
    server: ApiServer
    token: str
    #: Put into every agent's environment: it must never show in a student's output.
    secret: str
    agents: dict[str, AgentProcess] = field(default_factory=dict)
    #: Sandbox cgroups that were there before the room started (left by earlier tests'
    #: killed agents, say): not this room's to answer for.
    cgroups_before: frozenset[Path] = field(default_factory=lambda: frozenset(sandbox_cgroups()))

    @property
    def api(self) -> str:
        return f"{self.server.url}/api/v1"

    def call(self, path: str, method: str = "GET", body: Any = None) -> Any:
        status, answer = call(f"{self.api}{path}", method, body, self.token)
        assert status == 200, (path, status, answer)
        return answer

    def push(self, code: str | None, device: str = "robot-01", **extra: Any) -> str:
        """Push the lesson with ``code`` as the student's program (None: the solution)."""
        if code is None:
            from lessons import find_lesson  # noqa: PLC0415

            code = find_lesson(LESSON).file("solution.py").read_text(encoding="utf-8")
        pushed = self.call(
            "/push", "POST", {"lesson": LESSON, "devices": [device], "code": code, **extra}
        )
        (job,) = [j["job"] for j in pushed["jobs"]]
        return str(job)

    def job(self, job: str) -> dict[str, Any]:
        (found,) = [j for j in self.call("/jobs") if j["job"] == job]
        return dict(found)

    def wait_status(self, job: str, statuses: set[str], timeout: float = 60.0) -> dict[str, Any]:
        wait_until(
            lambda: self.job(job)["status"] in statuses,
            timeout,
            f"job {job} in {statuses} (now {self.job(job)})",
        )
        return self.job(job)

    def result(self, job: str) -> dict[str, Any]:
        """The stored result of ``job``, as a teacher reads it (``GET /api/v1/results``)."""
        mine: list[dict[str, Any]] = []

        def stored() -> bool:
            mine[:] = [r for r in self.call("/results") if r["job"] == job]
            return bool(mine)

        wait_until(stored, 30, f"the result of {job}")
        assert len(mine) == 1, mine
        return mine[0]

    def finish(self, job: str, timeout: float = 60.0) -> tuple[dict[str, Any], dict[str, Any]]:
        """The job's final row and its stored result."""
        return self.wait_status(job, FINAL, timeout), self.result(job)

    def device(self, device: str) -> dict[str, Any]:
        (found,) = [d for d in self.call("/devices") if d["device"] == device]
        return dict(found)

    def still_works(self, device: str = "robot-01") -> None:
        """Nothing was lost: the agent runs, is online, and the next job passes with 100."""
        agent = self.agents[device]
        assert agent.alive, agent.log.read_text(errors="replace")[-3000:]
        assert self.device(device)["online"]
        row, result = self.finish(self.push(None, device))
        assert row["status"] == "SUCCEEDED", (row, result)
        assert result["score"] == 100, result["result"].get("output", "")[-2000:]
        assert self.device(device)["online"]
        assert list(agent.tmp.iterdir()) == []  # every job's folders are gone
        # and every sandbox's cgroup, the attack's too
        assert [c for c in sandbox_cgroups() if c not in self.cgroups_before] == []

    def close(self) -> None:
        for agent in self.agents.values():
            agent.stop()
        self.server.close()
        self.console.close()


def roboclass(*args: str) -> list[str]:
    return [sys.executable, "-m", "roboclass", *args]


def start_classroom(tmp: Path) -> tuple[Classroom, Mosquitto]:
    """The room, set up as a maintainer would; the caller closes both."""
    port = free_port()
    made = subprocess.run(
        roboclass(
            "broker",
            "config",
            "--out",
            str(tmp / "broker"),
            "--host",
            "localhost",
            "--host",
            "127.0.0.1",
            "--devices",
            ",".join(DEVICES),
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
        ),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    layout = Layout(tmp / "broker")
    broker = Mosquitto(layout.conf, "127.0.0.1", port).start()
    try:
        creds = Credentials.load(layout.console)
        console = Console(
            ConsoleConfig(
                creds.host,
                creds.port,
                tmp / "console",
                site=creds.site,
                room=creds.room,
                keepalive=2,
                tls=creds.tls_context(),
            )
        )
        server = ApiServer(console).start()
        console.config.url = server.url
        console.start()
        console.db.accounts.add_teacher("ms-li", "a long secret")
        room = Classroom(
            tmp=tmp,
            layout=layout,
            port=port,
            console=console,
            server=server,
            token=console.db.accounts.new_token("ms-li", "attacks"),
            secret=f"agent-secret-{secrets.token_hex(8)}",
        )
    except BaseException:
        broker.close()
        raise
    try:
        assert console.wait_connected(10)
        key = public_key_text(console.key.public_key)
        for device in DEVICES:
            room.agents[device] = start_agent(room, device, key)
        wait_until(
            lambda: sorted(console.db.devices.ids(online_only=True)) == list(DEVICES),
            60,
            "both robots online over TLS",
        )
    except BaseException:
        room.close()
        broker.close()
        raise
    return room, broker


def start_agent(room: Classroom, device: str, console_key: str) -> AgentProcess:
    """``roboclass agent --broker-folder devices/DEVICE`` on the sim backend, its own folders."""
    home = room.tmp / device
    (home / "tmp").mkdir(parents=True)
    env = {
        **os.environ,
        "ROBOCLASS_DATA_DIR": str(home / "data"),
        "ROBOCLASS_CACHE_DIR": str(home / "cache"),
        "ROBOCLASS_CONFIG_DIR": str(home / "config"),
        # where it unpacks each job's lesson (the grader) and makes the program's work folder
        "TMPDIR": str(home / "tmp"),
        "ROBOCLASS_AGENT_SECRET": room.secret,
    }
    out = (home / "agent.out").open("wb")
    log = home / "agent.log"
    err = log.open("wb")
    proc = subprocess.Popen(
        roboclass(
            "agent",
            "--broker-folder",
            str(room.layout.device_dir(device)),
            "--console-key",
            console_key,
            "--backend",
            "sim",
            "--json",
        ),
        env=env,
        stdout=out,
        stderr=err,
    )
    agent = AgentProcess(device, proc, Path(), log, [out, err])
    facts_file = home / "agent.out"

    def started() -> bool:
        assert agent.alive, log.read_text(errors="replace")[-3000:]
        return facts_file.read_bytes().endswith(b"\n")

    wait_until(started, 60, f"{device}'s agent to start")
    facts = json.loads(facts_file.read_text().splitlines()[0])
    assert facts["device"] == device
    agent.state_dir = Path(facts["state_dir"])
    return agent


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


def none_survive(marker: str, timeout: float = 5.0) -> list[int]:
    """The processes carrying ``marker`` still there after ``timeout`` (none, when contained)."""
    deadline = time.monotonic() + timeout
    while survivors(marker) and time.monotonic() < deadline:
        time.sleep(0.05)  # the kernel reaps a killed tree in its own time
    return survivors(marker)


def sandbox_cgroups() -> list[Path]:
    """Sandbox cgroups below this process's memory cgroup (cgroup v1): the agents are its
    children, so their sandboxes' cgroups are made there. Elsewhere (v2, or a v1 memory
    cgroup at the root, shared with everything) other programs' sandboxes could be counted:
    nothing is looked for."""
    found: list[Path] = []
    for line in Path("/proc/self/cgroup").read_text(encoding="ascii").splitlines():
        _, names, path = line.split(":", 2)
        if "memory" in names.split(",") and path != "/":
            found += Path("/sys/fs/cgroup/memory", path.lstrip("/")).glob("roboclass-sandbox-*")
    return sorted(found)
