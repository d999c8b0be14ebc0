"""Every shipped model at 1 and 2 inference threads: raw onnxruntime against our pipeline.

For each model, in one run: raw ``session.run`` throughput on a pre-made
tensor (the physical limit), the full pipeline (camera thread reads and
preprocesses, model thread infers and postprocesses; latest-frame slot),
the same pipeline with preprocessing in the model thread ("serial"),
preprocessing and postprocessing time per frame, frame-to-result latency
p50/p95 with a 30 fps camera, and resident memory after loading.
Frames: 320x240 from the simulator's sign-road world.

    .venv/bin/python bench/vision_models.py [--seconds 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import os

from rich.console import Console

from models import SHIPPED_DIR, Registry
from vision.bench import BenchResult, bench_model, sample_frames
from vision.cli import bench_table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="per measurement")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    registry = Registry([(SHIPPED_DIR, "package")])
    frames = sample_frames()
    results: list[BenchResult] = [
        bench_model(name, n, args.seconds, frames, registry)
        for name in registry.names()
        for n in args.threads
    ]
    if args.json:
        print(json.dumps([r.as_dict() for r in results], indent=2))
        return
    console = Console()
    console.print(f"{os.cpu_count()} cores; frames 320x240 (sim sign-road); {args.seconds} s each")
    console.print(bench_table(results))
    for r in results:
        overhead_us = (1 / r.pipeline_fps - 1 / r.raw_fps) * 1e6
        console.print(
            f"{r.model} x{r.threads}: pipeline/raw {r.ratio:.2f}, serial/raw "
            f"{r.serial_fps / r.raw_fps:.2f}; pipeline cost beyond session.run: "
            f"{overhead_us:.0f} us per frame"
        )


if __name__ == "__main__":
    main()
