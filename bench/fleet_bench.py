"""The fleet under load: 40 robots on Mosquitto and on the embedded amqtt broker.

What it measures, per broker (all on loopback, on this computer):

- push -> IN_PROGRESS: from ``Console.push`` to all 40 robots until each
  robot's IN_PROGRESS status reaches a watcher client on the broker
  (per-robot latencies, p50/p99 over every round);
- e-stop -> stopped: from ``Console.stop_all`` until each agent has stopped
  its robot and its running job (``Agent.estop_at``), per robot, p50/p99, and
  the slowest robot of each round ("all stopped");
- result ingest: results stored (and acked) per second by the console, against
  a bare paho subscriber counting the same messages from the same publishers
  on the same broker, in turns (console, bare, console, ...); the ratio is
  the median over the trials of console / bare of each turn, so that a
  machine that slows down for a while slows both sides of a pair alike
  (the median rates are printed too). The publishers are 4
  processes (the robots are other computers); ``--publishers-in-process``
  makes them threads of this process, sharing its GIL with the subscriber;

and once: the idle RSS of a real ``roboclass agent`` process without a model
(with ``--no-robot``, and with a sim robot) and the import time of
``fleet.agent.agent``.

The 40 robots are :class:`fleet.agent.agent.Agent` objects (threads: an MQTT
connection, a job worker and a ticker each), each with a sim robot and a
runner that holds its job until it is stopped. By default they are spread
over 8 worker processes (``--processes 8``): real robots each have their own
computer, and 40 processes would not fit on a 2-core machine next to the
brokers. ``--processes 0`` keeps them all in this process, where 40 agents
(about 120 threads) share one GIL with the console and the watcher. Either way
"stopped" is each agent's own ``Agent.estop_at`` (a worker process reports
its agents' times: CLOCK_MONOTONIC is one clock for all the processes).
Numbers, no asserts::

    .venv/bin/python bench/fleet_bench.py [--robots 40] [--rounds 8] [--results 2000]
                                          [--processes 8] [--json | --markdown]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import multiprocessing
import os
import queue
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from report import print_markdown

from fleet.agent.agent import Agent, AgentConfig, JobContext
from fleet.broker.embedded import EmbeddedBroker
from fleet.broker.mosquitto import Mosquitto
from fleet.console.console import Console, ConsoleConfig
from fleet.core.protocol import (
    PROTOCOL_REVISION,
    DeviceState,
    JobResult,
    JobStatus,
    Status,
    Topics,
    encode,
)
from fleet.core.signing import key_id, load_public_key, public_key_text
from hardware import Robot

SETTLE_S = 60.0


def hold_runner(ctx: JobContext) -> dict[str, Any]:
    """A job that runs until it is stopped (the e-stop ends it)."""
    ctx.stop.wait(600)
    return {"status": "stopped", "score": 0}


def pct(values: list[float], p: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


def wait(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.005)


@contextlib.contextmanager
def broker(kind: str) -> Iterator[tuple[str, int]]:
    if kind == "mosquitto":
        with Mosquitto.loopback(extra_config="max_queued_messages 100000\n") as m:
            yield m.host, m.port
    else:
        with EmbeddedBroker() as b:
            yield b.host, b.port


class StatusWatch:
    """A plain client that notes when each job's IN_PROGRESS arrives."""

    def __init__(self, host: str, port: int, console: Console) -> None:
        self.seen: dict[str, float] = {}
        #: device -> (estopped, job) from its latest up/state
        self.states: dict[str, tuple[bool, str | None]] = {}
        self._lock = threading.Lock()
        ready = threading.Event()
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="rc-bench-watch")
        client.on_message = self._message
        client.on_subscribe = lambda *_: ready.set()
        client.connect(host, port)
        client.loop_start()
        client.subscribe(
            [
                (f"{console.topics.base}/dev/+/up/jobs/+/status", 1),
                (f"{console.topics.base}/dev/+/up/state", 1),
            ]
        )
        if not ready.wait(10):
            raise SystemExit("the watcher's subscription was not confirmed")
        self.client = client

    def _message(self, _c: object, _u: object, message: mqtt.MQTTMessage) -> None:
        now = time.monotonic()
        if message.topic.endswith("/up/state"):
            try:
                state = DeviceState.model_validate_json(message.payload)
            except ValueError:
                return
            with self._lock:
                self.states[state.device] = (state.estopped, state.job)
            return
        if not message.topic.endswith("/status"):
            return
        try:
            status = JobStatus.model_validate_json(message.payload)
        except ValueError:
            return
        if status.status is Status.IN_PROGRESS:
            with self._lock:
                self.seen.setdefault(status.job, now)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def one_round(
    console: Console, agents: list[Agent], watch: StatusWatch, sha: str
) -> tuple[list[float], list[float]]:
    """Push to all, wait for IN_PROGRESS, e-stop all, release; the two lists of latencies."""
    stored = console.results_stored
    start = time.monotonic()
    jobs = [j["job"] for j in console.push(sha, "hold", [a.device for a in agents])]
    wait(lambda: all(j in watch.seen for j in jobs), SETTLE_S, "IN_PROGRESS")
    push = [watch.seen[j] - start for j in jobs]
    wait(lambda: all(a.current_job is not None for a in agents), SETTLE_S, "running")
    stop_at = time.monotonic()
    console.stop_all("bench")
    wait(
        lambda: all(a.estop_at is not None and a.estop_at >= stop_at for a in agents),
        SETTLE_S,
        "every robot stopped",
    )
    stopped = [(a.estop_at or 0.0) - stop_at for a in agents]
    wait(lambda: console.results_stored >= stored + len(jobs), SETTLE_S, "results")
    console.clear_stop("bench")
    wait(lambda: not any(a.estopped or a.current_job for a in agents), SETTLE_S, "release")
    return push, stopped


