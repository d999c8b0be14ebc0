"""Measure a model on this computer: raw onnxruntime against the whole pipeline.

For one model and thread count, side by side in one run:

- raw: ``session.run`` on a tensor made once (the physical limit), measured
  in turns with the pipeline (four rounds each) so that other programs on
  the machine slow both alike; the ratio is the median of the four turns'
  pipeline/raw (on a shared machine one slowed turn then moves it little);
- pipeline: camera thread (read + preprocess) -> latest-frame slot -> infer
  -> postprocess -> result, with a camera that always has the next frame
  ready when the model is free (so the model, not the camera, sets the pace);
  and the same with preprocessing in the model thread ("serial");
- preprocess and postprocess time per frame;
- frame-to-result latency p50/p95 with a 30 fps camera;
- resident memory after loading.

``roboclass vision bench MODEL`` and ``bench/vision_models.py`` print it.
"""

from __future__ import annotations

import gc
import statistics
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from models import Registry
from models.manifest import Task
from vision.faces import FaceDetector
from vision.pipeline import Pipeline
from vision.preprocess import Frame
from vision.runners import Classifier, Computed, Detector, Prepared, Runner
from vision.teach.features import Embedder

__all__ = ["RUNNERS", "BenchResult", "bench_model", "rss_mb", "sample_frames"]

ROUNDS = 4  # raw and pipeline measured in turns, each for a quarter of the time

#: The runner that runs a model of each task (every task a manifest may name has one).
RUNNERS: dict[Task, type[Runner[Any]]] = {
    Task.CLASSIFY: Classifier,
    Task.DETECT: Detector,
    Task.FACE: FaceDetector,
    Task.EMBED: Embedder,
}


def rss_mb() -> float:
    """Resident memory of this process in MB (Linux)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource  # noqa: PLC0415

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def sample_frames(count: int = 16, width: int = 320, height: int = 240) -> list[Frame]:
    """Camera frames from the simulator's sign-road world (a robot driving round)."""
    from hardware.sim import BodySpec, CameraSpec, load_world, world_path  # noqa: PLC0415

    world = load_world(world_path("sign-road"))
    robot = world.add_robot(BodySpec())
    camera = robot.camera(CameraSpec(width=width, height=height))
    frames = []
    robot.set_motors(0.5, 0.35)
    for _ in range(count):
        world.step(0.25)
        frames.append(camera.read())
    return frames


@dataclass(frozen=True)
class BenchResult:
    model: str
    task: Task
    threads: int
    raw_fps: float
    raw_ms_p50: float
    pipeline_fps: float
    ratio: float  # pipeline / raw: the median of the turns' ratios
    serial_fps: float  # the same pipeline with preprocessing in the model thread
    pinned_fps: float  # the same pipeline with its two threads kept on different cores
    pre_ms: float
    post_ms: float
    latency_ms_p50: float  # with a 30 fps camera
    latency_ms_p95: float
    rss_mb: float
    frames: int
    ratios: tuple[float, ...] = ()  # pipeline / raw of each turn

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) if values else float("nan")


class _OnDemandCamera:
    """Gives the next frame as soon as the model has taken the previous one (no spinning)."""

    def __init__(self, frames: Sequence[Frame]) -> None:
        self._frames = frames
        self._i = 0
        self._free = threading.Lock()  # held from a read until the model takes that frame
        self.stop = threading.Event()

    def read(self) -> Frame:
        while not self._free.acquire(timeout=0.1):
            if self.stop.is_set():
                raise StopIteration
        self._i += 1
        return self._frames[self._i % len(self._frames)]

    def taken(self) -> None:
        self._free.release()


def _raw(runner: Runner[Any], frame: Frame, seconds: float) -> list[float]:
    tensor = runner.preprocess(frame)[0].copy()
    session = runner.session
    feed = {session.get_inputs()[0].name: tensor}
    for _ in range(5):
        session.run(None, feed)
    times: list[float] = []
    end = time.perf_counter() + seconds
    while not times or time.perf_counter() < end:  # at least one, however short the time
        t0 = time.perf_counter()
        session.run(None, feed)
        times.append(time.perf_counter() - t0)
    return times


