"""What enrolment adds to a robot's `roboclass agent`, and what one exchange costs.

Each row: a fresh interpreter imports ``fleet.agent.cli`` (what every robot
loads), then the part; the time is the best of 7 runs, the RSS growth their
median. A configured robot loads none of these parts; an unclaimed one loads
them until a console claims it. Then the SPAKE2 exchange on each side.

    .venv/bin/python bench/enrol_cost.py [--markdown]
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from report import print_markdown

TEMPLATE = """
import time
def rss():
    for line in open('/proc/self/status'):
        if line.startswith('VmRSS'):
            return int(line.split()[1])
import fleet.agent.cli
r0 = rss(); t = time.perf_counter()
{code}
print(time.perf_counter() - t, rss() - r0)
"""
PARTS = {
    "zeroconf (+ ifaddr)": "import zeroconf",
    "spake2": "import spake2",
    "all of enrolment (fleet.enrol.robot, enrol_mdns)": "import fleet.enrol.robot, fleet.enrol.mdns",
    "... + a running mDNS announcement on 127.0.0.1": (
        "import fleet.enrol.robot, fleet.enrol.mdns\n"
        "a = fleet.enrol.mdns.Announcement('rc-000001', port=8764, hostname='x', "
        "interfaces=['127.0.0.1'])"
    ),
}
RUNS = 7
NOTES: list[str] = []  # lines for the --markdown table's notes


def imports() -> list[list[str]]:
    rows = []
    for name, code in PARTS.items():
        runs = []
        for _ in range(RUNS):
            out = subprocess.run(
                [sys.executable, "-c", TEMPLATE.format(code=code)],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.split()
            runs.append((float(out[0]), float(out[1])))
        best = min(r[0] for r in runs) * 1000
        rss = statistics.median(r[1] for r in runs) / 1024
        print(f"{name:50s} +{best:7.1f} ms  +{rss:5.1f} MiB RSS")
        rows.append([name, f"+{best:.1f} ms", f"+{rss:.1f} MiB"])
    return rows


def exchange() -> None:
    from fleet.enrol.protocol import ConsoleExchange, RobotExchange  # noqa: PLC0415
    from fleet.enrol.robot import CredentialFolder  # noqa: PLC0415

    with tempfile.TemporaryDirectory() as tmp:
        csr = CredentialFolder(Path(tmp)).csr("rc-000001")
    robot_s, console_s = [], []
    for _ in range(RUNS):
        console = ConsoleExchange("1234-5678", robot_id="rc-000001")
        robot = RobotExchange("1234-5678", robot_id="rc-000001", csr_pem=csr)
        t = time.perf_counter()
        reply = robot.start(console.start_message())
        robot_s.append(time.perf_counter() - t)
        t = time.perf_counter()
        console.check(reply)
        console_s.append(time.perf_counter() - t)
    line = (
        f"SPAKE2 exchange: robot side {min(robot_s) * 1000:.1f} ms, "
        f"console side {min(console_s) * 1000:.1f} ms (best of {RUNS})"
    )
    print(line)
    NOTES.append(line)


if __name__ == "__main__":
    rows = imports()
    exchange()
    if "--markdown" in sys.argv[1:]:
        print()
        print_markdown(
            ["on top of the agent's CLI", "import time (best of 7)", "RSS (median)"],
            rows,
            notes=NOTES,
        )
