"""Teach from the browser: pictures -> a trained model on the robot, as the Teach panel does it.

Drives the robot's side exactly as the agent runs it (:class:`fleet.agent.teach.TeachPart`,
its own threads, the simulator's cards for a camera, every event encoded as it
would go on the wire) for 60 and 300 pictures (3 signs), and reports the medians
of ``--runs`` runs of: features, training (the head), export (the ONNX model,
written into the robot's model cache: this IS the copy to the robot, since the
panel trains on the robot), and sending the model up to the console in pieces
(encoding only; the network is not in it). ``click to on the robot`` is the
time from the Train command to the ``deployed`` event plus the Deploy command to
it: the goal is <= 30 s for 60 pictures here.

``--end-to-end`` also measures the real thing, through the student API (no
browser): Mosquitto, the console, a ``roboclass agent`` process on the sim
backend; Train then Deploy, until the model file is in the robot's model cache,
trained on the robot and trained on the console (the robot sends its pictures
up, the console trains, then pushes the model back as a signed model job).

A Raspberry Pi 4 is not measured: the Pi 4 figure is an ESTIMATE, the robot-side
seconds times the Linpack ratio of bench/teach_train.py (numpy's solve of a
2000 x 2000 system, one BLAS thread, here against 812 MFLOPS published for a Pi 4).

    .venv/bin/python bench/teach_browser.py [--runs 3] [--json] [--end-to-end]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from teach_train import PI4_LINPACK_MFLOPS, linpack_here  # noqa: E402

from fleet.agent.teach import TeachPart  # noqa: E402
from fleet.agent.teachstore import TeachStore  # noqa: E402
from fleet.core.protocol import encode  # noqa: E402
from fleet.core.teach import TeachCommand, TeachEvent  # noqa: E402
from hardware.sim import CameraSpec  # noqa: E402
from hardware.sim.card import CardHolder  # noqa: E402

STUDENT = "s-0123456789abcdef"
SIGNS = ("stop", "left", "right")


class Events:
    def __init__(self) -> None:
        self.got: list[tuple[float, TeachEvent]] = []
        self.cond = threading.Condition()

    def __call__(self, event: TeachEvent, qos: int) -> None:
        encode(event)  # what the link would send
        with self.cond:
            self.got.append((time.perf_counter(), event))
            self.cond.notify_all()

    def wait(self, test: Any, timeout: float = 600) -> tuple[float, TeachEvent]:
        end = time.monotonic() + timeout
        with self.cond:
            while True:
                for found in self.got:
                    if test(found[1]):
                        return found
                left = end - time.monotonic()
                if left <= 0:
                    raise SystemExit("the robot's teach part did not answer")
                self.cond.wait(left)


def cmd(op: str, **fields: Any) -> TeachCommand:
    now = time.time()
    return TeachCommand(
        device="robot-01", ts=now, expires=now + 600, op=op, student=STUDENT, **fields
    )


def run_once(folder: Path, pictures: int) -> dict[str, float]:
    events = Events()
    cards = CardHolder(CameraSpec(width=320, height=240, fov_deg=62, tilt_deg=-15), seed=1)
    store = TeachStore(folder / "teach", folder / "models")
    with TeachPart(
        "robot-01", events, store=store, camera=lambda: None, busy=lambda: False, cards=cards
    ) as part:
        per = pictures // len(SIGNS)
        for sign in SIGNS:
            part.handle(cmd("label", label=sign))
            part.handle(cmd("card", card=sign))
            for first in range(0, per, 20):
                part.handle(cmd("capture", label=sign, count=min(20, per - first)))
        events.wait(
            lambda e: e.kind == "state" and sum(len(x.pictures) for x in e.labels or []) == per * 3
        )
        start = time.perf_counter()
        part.handle(cmd("train"))
        trained_at, result = events.wait(lambda e: e.kind == "result")
        deploy_at = time.perf_counter()
        part.handle(cmd("deploy", model="bench-signs"))
        deployed_at, deployed = events.wait(lambda e: e.kind == "deployed")
        parts = deployed.parts or 1
        sent_at, _ = events.wait(lambda e: e.kind == "chunk" and e.part == parts - 1)
    seconds = result.seconds or {}
    return {
        "read_s": seconds.get("read", 0.0),
        "features_s": seconds.get("features", 0.0),
        "head_s": seconds.get("head", 0.0),
        "train_s": trained_at - start,
        "export_s": (deployed.seconds or {}).get("export", 0.0),
        "deploy_s": deployed_at - deploy_at,
        "send_up_s": sent_at - deployed_at,
        "on_robot_s": (trained_at - start) + (deployed_at - deploy_at),
        "accuracy": result.accuracy or 0.0,
        "model_kb": (deployed.size or 0) / 1024,
    }


def end_to_end(pictures: int, where: str, runs: int) -> dict[str, float]:
    """Seconds from Train to the result, and from Deploy to the model in the robot's cache, through
    Mosquitto, the console and an agent process (medians of ``runs``)."""
    rows = [_e2e_once(pictures, where) for _ in range(runs)]
    return {k: round(statistics.median(r[k] for r in rows), 2) for k in rows[0]}


def _e2e_once(pictures: int, where: str) -> dict[str, float]:
    from fleet.console.store import PinKind  # noqa: PLC0415
    from tests.integration.test_console_live import mosquitto_room  # noqa: PLC0415
    from tests.integration.test_fleet_support import wait_until  # noqa: PLC0415
    from tests.unit.test_console_security import Client  # noqa: PLC0415

    with tempfile.TemporaryDirectory(prefix="roboclass-bench-teach-e2e-") as tmp:
        folder = Path(tmp)
        for name in ("DATA", "CACHE", "CONFIG"):  # the agent process's folders
            os.environ[f"ROBOCLASS_{name}_DIR"] = str(folder / name.lower())
        with mosquitto_room(folder, 1) as (console, server):
            wait_until(lambda: console.db.devices.ids(online_only=True) != [], 60, "the robot")
            robot = console.db.devices.ids()[0]
            sid = console.db.rosters.add_student("Ana", "7A")
            console.db.rosters.bind(robot, "Ana", "7A")
            console.db.classes.set_pin(sid, "2468", PinKind.DIGITS)
            period = console.db.classes.start_period("7A", "ms-li")
            client = Client(server.url)
            same = {"Sec-Fetch-Site": "same-origin"}
            body = {"code": period.code, "student_id": sid, "pin": "2468"}
            _, _, response = client("POST", "/api/v1/join", body, same)
            cookie = response.getheader("set-cookie", "").split(";")[0]
            headers = {**same, "Cookie": cookie}

            def post(path: str, body: Any = None, h: dict[str, str] = headers) -> None:
                status, answer, _ = client("POST", f"/api/v1/student/teach{path}", body, h)
                if status != 200:
                    raise SystemExit(f"{path}: {status} {answer}")

            def view() -> dict[str, Any]:
                found = console.teach.view(sid)
                return found[1] if found else {}

            post("/open")
            per = pictures // len(SIGNS)
            for sign in SIGNS:
                post("/labels", {"id": sign, "name": sign})
                post("/card", {"card": sign})
                for first in range(0, per, 20):
                    console.teach.command(
                        robot, sid, "capture", label=sign, count=min(20, per - first)
                    )

            def taken() -> int:
                labels = (view().get("state") or {}).get("labels") or []
                return sum(len(x["pictures"]) for x in labels)

            wait_until(lambda: taken() == per * len(SIGNS), 600, "the pictures")
            start = time.perf_counter()
            post("/train", {"where": where})
            wait_until(lambda: view().get("result") is not None, 600, "the result")
            trained = time.perf_counter() - start
            cached = folder / "cache" / "models" / "bench-signs.onnx"
            start = time.perf_counter()
            post("/deploy", {"name": "bench-signs"})
            wait_until(cached.exists, 600, "the model on the robot")
            deployed = time.perf_counter() - start
            return {"train_s": trained, "deploy_s": deployed, "total_s": trained + deployed}
    raise AssertionError("unreachable")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--end-to-end", action="store_true", help="also through Mosquitto, the console and an agent"
    )
    args = parser.parse_args()
    report: dict[str, Any] = {"runs": args.runs, "cpus": os.cpu_count()}
    for pictures in (60, 300):
        rows = []
        for _ in range(args.runs):
            with tempfile.TemporaryDirectory(prefix="roboclass-bench-teach-browser-") as tmp:
                rows.append(run_once(Path(tmp), pictures))
        report[str(pictures)] = {
            k: round(statistics.median(r[k] for r in rows), 3) for k in rows[0]
        }
    here = linpack_here()
    ratio = here / PI4_LINPACK_MFLOPS
    report["loadavg_1min"] = round(os.getloadavg()[0], 2)
    report["ratio_here_to_pi4"] = round(ratio, 2)
    for pictures in ("60", "300"):
        m = report[pictures]
        m["pi4_estimate_on_robot_s"] = round(m["on_robot_s"] * ratio, 1)
    if args.end_to_end:
        report["end_to_end"] = {
            f"{n}_{where}": end_to_end(n, where, args.runs)
            for n in (60, 300)
            for where in ("robot", "console")
        }
        report["loadavg_1min_after"] = round(os.getloadavg()[0], 2)
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"median of {args.runs} runs, load {report['loadavg_1min']:.1f} on {os.cpu_count()} CPUs")
    for pictures in ("60", "300"):
        m = report[pictures]
        print(
            f"{pictures:>3} pictures: features {m['features_s']:.2f} s, head {m['head_s']:.2f} s "
            f"(train command {m['train_s']:.2f} s), export into the robot's cache "
            f"{m['export_s']:.2f} s, model up to the console {m['send_up_s']:.2f} s "
            f"({m['model_kb']:.0f} kB); click to on the robot {m['on_robot_s']:.2f} s; "
            f"accuracy {m['accuracy']:.2f}"
        )
        print(
            f"     Pi 4 ESTIMATE, not measured (x{ratio:.1f}, Linpack {here:.0f} MFLOPS here, "
            f"{PI4_LINPACK_MFLOPS:.0f} published): click to on the robot "
            f"{m['pi4_estimate_on_robot_s']} s"
        )
    for name, m in report.get("end_to_end", {}).items():
        print(
            f"end to end, {name}: Train to result {m['train_s']:.2f} s, Deploy to the model in "
            f"the robot's cache {m['deploy_s']:.2f} s, in all {m['total_s']:.2f} s"
        )


if __name__ == "__main__":
    main()
