"""A class of students running their programs in the simulator at once, against one console.

``--students`` students (default 40) press Run together: each starts a
real-time simulator run of "Follow the line" with their own program (the
lesson's solution, printing once a second, driving for ``--seconds``) and
reads it as a page would, an HTTP stream of Server-Sent Events. The console
is the real one in a process of its own (started by this script: the
console's API with its student routes; a class of ``--students`` with PINs
and an open period on the lesson, so its simulator workers are warm); the
students are threads here, each joining with the class code, their id and
PIN, then one HTTP connection for their run. Then every student hands in at
once (``POST /api/v1/student/handins``: a graded run of the same program on
simulated time in the workers, in turn), timed from the request to the score.

Measured, for one student alone and for the class: Run -> first frame (the
first pose; p50/p95), Run -> the robot moves (the program is up and
driving), frames (poses) per second each page got (median, min) and how
fast sim time went against the wall clock (1.0 = real time), the console
process's CPU (% of one core) and peak RSS, the students' programs' RSS (all
their sandboxed processes), and hand-in -> score (p50/p95). Goals (issue 21):
>= 10 frames per second each with 40 students, Run -> first frame p95 <= 1 s,
console memory <= 1 GB.

    .venv/bin/python bench/classroom_students.py [--students 40] [--seconds 30] [--markdown]

Numbers, no asserts. Needs bubblewrap (``make system-deps``).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
from report import print_markdown

from lessons import find_lesson

ROOT = Path(__file__).resolve().parents[1]
LESSON = "line-follower"

# A student's program: follow the line for SECONDS, saying where it is once a second.
PROGRAM = """\
import time
from hardware import Robot

K = 1.5
with Robot() as robot:
    start = last = time.monotonic()
    while time.monotonic() - start < {seconds}:
        where = robot.line.position
        if where is None:
            robot.drive.forward(0.3)
        else:
            robot.drive.arc(0.6, max(-1.0, min(1.0, -K * where)))
        if time.monotonic() - last >= 1.0:
            last = time.monotonic()
            print("line at", where)
        time.sleep(0.01)
    robot.drive.stop()
"""


# -- the console: the real one, in a process of its own --------------------------------
PIN = "2468"


def serve(port_file: Path, students: int) -> None:
    """Run a console with a class of ``students`` and an open period on the lesson until
    killed; write its port, the class code and the students' ids to ``port_file``."""
    from fleet.console.api import ApiServer  # noqa: PLC0415 - only in the console's process
    from fleet.console.api.deps import simruns  # noqa: PLC0415
    from fleet.console.console import Console, ConsoleConfig  # noqa: PLC0415
    from fleet.console.store import PinKind  # noqa: PLC0415

    logging.basicConfig(level=logging.WARNING, format="%(created).3f %(message)s")
    with tempfile.TemporaryDirectory() as tmp:
        console = Console(ConsoleConfig("127.0.0.1", 9, Path(tmp) / "console"))  # no broker
        ids = [console.db.rosters.add_student(f"student-{i}", "bench") for i in range(students)]
        for student_id in ids:
            console.db.classes.set_pin(student_id, PIN, PinKind.DIGITS)
        period = console.db.classes.start_period("bench", "bench", lesson_id=LESSON)
        with ApiServer(console) as server:
            runs = simruns(server.app)  # as a period's start does: the workers get ready
            lesson = find_lesson(LESSON)
            runs.warm(lesson)
            while not runs.warmed(lesson):
                time.sleep(0.1)
            info = {"port": server.port, "code": period.code, "students": ids}
            port_file.write_text(json.dumps(info))
            threading.Event().wait()


@contextlib.contextmanager
def console(students: int) -> Iterator[tuple[dict[str, Any], psutil.Process]]:
    """The console process: (its port, class code and students' ids; the process)."""
    with tempfile.TemporaryDirectory() as tmp:
        port_file = Path(tmp) / "port"
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        proc = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(port_file), "--students", str(students)],
            env=env,
        )
        try:
            deadline = time.monotonic() + 60
            while not port_file.exists() or not port_file.read_text():
                if proc.poll() is not None or time.monotonic() > deadline:
                    sys.exit("the console did not start")
                time.sleep(0.05)
            yield json.loads(port_file.read_text()), psutil.Process(proc.pid)
        finally:
            proc.terminate()
            proc.wait(timeout=30)


# -- the students ----------------------------------------------------------------------------
@dataclass
class Student:
    """What one student's page saw."""

    first_pose: float | None = None  # seconds after pressing Run
    first_move: float | None = None
    poses: int = 0
    pose_wall: list[float] = field(default_factory=list)  # first and last pose: wall time
    pose_sim: list[float] = field(default_factory=list)  # and sim time
    lines: int = 0
    end: dict[str, Any] | None = None
    handin_s: float | None = None
    error: str | None = None


SAME_ORIGIN = {"Content-Type": "application/json", "Sec-Fetch-Site": "same-origin"}