class _Counted:
    """The runner split in three for the pipeline, telling the camera when a frame was taken."""

    def __init__(self, runner: Runner[Any], camera: _OnDemandCamera) -> None:
        self.runner = runner
        self.camera = camera
        self.threads = runner.threads
        self.pre: list[float] = []
        self.post: list[float] = []

    def prepare(self, frame: Frame) -> Prepared:
        return self.runner.prepare(frame)

    def compute(self, prepared: Prepared) -> Computed:
        self.camera.taken()
        return self.runner.compute(prepared)

    def read(self, computed: Computed) -> object:
        result = self.runner.read(computed)
        self.pre.append(computed.pre_seconds)
        self.post.append(self.runner.timings.post)
        return result

    def finish(self, prepared: Prepared) -> object:
        return self.read(self.compute(prepared))

    def __call__(self, frame: Frame) -> object:
        return self.finish(self.prepare(frame))


def _pipeline(
    runner: Runner[Any], frames: Sequence[Frame], seconds: float, split: bool, pin: bool = False
) -> tuple[int, float, list[float], list[float]]:
    """Results delivered, seconds taken, and the pre/post times (s) of each frame.

    Like a student's loop, this takes every new result and its value, so each
    frame counted went all the way: camera, preprocessing, model, reading the
    output into a result. A result replaced before it was taken is not counted.
    """
    camera = _OnDemandCamera(frames)
    model = _Counted(runner, camera)
    for f in frames[:3]:
        runner(f)
    with Pipeline(camera.read, model, split=split, pin=pin) as pipe:
        _ = pipe.latest(timeout=10).value
        done, start = 0, time.perf_counter()
        stop_at = start + seconds
        while not done or time.perf_counter() < stop_at:  # at least one
            _ = pipe.latest(timeout=10).value  # taken and read, as a student's loop does
            done += 1
        elapsed = time.perf_counter() - start
        camera.stop.set()
    return done, elapsed, model.pre, model.post


def _latency(
    runner: Runner[Any], frames: Sequence[Frame], seconds: float, fps: float
) -> list[float]:
    latencies: list[float] = []
    with Pipeline(lambda: frames[0], runner, fps=fps) as pipe:
        pipe.latest(timeout=10)
        end = time.perf_counter() + seconds
        while not latencies or time.perf_counter() < end:  # at least one
            latencies.append(pipe.latest(timeout=10).latency)
    return latencies


def bench_model(
    model: str | Path,
    threads: int,
    seconds: float = 2.0,
    frames: Sequence[Frame] | None = None,
    registry: Registry | None = None,
    camera_fps: float = 30.0,
    log: Callable[[str], None] | None = None,
) -> BenchResult:
    """Measure ``model`` at ``threads`` inference threads (see the module docstring)."""
    registry = registry or Registry()
    entry = registry.find(model)
    cls = RUNNERS[entry.manifest.task]
    frames = list(frames) if frames is not None else sample_frames()
    gc.collect()
    runner = cls(str(entry.manifest_path), threads=threads, registry=registry)
    try:
        memory = rss_mb()
        raw: list[float] = []
        done, elapsed = 0, 0.0
        pre: list[float] = []
        post: list[float] = []
        ratios: list[float] = []
        for _ in range(ROUNDS):  # interleaved, so both see the same load from other programs
            turn = _raw(runner, frames[0], seconds / ROUNDS)
            n, t, pre_s, post_s = _pipeline(runner, frames, seconds / ROUNDS, split=True)
            ratios.append((n / t) / (len(turn) / sum(turn)))
            raw += turn
            done, elapsed, pre, post = done + n, elapsed + t, pre + pre_s, post + post_s
        raw_fps = len(raw) / sum(raw)
        pipe_fps = done / elapsed
        pre_ms, post_ms = statistics.median(pre) * 1e3, statistics.median(post) * 1e3
        n, t, _, _ = _pipeline(runner, frames, seconds, split=False)
        serial_fps = n / t
        n, t, _, _ = _pipeline(runner, frames, seconds, split=True, pin=True)
        pinned_fps = n / t
        lat = _latency(runner, frames, seconds, camera_fps)
    finally:
        runner.close()
    result = BenchResult(
        model=entry.name,
        task=entry.manifest.task,
        threads=threads,
        raw_fps=raw_fps,
        raw_ms_p50=statistics.median(raw) * 1e3,
        pipeline_fps=pipe_fps,
        ratio=statistics.median(ratios),
        serial_fps=serial_fps,
        pinned_fps=pinned_fps,
        pre_ms=pre_ms,
        post_ms=post_ms,
        latency_ms_p50=_percentile(lat, 50) * 1e3,
        latency_ms_p95=_percentile(lat, 95) * 1e3,
        rss_mb=memory,
        frames=done,
        ratios=tuple(ratios),
    )
    if log is not None:
        log(f"{entry.name} threads={threads}: ratio {result.ratio:.2f}")
    return result