def one_round_remote(
    console: Console,
    devices: list[str],
    watch: StatusWatch,
    sha: str,
    estop_at: dict[str, float | None],
) -> tuple[list[float], list[float]]:
    """As :func:`one_round` for agents in other processes.

    "stopped" is each agent's own ``estop_at``, which its worker process
    reports; (CLOCK_MONOTONIC is shared by the processes of one computer).
    """
    stored = console.results_stored
    start = time.monotonic()
    jobs = [j["job"] for j in console.push(sha, "hold", devices)]
    wait(lambda: all(j in watch.seen for j in jobs), SETTLE_S, "IN_PROGRESS")
    push = [watch.seen[j] - start for j in jobs]
    stop_at = time.monotonic()
    console.stop_all("bench")
    wait(
        lambda: all((estop_at.get(d) or 0.0) >= stop_at for d in devices),
        SETTLE_S,
        "every robot stopped",
    )
    stopped = [(estop_at[d] or 0.0) - stop_at for d in devices]
    wait(lambda: console.results_stored >= stored + len(jobs), SETTLE_S, "results")
    console.clear_stop("bench")
    wait(lambda: all(watch.states.get(d) == (False, None) for d in devices), SETTLE_S, "release")
    return push, stopped


def worker(host: str, port: int, key: str, first: int, count: int, folder: Path) -> None:
    """``--worker``: run ``count`` agents with sim robots until stdin closes."""
    public = load_public_key(key)
    robots = [Robot(kit="sim", backend="sim", realtime=False) for _ in range(count)]
    agents = [
        Agent(
            AgentConfig(
                device=f"bench-{first + i:02d}",
                host=host,
                port=port,
                state_dir=folder / f"agent-{first + i:02d}",
                trusted_keys={key_id(public): public},
                runner=hold_runner,
            ),
            robot=robot,
        ).start()
        for i, robot in enumerate(robots)
    ]
    done = threading.Event()

    def report() -> None:
        # each agent's own e-stop time (CLOCK_MONOTONIC is one clock for every process
        # on this computer), for the parent to time e-stops exactly; polled, but the
        # times are the agents' own, so the polling adds nothing to them
        told: dict[str, float | None] = {}
        while not done.wait(0.002):
            for a in agents:
                if a.estop_at != told.get(a.device):
                    told[a.device] = a.estop_at
                    print(f"estop {a.device} {a.estop_at!r}", flush=True)

    reporter = threading.Thread(target=report, name="bench-estop-report", daemon=True)
    reporter.start()
    try:
        sys.stdin.read()
    finally:
        done.set()
        reporter.join()
        for a in agents:
            a.close()
        for robot in robots:
            robot.close()


