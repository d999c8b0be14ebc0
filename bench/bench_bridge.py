"""The serial link to the real firmware under simavr, against its physical floor.

Runs the reference firmware on the simavr harness in real-time mode and
measures, in the same run: PING->PONG and DRIVE->ACK round trips through
`firmware_bridge.Bridge`; the wire time of the same bytes at 115200 baud; the
floor of the simulated link (a trivial echo firmware on the same harness
answering requests of exactly the same sizes); the sustained setpoint rate;
the host CPU per message at 50 Hz setpoints + 50 Hz telemetry; and telemetry
at the wire's limit with 1 and 6 analog channels: frames and values a second
against the wire limit, lost and corrupt frames, host CPU a frame, setpoint +
ACK round trips with that telemetry against without it (alternating blocks).

    .venv/bin/python bench/bench_bridge.py [--count 300] [--telemetry-seconds 5] [--json | --markdown]
    .venv/bin/python bench/bench_bridge.py --telemetry-only --telemetry-seconds 60 --markdown
    .venv/bin/roboclass bridge bench --sim --json          # the same figures
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from report import print_markdown

from firmware_bridge.bench import run_bench
from firmware_bridge.bench_telemetry import telemetry_bench
from firmware_bridge.simboard import SimBoard


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--cpu-seconds", type=float, default=5.0)
    parser.add_argument("--telemetry-seconds", type=float, default=5.0)
    parser.add_argument(
        "--telemetry-only", action="store_true", help="only the telemetry rates (1, 6 channels)"
    )
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--markdown", action="store_true", help="a table for docs/benchmarks.md")
    args = parser.parse_args()
    if args.telemetry_only:
        with SimBoard() as board:
            rows = [
                telemetry_bench(
                    board.port, channels=n, seconds=args.telemetry_seconds, count=args.count
                )
                for n in (1, 6)
            ]
        if args.json:
            print(json.dumps(rows, indent=2))
        else:
            telemetry_markdown(rows)
        return
    report = run_bench(
        sim=True,
        count=args.count,
        cpu_seconds=args.cpu_seconds,
        telemetry_seconds=args.telemetry_seconds,
    )
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
    if report["telemetry"]:
        telemetry_markdown(report["telemetry"])


def telemetry_markdown(rows: list[dict[str, Any]]) -> None:
    """Telemetry at the wire's limit, one row per frame size."""
    print_markdown(
        [
            "channels",
            "frame B",
            "frames/s",
            "values/s",
            "x wire",
            "lost / corrupt",
            "host us a frame (core %)",
            "setpoint+ACK p50 / p99 ms with",
            "p50 / p99 ms without",
            "p99 ratio",
        ],
        [
            [
                t["channels"],
                t["frame_bytes"],
                t["frames_per_second"],
                t["values_per_second"],
                f"{t['x_wire']} (of {t['wire_limit_per_second']})",
                f"{t['lost']} / {t['corrupt']} in {t['seconds']} s",
                f"{t['host_us_per_frame']} ({t['host_core_percent']})",
                f"{t['round_trip']['with_telemetry']['p50_ms']} / {t['round_trip']['with_telemetry']['p99_ms']}",
                f"{t['round_trip']['without_telemetry']['p50_ms']} / {t['round_trip']['without_telemetry']['p99_ms']}",
                t["round_trip"]["p99_ratio"],
            ]
            for t in rows
        ],
        notes=[
            "Telemetry every 1 ms (back to back), 50 Hz setpoints streamed; round trips: one "
            "acked DRIVE every 10 ms, alternating blocks with and without telemetry. "
            f"Round trips that timed out: {[t['round_trip']['timeouts'] for t in rows]}, board re-armed after its watchdog: {[t['round_trip']['rearmed_after_watchdog'] for t in rows]}. "
            "Goals: >= 0.8x the wire; p99 ratio <= 1.2; 0 lost / corrupt."
        ],
    )


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
    if report["telemetry"]:
        print()
        telemetry_markdown(report["telemetry"])


if __name__ == "__main__":
    main()
