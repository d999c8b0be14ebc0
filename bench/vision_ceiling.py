"""The best any two-thread pipeline could do for the traffic-sign classifier on this machine.

The model thread runs ``session.run`` on a ready tensor; for every run, a
second thread resizes one 320x240 camera frame to the model's 64x64 (one
semaphore hand-off, no other Python work). Its throughput against raw
``session.run`` alone is the ceiling for ``bench/vision_models.py``'s
pipeline/raw ratio, for each way of resizing:

- ``area``: ``cv2.INTER_AREA`` in one call (what the Preprocessor did until
  2026-11-30);
- ``half+linear``: :func:`rcbase.resize.resize`, an exact halving (a 2x2
  mean), then ``INTER_LINEAR`` to 64x64 (what the Preprocessor does now;
  close to ``INTER_AREA``: the mean pixel difference is printed);
- ``linear``: ``INTER_LINEAR`` in one call (aliases: it skips pixels).

    .venv/bin/python bench/vision_ceiling.py [--seconds 1.5] [--repeat 5] [--markdown]

Each run measures raw, then the same with the resize; the ratio printed is
the median of the runs' ratios (the resizes take turns from run to run, so
a busy minute on the shared machine hits them all alike). Numbers, no
asserts.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from collections.abc import Callable
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray
from report import print_markdown

from rcbase.resize import resize as halve_then_linear
from vision.bench import sample_frames
from vision.preprocess import Frame
from vision.runners import Classifier

SIZE = (64, 64)


def area(frame: Frame) -> NDArray[Any]:
    out: NDArray[Any] = cv2.resize(frame, SIZE, interpolation=cv2.INTER_AREA)
    return out


def half_linear(frame: Frame) -> NDArray[Any]:
    return halve_then_linear(frame, SIZE)


def linear(frame: Frame) -> NDArray[Any]:
    out: NDArray[Any] = cv2.resize(frame, SIZE, interpolation=cv2.INTER_LINEAR)
    return out


RESIZES: dict[str, Callable[[Frame], NDArray[Any]]] = {
    "area": area,
    "half+linear": half_linear,
    "linear": linear,
}


def one_run(
    threads: int, resize: Callable[[Frame], NDArray[Any]], frame: Frame, seconds: float
) -> tuple[float, float]:
    """(raw runs per second, runs per second with a resize per run on another thread)."""
    with Classifier("traffic-signs", threads=threads) as model:
        session = model.session
        tensor = model.preprocess(frame)[0].copy()
        feed = {session.get_inputs()[0].name: tensor}
        for _ in range(20):
            session.run(None, feed)
        start, runs = time.perf_counter(), 0
        while time.perf_counter() - start < seconds:
            session.run(None, feed)
            runs += 1
        raw = runs / (time.perf_counter() - start)

        due = threading.Semaphore(0)
        stop = threading.Event()

        def camera() -> None:
            while not stop.is_set():
                if due.acquire(timeout=0.1):
                    resize(frame)

        worker = threading.Thread(target=camera, name="ceiling-camera")
        worker.start()
        try:
            start, runs = time.perf_counter(), 0
            while time.perf_counter() - start < seconds:
                due.release()
                session.run(None, feed)
                runs += 1
            with_resize = runs / (time.perf_counter() - start)
        finally:
            stop.set()
            worker.join()
    return raw, with_resize


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.5, help="per measurement")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--markdown", action="store_true", help="a table for docs/benchmarks.md")
    args = parser.parse_args()
    frame = sample_frames(4)[1]
    reference = area(frame).astype(np.float32)
    print(f"frame {frame.shape[1]}x{frame.shape[0]} -> {SIZE[0]}x{SIZE[1]}, traffic-signs")
    print(
        "| threads | resize | resize us | mean diff to area | raw fps | with resize fps | ratio |"
    )
    print("|---|---|---|---|---|---|---|")
    rows = []
    for threads in (1, 2):
        runs: dict[str, list[tuple[float, float]]] = {name: [] for name in RESIZES}
        for _ in range(args.repeat):
            for name, resize in RESIZES.items():
                runs[name].append(one_run(threads, resize, frame, args.seconds))
        for name, resize in RESIZES.items():
            start = time.perf_counter()
            for _ in range(200):
                resize(frame)
            cost = (time.perf_counter() - start) / 200 * 1e6
            diff = float(np.abs(resize(frame).astype(np.float32) - reference).mean())
            raw = statistics.median(r[0] for r in runs[name])
            piped = statistics.median(r[1] for r in runs[name])
            ratios = [r[1] / r[0] for r in runs[name]]
            rows.append(
                [
                    threads,
                    name,
                    f"{cost:.0f}",
                    f"{diff:.2f}",
                    f"{raw:.0f}",
                    f"{piped:.0f}",
                    f"{statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f})",
                ]
            )
            print("| " + " | ".join(str(v) for v in rows[-1]) + " |")
    if args.markdown:
        print()
        print_markdown(
            [
                "threads",
                "resize",
                "resize us",
                "mean diff to area",
                "raw fps",
                "with resize fps",
                "ratio",
            ],
            rows,
            notes=[
                f"traffic-signs, 320x240 -> 64x64, medians of {args.repeat} paired runs "
                f"of {args.seconds} s"
            ],
        )


if __name__ == "__main__":
    main()
