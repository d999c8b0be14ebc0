"""When a pipeline should run its model inline, in the caller's thread.

Two threads save, per frame, the overlap of preparing the next frame while the
model runs (the shorter of the two times, and nothing when the model's own
threads fill every core). They cost two hand-offs between threads a frame
(the camera thread wakes the model thread, which wakes the caller). See
decision 0031 and ``bench/vision_models.py``.
"""

from __future__ import annotations

import os
import statistics
from collections import deque

__all__ = ["Costs", "model_threads", "usable_cores"]


def model_threads(model: object) -> int:
    """Inference threads the model says it uses (a runner's ``threads``), else 1."""
    threads = getattr(model, "threads", 1)
    return threads if isinstance(threads, int) and threads > 0 else 1


def usable_cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


class Costs:
    """Recent prepare and inference times, and what they say: inline or two threads."""

    window = 16  # frames whose median counts
    every = 8  # frames between two decisions

    def __init__(self, handoff: float, spare_core: bool) -> None:
        self.handoff = handoff
        self.spare_core = spare_core
        self.pre: deque[float] = deque(maxlen=self.window)
        self.infer: deque[float] = deque(maxlen=self.window)
        self._since = 0

    def overlap(self) -> float:
        """Seconds a frame saves when preparing runs beside the model (median of recent)."""
        if not self.spare_core or not self.pre or not self.infer:
            return 0.0
        return min(statistics.median(self.pre), statistics.median(self.infer))

    def decide(self, inline: bool) -> bool:
        """Inline from now on? Asked after every frame; changes its answer at most every
        ``every`` frames, and only with ``every`` samples of both times."""
        self._since += 1
        if self._since < self.every or len(self.infer) < self.every:
            return inline
        self._since = 0
        cost = 2 * self.handoff  # the camera hands the frame on, the model the result
        if inline:
            return self.overlap() <= 2 * cost  # back to threads only when clearly better
        return self.overlap() < cost