def latencies_processes(
    host: str, port: int, robots: int, processes: int, rounds: int, folder: Path
) -> dict[str, list[float]]:
    """The rounds with the agents spread over ``processes`` worker processes."""
    console = Console(ConsoleConfig(host=host, port=port, data_dir=folder / "console"))
    console.start()
    if not console.wait_connected(10):
        raise SystemExit("the console did not connect")
    watch = StatusWatch(host, port, console)
    key = public_key_text(console.key.public_key)
    per = -(-robots // processes)
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--worker",
                f"{host}:{port}",
                key,
                str(first),
                str(min(per, robots - first)),
                str(folder),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for first in range(0, robots, per)
    ]
    estop_at: dict[str, float | None] = {}

    def read(proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            what, device, value = line.split()
            if what == "estop":
                estop_at[device] = None if value == "None" else float(value)

    readers = [threading.Thread(target=read, args=(p,), daemon=True) for p in procs]
    for reader in readers:
        reader.start()
    devices = [f"bench-{i:02d}" for i in range(robots)]
    push: list[float] = []
    estop: list[float] = []
    all_stopped: list[float] = []
    try:
        wait(lambda: len(console.db.devices.ids(online_only=True)) == robots, 120, "births")
        sha = console.bundles.put(b"hold")
        for _ in range(rounds):
            pushed, stopped = one_round_remote(console, devices, watch, sha, estop_at)
            push += pushed
            estop += stopped
            all_stopped.append(max(stopped))
    finally:
        for proc in procs:
            if proc.stdin is not None:
                proc.stdin.close()
        for proc in procs:
            proc.wait(timeout=60)
        watch.close()
        console.close()
    return {"push": push, "estop": estop, "all_stopped": all_stopped}


def latencies(
    host: str, port: int, robots: list[Robot], rounds: int, folder: Path
) -> dict[str, list[float]]:
    """Push to all, wait for IN_PROGRESS, e-stop all, release: ``rounds`` times."""
    console = Console(ConsoleConfig(host=host, port=port, data_dir=folder / "console"))
    console.start()
    if not console.wait_connected(10):
        raise SystemExit("the console did not connect")
    agents = [
        Agent(
            AgentConfig(
                device=f"bench-{i:02d}",
                host=host,
                port=port,
                state_dir=folder / f"agent-{i:02d}",
                trusted_keys={console.key.kid: console.key.public_key},
                runner=hold_runner,
            ),
            robot=robot,
        ).start()
        for i, robot in enumerate(robots)
    ]
    watch = StatusWatch(host, port, console)
    push: list[float] = []
    estop: list[float] = []
    all_stopped: list[float] = []
    try:
        wait(lambda: all(a.link.wait_connected(0) for a in agents), SETTLE_S, "agents online")
        wait(lambda: len(console.db.devices.ids(online_only=True)) == len(agents), 30, "births")
        sha = console.bundles.put(b"hold")
        for _ in range(rounds):
            pushed, stopped = one_round(console, agents, watch, sha)
            push += pushed
            estop += stopped
            all_stopped.append(max(stopped))
    finally:
        watch.close()
        for a in agents:
            a.close()
        console.close()
    return {"push": push, "estop": estop, "all_stopped": all_stopped}


def _payloads(console: Console, devices: int, n: int) -> list[tuple[str, bytes]]:
    out = []
    for i in range(n):
        device, job = f"ing-{i % devices:02d}", f"jing{i:06d}"
        console.db.jobs.add(job, device, "ingest", "0" * 64, "{}")
        msg = JobResult(
            device=device,
            job=job,
            result_id=f"r{i:031d}",
            status=Status.SUCCEEDED,
            result={"status": "passed", "score": 100, "metrics": {"steps": i}},
            ts=time.time(),
        )
        out.append((console.topics.result(device, job), encode(msg)))
    return out


def _publisher(
    host: str, port: int, part: list[tuple[str, bytes]], name: str, ready: Any, go: Any
) -> None:
    """One robot-like client in its own process: connect, say ready, publish at QoS 1 on go."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=name)
    client.max_inflight_messages_set(100)
    client.connect(host, port)
    client.loop_start()
    try:
        ready.put(name)
        if not go.wait(120):
            return
        infos = [client.publish(t, p, qos=1) for t, p in part]
        for info in infos:
            info.wait_for_publish(120)
    finally:
        client.disconnect()
        client.loop_stop()


class Publishers:
    """``clients`` publishing processes (the robots are other computers, not this process).

    They connect first; :meth:`go` starts them all at once and returns the
    start time, so process start-up is not timed. ``in_process``: threads of
    this process instead (all clients then share this process's GIL with the
    subscriber being measured: the method before 2026-11-30).
    """

    def __init__(
        self, host: str, port: int, payloads: list[tuple[str, bytes]], clients: int,
        *, in_process: bool = False,
    ) -> None:  # fmt: skip
        ctx = multiprocessing.get_context("spawn")
        self.ready: Any = queue.Queue() if in_process else ctx.Queue()
        self._go: Any = threading.Event() if in_process else ctx.Event()
        make = threading.Thread if in_process else ctx.Process
        self.workers = [
            make(
                target=_publisher,
                args=(host, port, payloads[c::clients], f"rc-bench-pub-{c}", self.ready, self._go),
                daemon=True,
            )
            for c in range(clients)
        ]
        for w in self.workers:
            w.start()
        for _ in self.workers:
            self.ready.get(timeout=60)

    def go(self) -> float:
        start = time.monotonic()
        self._go.set()
        return start

    def join(self) -> None:
        for w in self.workers:
            w.join(120)


def _births(host: str, port: int, topics: Topics, devices: int) -> None:
    """Retained births of the ingest devices, from agents of this version (batched acks)."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="rc-bench-births")
    client.connect(host, port)
    client.loop_start()
    try:
        infos = []
        for i in range(devices):
            device = f"ing-{i:02d}"
            birth = DeviceState(
                device=device, session="bench", online=True, ts=time.time(),
                versions={"protocol": PROTOCOL_REVISION},
            )  # fmt: skip
            infos.append(client.publish(topics.state(device), encode(birth), qos=1, retain=True))
        for info in infos:
            info.wait_for_publish(30)
    finally:
        client.disconnect()
        client.loop_stop()


def console_ingest(host: str, port: int, n: int, folder: Path, *, in_process: bool) -> float:
    """Results stored (and acked) per second by a console, from 4 publishing devices."""
    console = Console(ConsoleConfig(host=host, port=port, data_dir=folder))
    console.start()
    if not console.wait_connected(10):
        raise SystemExit("the console did not connect")
    try:
        # a robot is born before it sends results; its jobs are made after the births,
        # or the console would send each robot its unfinished jobs on the birth
        _births(host, port, console.topics, 40)
        wait(lambda: len(console.db.devices.ids(online_only=True)) >= 40, 30, "births")
        payloads = _payloads(console, 40, n)
        publishers = Publishers(host, port, payloads, 4, in_process=in_process)
        start = publishers.go()
        wait(lambda: console.results_stored >= n, 300, "every result stored")
        rate = n / (time.monotonic() - start)
        publishers.join()
        return rate
    finally:
        console.close()


def bare_ingest(host: str, port: int, n: int, topics: Topics, *, in_process: bool) -> float:
    """Messages per second to a bare paho subscriber, from the same publishers and payloads."""
    with tempfile.TemporaryDirectory(prefix="rc-fleet-bench-") as tmp:
        maker = Console(ConsoleConfig(host, port, Path(tmp)))  # never started: topics, store
        payloads = _payloads(maker, 40, n)
        maker.close()
    got = 0
    done = threading.Event()
    ready = threading.Event()

    def on_message(_c: object, _u: object, message: mqtt.MQTTMessage) -> None:
        nonlocal got
        if not message.topic.endswith("/result"):
            return  # retained births of the latency rounds
        got += 1
        if got >= n:
            done.set()

    bare = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="rc-bench-bare")
    bare.on_message = on_message
    bare.on_subscribe = lambda *_: ready.set()
    bare.connect(host, port)
    bare.loop_start()
    bare.subscribe(topics.all_up, qos=1)
    if not ready.wait(10):
        raise SystemExit("the bare subscription was not confirmed")
    try:
        publishers = Publishers(host, port, payloads, 4, in_process=in_process)
        start = publishers.go()
        if not done.wait(300):
            raise SystemExit(f"the bare subscriber got {got} of {n}")
        rate = n / (time.monotonic() - start)
        publishers.join()
        return rate
    finally:
        bare.disconnect()
        bare.loop_stop()


