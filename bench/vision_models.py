"""Every shipped model at 1 and 2 inference threads: the pipeline against a serial loop
and raw onnxruntime.

For each model (every task: classify, detect, face, embed), in one run,
twelve rounds of three paired turns, their order changing each round (see
``vision/bench.py``): raw ``session.run`` on a ready tensor (the physical
limit), a plain serial loop (``model(camera.read())``: read, resize,
``session.run``, the output read; what a student writes without a pipeline,
the same work the pipeline does for each result, through the same camera), and
the pipeline (camera thread, latest-frame slot, model, result read by the
caller; inline when two threads cannot win). Then the pipeline pinned,
latency with a 30 fps camera, pre/post time and memory. Frames: 320x240
from the simulator's sign-road world.

Goals (issue 19): pipeline >= 0.95x the serial loop for every model and
thread count; pipeline >= 0.9x raw at 1 thread for every model whose
inference takes >= 1 ms ("-" where that goal does not apply).

    .venv/bin/python bench/vision_models.py [--seconds 3] [--repeat 3] [--rounds 12] [--json | --markdown]

With ``--repeat N`` each model is measured N times, interleaved; ratios are
medians of every round of every run, other figures medians of the runs (the
machine is shared and noisy: medians, not best cases). The load average is
printed before and after, and each run's ratios with the load as it ends (stderr).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from collections.abc import Sequence
from dataclasses import replace

from report import print_markdown, table

from models import SHIPPED_DIR, Registry
from vision.bench import LOOP_GOAL, RAW_GOAL, RAW_GOAL_MS, BenchResult, bench_model, sample_frames
from vision.errors import StaleFrameError


def median_of(runs: list[BenchResult]) -> BenchResult:
    """Several runs of one model as one: the median of every round's ratios, and the
    median of the runs' other figures."""
    ratios = tuple(x for r in runs for x in r.ratios)
    loop_ratios = tuple(x for r in runs for x in r.loop_ratios)

    def mid(field: str) -> float:
        return float(statistics.median(getattr(r, field) for r in runs))

    return replace(
        runs[0],
        raw_fps=mid("raw_fps"),
        raw_ms_p50=mid("raw_ms_p50"),
        pipeline_fps=mid("pipeline_fps"),
        ratio=statistics.median(ratios),
        serial_fps=mid("serial_fps"),
        pinned_fps=mid("pinned_fps"),
        pre_ms=mid("pre_ms"),
        post_ms=mid("post_ms"),
        latency_ms_p50=mid("latency_ms_p50"),
        latency_ms_p95=mid("latency_ms_p95"),
        rss_mb=mid("rss_mb"),
        frames=sum(r.frames for r in runs),
        ratios=ratios,
        loop_ratio=statistics.median(loop_ratios),
        loop_ratios=loop_ratios,
        inline=mid("inline"),
    )


def _log(line: str) -> None:
    """Each run's ratios as it ends, with the load then (on stderr: the table stays clean)."""
    print(f"{line} (load {os.getloadavg()[0]:.1f})", file=sys.stderr)


def _spread(values: Sequence[float]) -> str:
    return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


def _met(ok: bool | None) -> str:
    return "-" if ok is None else ("yes" if ok else "NO")


COLUMNS = [
    "model", "threads", "raw ms", "raw fps", "loop fps", "pipeline fps",
    "pipeline/loop (rounds)", f">= {LOOP_GOAL}", "pipeline/raw (rounds)",
    f">= {RAW_GOAL} (1 thread, >= {RAW_GOAL_MS:g} ms)", "inline", "pinned/raw",
    "latency p50/p95 ms", "RSS MB",
]  # fmt: skip


def row(r: BenchResult) -> list[object]:
    return [
        r.model, r.threads, f"{r.raw_ms_p50:.2f}", f"{r.raw_fps:.0f}", f"{r.serial_fps:.0f}",
        f"{r.pipeline_fps:.0f}", _spread(r.loop_ratios), _met(r.loop_goal_met),
        _spread(r.ratios), _met(r.raw_goal_met), f"{r.inline:.0%}",
        f"{r.pinned_fps / r.raw_fps:.2f}", f"{r.latency_ms_p50:.2f}/{r.latency_ms_p95:.2f}",
        f"{r.rss_mb:.0f}",
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="per model and thread count")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeat", type=int, default=1, help="runs per model, interleaved")
    parser.add_argument("--rounds", type=int, default=12, help="paired turns per run")
    parser.add_argument("--models", nargs="+", help="only these models")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--markdown", action="store_true", help="a table for docs/benchmarks.md")
    args = parser.parse_args()
    registry = Registry([(SHIPPED_DIR, "package")])
    frames = sample_frames()
    names = [e.name for e in registry.entries() if not args.models or e.name in args.models]
    load_before = os.getloadavg()[0]
    runs: dict[tuple[str, int], list[BenchResult]] = {}
    for _ in range(args.repeat):  # repeats outermost: each model is measured at several times
        for name in names:
            for n in args.threads:
                try:
                    runs.setdefault((name, n), []).append(
                        bench_model(
                            name, n, args.seconds, frames, registry, rounds=args.rounds, log=_log
                        )
                    )
                except StaleFrameError as exc:  # starved by other processes: that run is void
                    print(f"{name} x{n}: run void ({exc})", file=sys.stderr)
    results = [median_of(r) for r in runs.values() if r]
    load = f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after"
    if args.json:
        print(json.dumps([r.as_dict() for r in results], indent=2))
        return
    notes = [
        f"Frames 320x240 (sim sign-road); {args.seconds} s per model and thread count, "
        f"{args.repeat} run(s) x {args.rounds} rounds of paired turns (raw, loop, pipeline); "
        f"{load}."
    ]
    if args.markdown:
        print_markdown(COLUMNS, [row(r) for r in results], notes=notes)
        return

    print(table(COLUMNS, [row(r) for r in results]))
    print(notes[0])


if __name__ == "__main__":
    main()
