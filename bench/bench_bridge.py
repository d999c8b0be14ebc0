"""The serial link to the real firmware under simavr, against its physical floor.

Runs the reference firmware on the simavr harness in real-time mode and
measures, in the same run: PING->PONG and DRIVE->ACK round trips through
`firmware_bridge.Bridge`; the wire time of the same bytes at 115200 baud; the
floor of the simulated link (a trivial echo firmware on the same harness
answering requests of exactly the same sizes); the sustained setpoint rate;
and the host CPU per message at 50 Hz setpoints + 50 Hz telemetry.

    .venv/bin/python bench/bench_bridge.py [--count 300] [--json | --markdown]
    .venv/bin/roboclass bridge bench --sim --json          # the same figures
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from report import print_markdown

from firmware_bridge.bench import run_bench


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--cpu-seconds", type=float, default=5.0)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--markdown", action="store_true", help="a table for docs/benchmarks.md")
    args = parser.parse_args()
    report = run_bench(sim=True, count=args.count, cpu_seconds=args.cpu_seconds)
    if args.json:
        print(json.dumps(report, indent=2))
        return
    if args.markdown:
        markdown(report)
        return
    print(f"{report['port']}, firmware {report['firmware']}, {report['baud']} baud")
    print(
        f"{'exchange':<9}{'p50 ms':>8}{'p99 ms':>8}{'wire ms':>9}{'x wire':>8}{'floor p50':>11}{'x floor':>9}"
    )
    for name, rt in report["round_trip"].items():
        floor = report["echo_floor"][name]
        print(
            f"{name:<9}{rt['p50_ms']:>8}{rt['p99_ms']:>8}{report['wire_ms'][name]['ms']:>9}"
            f"{rt['x_wire']:>8}{floor['p50_ms']:>11}{rt['x_echo_floor']:>9}"
        )
    sp, cpu = report["setpoints"], report["cpu_50hz"]
    print(
        f"setpoints sustained: {sp['per_second']}/s (wire limit {sp['wire_limit_per_second']}/s), lost {sp['lost']}, corrupt {sp['corrupt']}"
    )
    print(
        f"50 Hz setpoints + 50 Hz telemetry: {cpu['core_percent']}% of one core, {cpu['us_per_message']} us per message"
    )
    print("goals: p50 <= 1.2x echo floor; < 5% of one core")


def markdown(report: dict[str, Any]) -> None:
    sp, cpu = report["setpoints"], report["cpu_50hz"]
    print_markdown(
        ["exchange", "p50 ms", "p99 ms", "wire ms", "x wire", "echo floor p50 ms", "x floor"],
        [
            [
                name,
                rt["p50_ms"],
                rt["p99_ms"],
                report["wire_ms"][name]["ms"],
                rt["x_wire"],
                report["echo_floor"][name]["p50_ms"],
                rt["x_echo_floor"],
            ]
            for name, rt in report["round_trip"].items()
        ],
        notes=[
            f"{report['port']}, firmware {report['firmware']}, {report['baud']} baud. "
            f"Setpoints sustained: {sp['per_second']}/s (wire limit "
            f"{sp['wire_limit_per_second']}/s), lost {sp['lost']}, corrupt {sp['corrupt']}. "
            f"50 Hz setpoints + 50 Hz telemetry: {cpu['core_percent']}% of one core, "
            f"{cpu['us_per_message']} us per message. "
            "Goals: p50 <= 1.2x echo floor; < 5% of one core."
        ],
    )


if __name__ == "__main__":
    main()