def ingest(
    host: str, port: int, n: int, trials: int, folder: Path, *, in_process: bool = False
) -> tuple[float, float, list[float]]:
    """Median console and bare rates over ``trials`` alternating runs of each, and each
    turn's console / bare."""
    console_rates, bare_rates = [], []
    for trial in range(trials):
        console_rates.append(
            console_ingest(host, port, n, folder / f"ingest-{trial}", in_process=in_process)
        )
        bare_rates.append(
            bare_ingest(host, port, n, Topics("school", "room1"), in_process=in_process)
        )
    ratios = [c / b for c, b in zip(console_rates, bare_rates, strict=True)]
    return statistics.median(console_rates), statistics.median(bare_rates), ratios


def agent_process(folder: Path, *, robot: bool) -> tuple[float, float]:
    """(idle RSS in MB, seconds from start to its birth at the console) of `roboclass agent`."""
    with Mosquitto.loopback() as m:
        console = Console(ConsoleConfig(host=m.host, port=m.port, data_dir=folder / "rss"))
        console.start()
        start = time.monotonic()
        proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from roboclass.cli import main; main()",
                "agent",
                "--device",
                "rss",
                "--broker",
                f"{m.host}:{m.port}",
                "--console-key",
                public_key_text(console.key.public_key),
                "--backend",
                "sim",
                "--state-dir",
                str(folder / "rss-agent"),
                *([] if robot else ["--no-robot"]),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait(lambda: "rss" in console.db.devices.ids(online_only=True), 60, "agent birth")
            born = time.monotonic() - start
            time.sleep(3)  # idle: a few telemetry ticks
            status = Path(f"/proc/{proc.pid}/status").read_text()
            kb = next(
                int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS")
            )
        finally:
            proc.terminate()
            proc.wait(timeout=15)
            console.close()
    return kb / 1024, born


