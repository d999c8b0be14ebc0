"""How long `roboclass` takes to start, against bare Python measured in the same run.

A Pi Zero 2 W is ~10x slower than this machine, so every import at start-up
counts. Prints medians of N runs and the ratio to `python -c pass` (the floor).

    .venv/bin/python bench/bench_cli_startup.py [--runs 15] [--json | --markdown]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from report import print_markdown

ROBOCLASS = str(Path(sys.executable).with_name("roboclass"))
CASES = {
    "python -c pass (floor)": [sys.executable, "-c", "pass"],
    "roboclass --version": [ROBOCLASS, "--version"],
    "roboclass --help": [ROBOCLASS, "--help"],
    "import hardware, vision, models": [sys.executable, "-c", "import hardware, vision, models"],
}


def median_seconds(cmd: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--markdown", action="store_true", help="a table for docs/benchmarks.md")
    args = parser.parse_args()
    results = {name: median_seconds(cmd, args.runs) for name, cmd in CASES.items()}
    floor = results["python -c pass (floor)"]
    rows = [
        {"case": name, "median_ms": round(t * 1e3, 1), "ratio_to_floor": round(t / floor, 2)}
        for name, t in results.items()
    ]
    if args.json:
        print(json.dumps(rows))
        return
    if args.markdown:
        print_markdown(
            ["case", "median ms", "x floor"],
            [[r["case"], r["median_ms"], r["ratio_to_floor"]] for r in rows],
            notes=[f"Medians of {args.runs} runs."],
        )
        return
    print(f"start-up, median of {args.runs} runs")
    for row in rows:
        print(
            f"  {row['case']:<34} {row['median_ms']:>7.1f} ms  {row['ratio_to_floor']:>5.2f}x floor"
        )


if __name__ == "__main__":
    main()