def post(
    port: int, path: str, body: dict[str, Any], cookie: str = "", timeout: float = 600
) -> tuple[dict[str, Any], str]:
    """POST as the student's page does: (the answer, the session cookie it set, if any)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        headers = {**SAME_ORIGIN, **({"Cookie": cookie} if cookie else {})}
        conn.request("POST", path, json.dumps(body), headers)
        response = conn.getresponse()
        data = response.read()
        if response.status != 200:
            raise RuntimeError(f"{path}: {response.status} {data[:200]!r}")
        answer: dict[str, Any] = json.loads(data)
        return answer, (response.getheader("set-cookie") or "").split(";")[0]
    finally:
        conn.close()


def join(port: int, code: str, student_id: str) -> str:
    """Join the class as a student: the session cookie."""
    return post(port, "/api/v1/join", {"code": code, "student_id": student_id, "pin": PIN})[1]


def events(port: int, run_id: str, cookie: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """The run's Server-Sent Events as (event, data), as a browser's EventSource reads them."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request("GET", f"/api/v1/student/runs/{run_id}/events", headers={"Cookie": cookie})
        response = conn.getresponse()
        if response.status != 200:
            raise RuntimeError(f"events: {response.status} {response.read()[:200]!r}")
        kind, data = "", ""
        while line := response.readline():
            text = line.decode("utf-8").rstrip("\n")
            if text.startswith("event: "):
                kind = text[7:]
            elif text.startswith("data: "):
                data = text[6:]
            elif not text and kind:
                yield kind, json.loads(data)
                kind, data = "", ""
    finally:
        conn.close()


def watch(port: int, cookie: str, code: str, go: threading.Barrier, me: Student) -> None:
    """Press Run, then read the page's stream to the end."""
    go.wait()
    pressed = time.monotonic()
    try:
        body = {"lesson_id": LESSON, "code": code, "place": "sim"}
        run_id = post(port, "/api/v1/student/runs", body, cookie)[0]["run"]
        start: tuple[float, float] | None = None
        for kind, data in events(port, run_id, cookie):
            now = time.monotonic()
            if kind == "pose":
                me.poses += 1
                if me.first_pose is None:
                    me.first_pose, start = now - pressed, (data["x"], data["y"])
                    me.pose_wall, me.pose_sim = [now, now], [data["t"], data["t"]]
                me.pose_wall[1], me.pose_sim[1] = now, data["t"]
                if me.first_move is None and start != (data["x"], data["y"]):
                    me.first_move = now - pressed
            elif kind == "output":
                me.lines += 1
            elif kind == "end":
                me.end = data
    except (OSError, RuntimeError) as exc:
        me.error = str(exc)


def hand_in(port: int, cookie: str, code: str, go: threading.Barrier, me: Student) -> None:
    go.wait()
    pressed = time.monotonic()
    try:
        post(port, "/api/v1/student/handins", {"lesson_id": LESSON, "code": code}, cookie)
        me.handin_s = time.monotonic() - pressed
    except (OSError, RuntimeError) as exc:
        me.error = str(exc)