def import_time(runs: int = 5) -> float:
    code = "import time; t = time.perf_counter(); import fleet.agent.agent; print(time.perf_counter() - t)"
    times = [
        float(subprocess.run([sys.executable, "-c", code], capture_output=True, check=True).stdout)
        for _ in range(runs)
    ]
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--robots", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--results", type=int, default=2000)
    parser.add_argument("--trials", type=int, default=5, help="ingest runs of each kind")
    parser.add_argument("--brokers", default="mosquitto,amqtt")
    parser.add_argument(
        "--processes",
        type=int,
        default=8,
        help="spread the agents over this many processes (0: all in this one)",
    )
    parser.add_argument(
        "--publishers-in-process",
        action="store_true",
        help="ingest: publish from threads of this process (default: 4 processes, like robots)",
    )
    parser.add_argument("--worker", nargs=5, help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--markdown", action="store_true", help="a table for docs/benchmarks.md")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    if args.worker:
        address, key, first, count, folder = args.worker
        host, port = address.rsplit(":", 1)
        worker(host, int(port), key, int(first), int(count), Path(folder))
        return
    rows = []
    robots = (
        []
        if args.processes
        else [Robot(kit="sim", backend="sim", realtime=False) for _ in range(args.robots)]
    )
    try:
        for kind in args.brokers.split(","):
            with tempfile.TemporaryDirectory(prefix="rc-fleet-bench-") as tmp, broker(kind) as hp:
                if args.processes:
                    lat = latencies_processes(
                        *hp, args.robots, args.processes, args.rounds, Path(tmp)
                    )
                else:
                    lat = latencies(*hp, robots, args.rounds, Path(tmp))
                console_rate, bare_rate, ratios = ingest(
                    *hp, args.results, args.trials, Path(tmp),
                    in_process=args.publishers_in_process,
                )  # fmt: skip
            rows.append(
                row := {
                    "broker": kind,
                    "robots": args.robots,
                    "push_p50_ms": round(statistics.median(lat["push"]) * 1e3, 1),
                    "push_p99_ms": round(pct(lat["push"], 99) * 1e3, 1),
                    "estop_p50_ms": round(statistics.median(lat["estop"]) * 1e3, 1),
                    "estop_p99_ms": round(pct(lat["estop"], 99) * 1e3, 1),
                    "all_stopped_median_ms": round(statistics.median(lat["all_stopped"]) * 1e3, 1),
                    "all_stopped_max_ms": round(max(lat["all_stopped"]) * 1e3, 1),
                    "ingest_per_s": round(console_rate),
                    "bare_per_s": round(bare_rate),
                    "ingest_ratio": round(statistics.median(ratios), 2),
                    "ingest_ratios": [round(r, 2) for r in ratios],
                }
            )
            print(json.dumps(row), file=sys.stderr)
    finally:
        for robot in robots:
            robot.close()
    with tempfile.TemporaryDirectory(prefix="rc-fleet-bench-") as tmp:
        rss_mb, born_s = agent_process(Path(tmp) / "sim", robot=True)
        bare_mb, _ = agent_process(Path(tmp) / "none", robot=False)
    agent = {
        "idle_rss_mb": round(rss_mb, 1),
        "idle_rss_no_robot_mb": round(bare_mb, 1),
        "start_to_birth_s": round(born_s, 2),
        "import_fleet_agent_s": round(import_time(), 3),
    }
    if args.json:
        print(json.dumps({"brokers": rows, "agent": agent}))
        return
    if args.markdown:
        where = f"agents in {args.processes} processes" if args.processes else "agents in 1 process"
        print_markdown(
            [f"{args.robots} robots", "push -> IN_PROGRESS p50 / p99", "e-stop -> stopped p50 / p99",
             "slowest robot, median / max", "ingest: console / bare paho", "ratio (turns)"],
            [
                [f"{r['broker']}, {where}", f"{r['push_p50_ms']} / {r['push_p99_ms']} ms",
                 f"{r['estop_p50_ms']} / {r['estop_p99_ms']} ms",
                 f"{r['all_stopped_median_ms']} / {r['all_stopped_max_ms']} ms",
                 f"{r['ingest_per_s']} / {r['bare_per_s']} per s",
                 f"{r['ingest_ratio']:.2f}x ({', '.join(f'{x:.2f}' for x in r['ingest_ratios'])})"]
                for r in rows
            ],
            notes=[f"{args.rounds} rounds; ingest {args.trials} x {args.results} results. "
                   f"Agent process, no model: idle RSS {agent['idle_rss_no_robot_mb']} MB with "
                   f"--no-robot, {agent['idle_rss_mb']} MB with a sim robot; start to birth "
                   f"{agent['start_to_birth_s']} s; importing the agent "
                   f"{agent['import_fleet_agent_s'] * 1e3:.0f} ms (median of 5)."],
        )  # fmt: skip
        return
    load = os.getloadavg()[0]
    where = f"in {args.processes} processes" if args.processes else "in-process"
    print(
        f"fleet bench: {args.robots} agents with sim robots ({where}), {args.rounds} rounds, "
        f"ingest {args.trials} x {args.results} results; python {sys.version.split()[0]}, "
        f"{os.cpu_count()} CPUs, load average {load:.1f} at the end"
    )
    stopped = "stopped"
    print(
        f"| broker | push->IN_PROGRESS p50 / p99 | e-stop->{stopped} p50 / p99 "
        "| all stopped median / max | ingest (console) | bare paho loop | ratio |"
    )
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['broker']} | {r['push_p50_ms']} / {r['push_p99_ms']} ms "
            f"| {r['estop_p50_ms']} / {r['estop_p99_ms']} ms "
            f"| {r['all_stopped_median_ms']} / {r['all_stopped_max_ms']} ms "
            f"| {r['ingest_per_s']}/s | {r['bare_per_s']}/s | {r['ingest_ratio']:.2f}x |"
        )
    for r in rows:
        turns = ", ".join(f"{x:.2f}" for x in r["ingest_ratios"])
        print(f"{r['broker']} ingest, console / bare of each turn: {turns}")
    print(
        f"agent process, no model: idle RSS {agent['idle_rss_no_robot_mb']} MB with --no-robot, "
        f"{agent['idle_rss_mb']} MB with a sim robot; "
        f"start to birth {agent['start_to_birth_s']} s; import fleet.agent.agent "
        f"{agent['import_fleet_agent_s'] * 1e3:.0f} ms (median of 5)"
    )


if __name__ == "__main__":
    main()
