"""How long teaching the robot takes: `roboclass teach train` on 60 pictures, whole.

Makes a dataset of 60 simulator camera pictures (3 signs x 20, varied light and
places), then runs `roboclass teach train` on it as a student would, each run
a new process, and reports per run:

- wall seconds of the whole command (Python start, imports, reading the
  pictures, the features of every picture, the head, writing the ONNX model);
- the command's own figures: read, features, head, export;
- the process's peak RSS (``wait4``).

A Raspberry Pi 4 is not measured here. The script prints an ESTIMATE: this
machine's figures times the ratio of a published figure to the same work
measured here. The figure is Linpack in Python (numpy's ``linalg.solve`` of a
random 2000 x 2000 system, float64): 812 MFLOPS on a standard Pi 4
(sci-pi.org.uk/bench/linpack.html). Here it runs with one BLAS thread, as
training uses one thread. It is dense float maths through a SIMD library,
like the feature extractor (onnxruntime) and the head (numpy). sysbench's
``cpu`` test was tried and rejected: its published Pi 4 figure (1478
events/s) is 2.5x this machine's, though the Pi is much slower at float work.

    .venv/bin/python bench/teach_train.py [--runs 3] [--json | --markdown]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from report import print_markdown  # noqa: E402

from tests.unit.test_teach import SIGNS, sim_frames  # noqa: E402 - the tests' sim pictures
from vision.teach import Dataset  # noqa: E402

PI4_LINPACK_MFLOPS = 812.0  # published: Linpack in Python/numpy, n = 2000, standard Pi 4
ROBOCLASS = str(Path(sys.executable).with_name("roboclass"))
_LINPACK = """
import time
import numpy as np
n = 2000
a = np.random.default_rng(0).random((n, n))
b = a.sum(axis=1)
best = float("inf")
for _ in range(3):
    start = time.perf_counter()
    np.linalg.solve(a, b)
    best = min(best, time.perf_counter() - start)
print((2 / 3 * n**3 + 2 * n**2) / best / 1e6)
"""


def linpack_here(runs: int = 3) -> float:
    """This machine's MFLOPS for the same Linpack-in-numpy, one BLAS thread: the best of
    ``runs`` processes (a busy machine only lowers it; the estimate errs on the slow side)."""
    one = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    return max(
        float(
            subprocess.run(
                [sys.executable, "-c", _LINPACK],
                env=one,
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        )
        for _ in range(runs)
    )


def run_once(data: Path, export: bool) -> dict[str, Any]:
    cmd = [ROBOCLASS, "teach", "train", "bench-signs", "--json"]
    if not export:
        cmd.append("--no-export")
    env = {**os.environ, "ROBOCLASS_DATA_DIR": str(data)}
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE)
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({status})")
    doc = json.loads(out)
    return {
        "wall_s": wall,
        "train_s": doc["seconds"],
        **{f"{k}_s": v for k, v in doc["timing"].items()},
        "peak_rss_mb": usage.ru_maxrss / 1024,
        "accuracy": doc["accuracy"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--markdown", action="store_true", help="a table for docs/benchmarks.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="roboclass-bench-teach-") as tmp:
        data = Path(tmp)
        dataset = Dataset("bench-signs", root=data / "datasets")
        for i, kind in enumerate(SIGNS):
            for frame in sim_frames(kind, 20, seed=i):
                dataset.add(kind, frame)
        rows = {
            export: [run_once(data, export) for _ in range(args.runs)] for export in (False, True)
        }
    here = linpack_here()
    ratio = here / PI4_LINPACK_MFLOPS
    load = os.getloadavg()[0]
    report: dict[str, Any] = {
        "pictures": 60,
        "runs": args.runs,
        "cpus": os.cpu_count(),
        "loadavg_1min": round(load, 2),
        "linpack_mflops_here_1_thread": round(here),
        "linpack_mflops_pi4_published": PI4_LINPACK_MFLOPS,
        "ratio_here_to_pi4": round(ratio, 2),
    }
    for export, runs in rows.items():
        name = "train_and_export" if export else "train_only"
        medians = {k: round(statistics.median(r[k] for r in runs), 3) for k in runs[0]}
        report[name] = medians
        medians["pi4_estimate_wall_s"] = round(medians["wall_s"] * ratio, 1)
        medians["pi4_estimate_train_s"] = round(medians["train_s"] * ratio, 1)
    if args.json:
        print(json.dumps(report, indent=2))
        return
    if args.markdown:
        print_markdown(
            [
                "command",
                "wall s",
                "read s",
                "features s",
                "head s",
                "export s",
                "peak RSS MB",
                "accuracy",
                "Pi 4 ESTIMATE wall / train s",
            ],
            [
                [
                    name,
                    f"{m['wall_s']:.2f}",
                    f"{m['read_s']:.2f}",
                    f"{m['features_s']:.2f}",
                    f"{m['head_s']:.2f}",
                    f"{m['export_s']:.2f}",
                    f"{m['peak_rss_mb']:.0f}",
                    f"{m['accuracy']:.2f}",
                    f"{m['pi4_estimate_wall_s']} / {m['pi4_estimate_train_s']}",
                ]
                for name in ("train_only", "train_and_export")
                for m in [report[name]]
            ],
            notes=[
                f"60 pictures, median of {args.runs} runs. Pi 4 figures are an ESTIMATE, not "
                f"measured: x{ratio:.1f} (Linpack {here:.0f} MFLOPS here, "
                f"{PI4_LINPACK_MFLOPS:.0f} published for a Pi 4)."
            ],
        )
        return
    print(f"60 pictures, median of {args.runs} runs, load {load:.1f} on {os.cpu_count()} CPUs")
    for name in ("train_only", "train_and_export"):
        m = report[name]
        print(
            f"{name:17} wall {m['wall_s']:.2f} s (read {m['read_s']:.2f}, features "
            f"{m['features_s']:.2f}, head {m['head_s']:.2f}, export {m['export_s']:.2f}), "
            f"peak RSS {m['peak_rss_mb']:.0f} MB, accuracy {m['accuracy']:.2f}"
        )
        print(
            f"{'':17} Pi 4 ESTIMATE, not measured (x{ratio:.1f}: Linpack {here:.0f} MFLOPS here, "
            f"{PI4_LINPACK_MFLOPS:.0f} published for a Pi 4): whole command "
            f"{m['pi4_estimate_wall_s']} s, training {m['pi4_estimate_train_s']} s"
        )


if __name__ == "__main__":
    main()
