"""What the sandbox costs a job: start-up time and memory, against a plain child process.

Every student program (a job on a robot, a simulator run on the console)
starts in :class:`lessons.sandbox.Sandbox`. This starts the same small
Python program (imports the student API, then exits) ``--count`` times
plainly and in the sandbox, in turns, and prints the medians and the ratio;
then the memory the sandbox's own processes (bubblewrap's two) hold while a
program runs, from their RSS.

    .venv/bin/python bench/sandbox_start.py [--count 15] [--markdown]

Numbers, no asserts. Needs bubblewrap (``make system-deps``).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from report import print_markdown

from lessons.sandbox import Limits, Sandbox, check

PROGRAM = "import hardware, hardware.child\n"
HOLD = "import sys, time\nsys.stdout.write('up\\n'); sys.stdout.flush(); time.sleep(30)\n"


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found.extend(int(p) for p in text)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=15)
    parser.add_argument("--markdown", action="store_true", help="a table for docs/benchmarks.md")
    args = parser.parse_args()
    found = check()
    if not found.ok:
        sys.exit(f"no sandbox here: {found.reason} ({found.fix})")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "main.py").write_text(PROGRAM)
        box = Sandbox(work=work, limits=Limits(memory_bytes=512 * 1024 * 1024))
        plain_s, boxed_s = [], []
        for _ in range(args.count):
            t = time.perf_counter()
            subprocess.run([sys.executable, str(work / "main.py")], check=True)
            plain_s.append(time.perf_counter() - t)
            t = time.perf_counter()
            with box.start([sys.executable, str(box.inside(work / "main.py"))]) as run:
                if run.wait(60) != 0:
                    sys.exit("the program failed in the sandbox")
            boxed_s.append(time.perf_counter() - t)
        (work / "hold.py").write_text(HOLD)
        with box.start(
            [sys.executable, str(box.inside(work / "hold.py"))], stdout=subprocess.PIPE, text=True
        ) as run:
            assert run.proc.stdout is not None
            run.proc.stdout.readline()
            outer = run.pid
            inner = children(outer)
            helpers = [
                outer,
                *[p for p in inner if b"bwrap" in Path(f"/proc/{p}/cmdline").read_bytes()],
            ]
            sandbox_kib = sum(rss_kib(p) for p in helpers)
    plain, boxed = statistics.median(plain_s), statistics.median(boxed_s)
    print(
        f"cgroup: {found.cgroup or 'none (per-process limits)'}; runs: {args.count} each, in turns"
    )
    print(f"{'start + import + exit':24} {'median ms':>10}")
    print(f"{'plain child':24} {plain * 1000:10.1f}")
    print(f"{'in the sandbox':24} {boxed * 1000:10.1f}")
    print(
        f"sandbox adds {(boxed - plain) * 1000:.1f} ms per job (ratio {boxed / plain:.2f}x plain)"
    )
    print(f"bubblewrap's own processes while a program runs: {len(helpers)}, RSS {sandbox_kib} KiB")
    if args.markdown:
        print_markdown(
            ["start + import hardware + exit", "median ms"],
            [
                ["plain child process", round(plain * 1000, 1)],
                ["in the sandbox", round(boxed * 1000, 1)],
            ],
            notes=[
                f"sandbox adds {(boxed - plain) * 1000:.1f} ms per job ({boxed / plain:.2f}x plain); "
                f"{args.count} runs each, in turns; cgroup: {found.cgroup or 'none'}",
                f"bubblewrap's own processes while a program runs: {len(helpers)}, "
                f"RSS {sandbox_kib} KiB in all",
            ],
        )


if __name__ == "__main__":
    main()
