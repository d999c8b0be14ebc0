"""Measure a model on this computer: the pipeline against a serial loop and raw onnxruntime.

For one model and thread count, side by side in one run, in rounds (four
by default) of three paired turns each, in an order that changes from round
to round (so that other programs on the machine slow all three alike; every
ratio is the median of the rounds' ratios; one pipeline lives through all
its turns, resting between them):

- raw: ``session.run`` on a tensor made once (the physical limit);
- loop: a plain serial loop, what a student writes without a pipeline:
  ``model(camera.read())`` (read, resize, ``session.run``, the output read into a
  result, through the same camera and per-frame records as the pipeline:
  the same work the pipeline does for each result), then the next frame;
- pipeline: camera thread (read + prepare) -> latest-frame slot -> model ->
  result read by the caller, with a camera that always has the next frame
  ready when the model is free (so the model, not the camera, sets the
  pace); it runs inline when two threads cannot win (``inline`` is the share
  of its frames run so);
- the pipeline with both threads pinned to different cores;
- preprocess and postprocess time per frame;
- frame-to-result latency p50/p95 with a 30 fps camera;
- resident memory after loading.

Goals (issue 19): pipeline >= 0.95x the loop always, and >= 0.9x raw at 1
thread for a model whose inference takes >= 1 ms.
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
from typing import Any, NamedTuple

import numpy as np

from models import Registry
from models.manifest import Task
from vision.faces import FaceDetector
from vision.pipeline import Pipeline
from vision.preprocess import Frame
from vision.runners import Classifier, Computed, Detector, Prepared, Runner
from vision.teach.features import Embedder

__all__ = [
    "LOOP_GOAL", "RAW_GOAL", "RAW_GOAL_MS", "RUNNERS", "BenchResult", "bench_model", "rss_mb",
    "sample_frames",
]  # fmt: skip

ROUNDS = 4  # raw, loop and pipeline measured in turns, each for a quarter of the time
LOOP_GOAL = 0.95  # pipeline / serial loop, always
RAW_GOAL = 0.9  # pipeline / raw session.run at 1 thread ...
RAW_GOAL_MS = 1.0  # ... for a model whose inference takes at least this long

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
    ratio: float  # pipeline / raw: the median of the rounds' ratios
    serial_fps: float  # a plain serial loop: preprocess, session.run, next frame
    pinned_fps: float  # the same pipeline with its two threads kept on different cores
    pre_ms: float
    post_ms: float
    latency_ms_p50: float  # with a 30 fps camera
    latency_ms_p95: float
    rss_mb: float
    frames: int
    ratios: tuple[float, ...] = ()  # pipeline / raw of each round
    loop_ratio: float = float("nan")  # pipeline / serial loop: the median of the rounds'
    loop_ratios: tuple[float, ...] = ()  # pipeline / serial loop of each round
    inline: float = 0.0  # share of the pipeline's frames run inline

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def loop_goal_met(self) -> bool:
        """Pipeline >= 0.95x the serial loop."""
        return self.loop_ratio >= LOOP_GOAL

    @property
    def raw_goal_met(self) -> bool | None:
        """Pipeline >= 0.9x raw; None where the goal does not apply (2 threads, < 1 ms)."""
        if self.threads != 1 or self.raw_ms_p50 < RAW_GOAL_MS:
            return None
        return self.ratio >= RAW_GOAL


def _percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) if values else float("nan")


#: the order of the three turns, round after round
_ORDERS = (("raw", "loop", "pipeline"), ("pipeline", "raw", "loop"), ("loop", "pipeline", "raw"))


class _OnDemandCamera:
    """Gives the next frame as soon as the model has taken the previous one (no spinning),
    while ``open`` is set (between turns it waits, so the pipeline rests)."""

    def __init__(self, frames: Sequence[Frame]) -> None:
        self._frames = frames
        self._i = 0
        self._free = threading.Lock()  # held from a read until the model takes that frame
        self.open = threading.Event()
        self.stop = threading.Event()

    def read(self) -> Frame:
        while not self.open.wait(0.1):
            if self.stop.is_set():
                raise StopIteration
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


def _loop(runner: Runner[Any], frames: Sequence[Frame], seconds: float) -> tuple[int, float]:
    """Frames done and seconds taken by a plain serial loop, ``model(camera.read())`` for
    one frame after another: read, resize, ``session.run``, the output read into a result
    (the same work the pipeline does for each result it delivers). The camera and the
    per-frame records are the pipeline's own (:class:`_OnDemandCamera`,
    :class:`_Counted`), so the two differ only by what the pipeline itself does."""
    camera = _OnDemandCamera(frames)
    model = _Counted(runner, camera)
    camera.open.set()
    for _ in range(3):
        model(camera.read())
    done = 0
    start = time.perf_counter()
    end = start + seconds
    while not done or time.perf_counter() < end:  # at least one
        _ = model(camera.read())
        done += 1
    return done, time.perf_counter() - start


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
        """All three steps in one (a pipeline running inline calls this)."""
        self.camera.taken()
        result = self.runner(frame)
        self.pre.append(self.runner.timings.pre)
        self.post.append(self.runner.timings.post)
        return result


class _Run(NamedTuple):
    done: int  # results delivered
    seconds: float
    pre: list[float]  # seconds, each frame
    post: list[float]
    inline: int  # frames run inline


class _Turns:
    """One pipeline measured in turns: between turns its camera waits, so it rests.

    Like a student's loop, each turn takes every new result and its value, so
    each frame counted went all the way: camera, preprocessing, model, reading
    the output into a result. A result replaced before it was taken is not
    counted. The pipeline lives across turns (as in a program that runs for
    minutes), so its choice of inline or threads carries over; the first
    results (up to 24, or 0.3 s) let it choose before the first turn.
    """

    def __init__(self, runner: Runner[Any], frames: Sequence[Frame], pin: bool = False) -> None:
        self.camera = _OnDemandCamera(frames)
        self.model = _Counted(runner, self.camera)
        for f in frames[:3]:
            runner(f)
        self.pipe = Pipeline(self.camera.read, self.model, pin=pin)
        self.camera.open.set()
        warm = time.perf_counter() + 0.3
        for _ in range(24):
            _ = self.pipe.latest(timeout=10).value
            if time.perf_counter() > warm:
                break
        self.camera.open.clear()

    def turn(self, seconds: float) -> _Run:
        pipe, pre, post = self.pipe, len(self.model.pre), len(self.model.post)
        inline0 = pipe.inline_frames
        self.camera.open.set()
        done, start = 0, time.perf_counter()
        stop_at = start + seconds
        while not done or time.perf_counter() < stop_at:  # at least one
            _ = pipe.latest(timeout=10).value  # taken and read, as a student's loop does
            done += 1
        elapsed = time.perf_counter() - start
        self.camera.open.clear()
        inline = min(done, pipe.inline_frames - inline0)
        return _Run(done, elapsed, self.model.pre[pre:], self.model.post[post:], inline)

    def close(self) -> None:
        self.camera.stop.set()
        self.pipe.close()


def _pipeline(
    runner: Runner[Any], frames: Sequence[Frame], seconds: float, pin: bool = False
) -> _Run:
    """One turn of a new pipeline (see :class:`_Turns`)."""
    turns = _Turns(runner, frames, pin)
    try:
        return turns.turn(seconds)
    finally:
        turns.close()


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
    rounds: int = ROUNDS,
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
        done, elapsed, inline, loop_done, loop_elapsed = 0, 0.0, 0, 0, 0.0
        pre: list[float] = []
        post: list[float] = []
        ratios: list[float] = []
        loop_ratios: list[float] = []
        turn_s = seconds / rounds
        turns = _Turns(runner, frames)
        measure: dict[str, Callable[[], Any]] = {
            "raw": lambda: _raw(runner, frames[0], turn_s),
            "loop": lambda: _loop(runner, frames, turn_s),
            "pipeline": lambda: turns.turn(turn_s),
        }
        try:
            for i in range(rounds):  # interleaved, so all three see the same load from others,
                # each round in another order, so none is always first after a pause
                got = {step: measure[step]() for step in _ORDERS[i % len(_ORDERS)]}
                turn: list[float] = got["raw"]
                (ln, lt), run = got["loop"], got["pipeline"]
                pipe_fps = run.done / run.seconds
                ratios.append(pipe_fps / (len(turn) / sum(turn)))
                loop_ratios.append(pipe_fps / (ln / lt))
                raw += turn
                done, elapsed = done + run.done, elapsed + run.seconds
                inline += run.inline
                loop_done, loop_elapsed = loop_done + ln, loop_elapsed + lt
                pre, post = pre + run.pre, post + run.post
        finally:
            turns.close()
        pre_ms, post_ms = statistics.median(pre) * 1e3, statistics.median(post) * 1e3
        pinned = _pipeline(runner, frames, seconds / ROUNDS, pin=True)
        lat = _latency(runner, frames, seconds / 2, camera_fps)
    finally:
        runner.close()
    result = BenchResult(
        model=entry.name,
        task=entry.manifest.task,
        threads=threads,
        raw_fps=len(raw) / sum(raw),
        raw_ms_p50=statistics.median(raw) * 1e3,
        pipeline_fps=done / elapsed,
        ratio=statistics.median(ratios),
        serial_fps=loop_done / loop_elapsed,
        pinned_fps=pinned.done / pinned.seconds,
        pre_ms=pre_ms,
        post_ms=post_ms,
        latency_ms_p50=_percentile(lat, 50) * 1e3,
        latency_ms_p95=_percentile(lat, 95) * 1e3,
        rss_mb=memory,
        frames=done,
        ratios=tuple(ratios),
        loop_ratio=statistics.median(loop_ratios),
        loop_ratios=tuple(loop_ratios),
        inline=inline / done,
    )
    if log is not None:
        log(
            f"{entry.name} threads={threads}: pipeline/raw {result.ratio:.2f}, "
            f"pipeline/loop {result.loop_ratio:.2f}"
        )
    return result
