"""Every shipped model at 1 and 2 inference threads: raw onnxruntime against our pipeline.

For each model, in one run: raw ``session.run`` throughput on a pre-made
tensor (the physical limit), the full pipeline (camera thread reads and
preprocesses, model thread infers and postprocesses; latest-frame slot),
the same pipeline with preprocessing in the model thread ("serial"), the
pipeline with its two threads kept on different cores ("pinned"),
preprocessing and postprocessing time per frame, frame-to-result latency
p50/p95 with a 30 fps camera, and resident memory after loading.
Frames: 320x240 from the simulator's sign-road world. Models of other tasks
(an ``embed`` feature extractor, say) are left out.

    .venv/bin/python bench/vision_models.py [--seconds 3] [--repeat 3] [--json | --markdown]

With ``--repeat N`` each model is measured N times, interleaved. Each run
measures raw and pipeline in four alternating turns; the ratio reported is
the median of all turns' pipeline/raw, and the other figures are medians
of the runs (the machines are shared and noisy: medians, not best cases).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from dataclasses import replace

from report import print_markdown
from rich.console import Console

from models import SHIPPED_DIR, Registry
from vision.bench import BenchResult, bench_model, sample_frames
from vision.cli import bench_table
from vision.errors import StaleFrameError

BENCHED = ("classify", "detect", "face")  # the tasks that vision.bench has a runner for


def median_of(runs: list[BenchResult]) -> BenchResult:
    """Several runs of one model as one: the median of every turn's pipeline/raw, and
    the median run's other figures."""
    ratios = tuple(x for r in runs for x in r.ratios)

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
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="per measurement")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs per model; report the best of them"
    )
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--markdown", action="store_true", help="a table for docs/benchmarks.md")
    args = parser.parse_args()
    registry = Registry([(SHIPPED_DIR, "package")])
    frames = sample_frames()
    runnable = [e.name for e in registry.entries() if e.manifest.task in BENCHED]
    runs: dict[tuple[str, int], list[BenchResult]] = {}
    for _ in range(args.repeat):  # repeats outermost: each model is measured at several times
        for name in runnable:
            for n in args.threads:
                try:
                    runs.setdefault((name, n), []).append(
                        bench_model(name, n, args.seconds, frames, registry)
                    )
                except StaleFrameError as exc:  # starved by other processes: that run is void
                    print(f"{name} x{n}: run void ({exc})", file=sys.stderr)
    results = [median_of(r) for r in runs.values() if r]
    if args.json:
        print(json.dumps([r.as_dict() for r in results], indent=2))
        return
    if args.markdown:
        print_markdown(
            [
                "model",
                "threads",
                "raw fps",
                "pipeline fps",
                "pipeline/raw (turns)",
                "pinned/raw",
                "serial/raw",
                "beyond session.run us",
                "pre / post ms",
                "latency p50/p95 ms",
                "RSS MB",
            ],
            [
                [
                    r.model,
                    r.threads,
                    f"{r.raw_fps:.0f}",
                    f"{r.pipeline_fps:.0f}",
                    f"{r.ratio:.2f} ({min(r.ratios):.2f}-{max(r.ratios):.2f})",
                    f"{r.pinned_fps / r.raw_fps:.2f}",
                    f"{r.serial_fps / r.raw_fps:.2f}",
                    f"{(1 / r.pipeline_fps - 1 / r.raw_fps) * 1e6:.0f}",
                    f"{r.pre_ms:.3f} / {r.post_ms:.3f}",
                    f"{r.latency_ms_p50:.2f}/{r.latency_ms_p95:.2f}",
                    f"{r.rss_mb:.0f}",
                ]
                for r in results
            ],
            notes=[
                f"Frames 320x240 (sim sign-road); {args.seconds} s each, medians of "
                f"{args.repeat} run(s) x 4 turns."
            ],
        )
        return
    console = Console()
    console.print(
        f"{os.cpu_count()} cores; frames 320x240 (sim sign-road); {args.seconds} s each, "
        f"medians of {args.repeat} run(s) x 4 turns; load average {os.getloadavg()[0]:.1f}"
    )
    console.print(bench_table(results))
    for r in results:
        overhead_us = (1 / r.pipeline_fps - 1 / r.raw_fps) * 1e6
        console.print(
            f"{r.model} x{r.threads}: pipeline/raw {r.ratio:.2f} (turns "
            f"{min(r.ratios):.2f}-{max(r.ratios):.2f}), pinned/raw "
            f"{r.pinned_fps / r.raw_fps:.2f}, serial/raw "
            f"{r.serial_fps / r.raw_fps:.2f}; pipeline cost beyond session.run: "
            f"{overhead_us:.0f} us per frame"
        )


if __name__ == "__main__":
    main()