class Monitor:
    """Samples the console, its simulator workers and the students' programs twice a second:
    peak RSS (the console with its workers; the programs' sandboxes) and CPU time."""

    def __init__(self, proc: psutil.Process) -> None:
        self.proc = proc
        self.console_peak = self.programs_peak = 0
        self._cpu: dict[int, tuple[str, float]] = {}  # pid -> (console/worker/program, CPU s)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._t0 = time.monotonic()
        self._start = self._sample()
        self._thread.start()

    def _sample(self) -> dict[str, float]:
        mine = {"console": 0, "programs": 0}
        for p in [self.proc, *self.proc.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                kind = (
                    "console"
                    if p.pid == self.proc.pid
                    else "worker"
                    if "fleet.console.simworker" in " ".join(p.cmdline())
                    else "program"
                )
                self._cpu[p.pid] = (kind, sum(p.cpu_times()[:2]))
                rss = p.memory_info().rss
                mine["programs" if kind == "program" else "console"] += rss
        self.console_peak = max(self.console_peak, mine["console"])
        self.programs_peak = max(self.programs_peak, mine["programs"])
        return self.cpu()

    def cpu(self) -> dict[str, float]:
        """CPU seconds so far of the console, its workers and the programs (exited ones too)."""
        out = {"console": 0.0, "worker": 0.0, "program": 0.0}
        for kind, seconds in self._cpu.values():
            out[kind] += seconds
        return out

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            with contextlib.suppress(psutil.Error):
                self._sample()

    def stop(self) -> dict[str, float]:
        """Stop sampling; CPU of each kind since the start, % of one core."""
        self._stop.set()
        self._thread.join()
        end = self._sample()
        wall = time.monotonic() - self._t0
        return {k: 100 * (end[k] - self._start.get(k, 0.0)) / wall for k in end}


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def class_of(n: int, seconds: float) -> dict[str, Any]:
    """``n`` students at once against a fresh console: the figures of one row."""
    code = PROGRAM.format(seconds=seconds)
    students = [Student() for _ in range(n)]
    with console(n) as (info, proc):
        port = info["port"]
        cookies = [join(port, info["code"], student_id) for student_id in info["students"]]
        load = os.getloadavg()[0]
        go = threading.Barrier(n)
        monitor = Monitor(proc)
        threads = [
            threading.Thread(target=watch, args=(port, cookies[i], code, go, s))
            for i, s in enumerate(students)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        cpu = monitor.stop()
        go = threading.Barrier(n)
        threads = [
            threading.Thread(target=hand_in, args=(port, cookies[i], code, go, s))
            for i, s in enumerate(students)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    errors = [s.error for s in students if s.error]
    ok = [s for s in students if s.first_pose is not None and s.end is not None]
    fps = [s.poses / max(1e-9, s.pose_wall[1] - s.pose_wall[0]) for s in ok]
    speed = [
        (s.pose_sim[1] - s.pose_sim[0]) / max(1e-9, s.pose_wall[1] - s.pose_wall[0]) for s in ok
    ]
    first = [s.first_pose for s in ok if s.first_pose is not None]
    moved = [s.first_move for s in ok if s.first_move is not None]
    handin = [s.handin_s for s in students if s.handin_s is not None]
    return {
        "students": n,
        "load": load,
        "ok": len(ok),
        "errors": errors,
        "first_p50": statistics.median(first) if first else None,
        "first_p95": pct(first, 0.95) if first else None,
        "move_p50": statistics.median(moved) if moved else None,
        "move_p95": pct(moved, 0.95) if moved else None,
        "fps_median": statistics.median(fps) if fps else None,
        "fps_min": min(fps) if fps else None,
        "speed_median": statistics.median(speed) if speed else None,
        "speed_min": min(speed) if speed else None,
        "cpu": cpu["console"],
        "worker_cpu": cpu["worker"],
        "program_cpu": cpu["program"],
        "console_mb": monitor.console_peak / 1024**2,
        "programs_mb": monitor.programs_peak / 1024**2,
        "lines": statistics.median([s.lines for s in ok]) if ok else 0,
        "passed": sum(1 for s in ok if s.end and s.end.get("status") == "passed"),
        "handin_p50": statistics.median(handin) if handin else None,
        "handin_p95": pct(handin, 0.95) if handin else None,
    }


def fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=30.0, help="how long each program drives")
    parser.add_argument("--markdown", action="store_true", help="a table for docs/benchmarks.md")
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.students)
        return
    rows = []
    for n in sorted({1, args.students}):
        r = class_of(n, args.seconds)
        if not args.markdown:
            print(json.dumps(r), flush=True)
        goals = (
            r["fps_min"] is not None
            and r["fps_min"] >= 10
            and (r["first_p95"] or 99) <= 1.0
            and r["console_mb"] <= 1024
        )
        rows.append(
            [
                n,
                f"{r['ok']}/{n}",
                f"{fmt(r['first_p50'])}/{fmt(r['first_p95'])}",
                f"{fmt(r['move_p50'])}/{fmt(r['move_p95'])}",
                f"{fmt(r['fps_median'], 1)}/{fmt(r['fps_min'], 1)}",
                f"{fmt(r['speed_median'])}/{fmt(r['speed_min'])}",
                f"{r['cpu']:.0f}/{r['worker_cpu']:.0f}/{r['program_cpu']:.0f}",
                f"{r['console_mb']:.0f}",
                f"{r['programs_mb']:.0f}",
                f"{fmt(r['handin_p50'], 1)}/{fmt(r['handin_p95'], 1)}",
                f"{r['load']:.1f}",
                "yes" if goals else "NO",
            ]
        )
    columns = [
        "students",
        "runs ended",
        "Run -> first frame p50/p95 s",
        "Run -> robot moves p50/p95 s",
        "frames/s per client median/min",
        "sim speed median/min",
        "CPU % console/workers/programs",
        "console+workers peak RSS MB",
        "programs' RSS MB",
        "hand-in -> score p50/p95 s",
        "load before",
        "goals",
    ]
    notes = [
        f"Each student: {LESSON}, a line follower driving {args.seconds:g} s, printing once a second; "
        "all press Run at once, then all hand in at once (a graded run on simulated time). "
        "A frame is a pose event (the page draws the top-down view from it). Goals: >= 10 "
        "frames/s per client, Run -> first frame p95 <= 1 s, console RSS <= 1 GB. Load average "
        f"after: {os.getloadavg()[0]:.1f}.",
    ]
    if args.markdown:
        print_markdown(columns, rows, notes=notes)
    else:
        for row in [columns, *rows]:
            print(" | ".join(str(c) for c in row))


if __name__ == "__main__":
    main()
