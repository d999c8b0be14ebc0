"""Time-stamped recording of what a robot was told and what it sensed.

The lesson runner and grader read this stream: every motor command and every
sensor reading becomes a :class:`Sample`. Camera frames are never recorded,
only their size (children's pictures stay on the robot)::

    with Robot(kit="sim", record=True) as robot:
        robot.drive.forward(0.5)
        robot.distance.metres
    robot.recorder.samples[0]   # Sample(t=0.0, part='drive', what='command', value=(0.5, 0.5))
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

__all__ = ["Recorder", "Sample"]

Value = float | int | bool | str | tuple[float, ...] | None


@dataclass(frozen=True)
class Sample:
    t: float  # seconds on the robot's clock since the recorder started
    part: str  # "drive", "left_motor", "distance", ...
    what: Literal["command", "reading", "event"]
    value: Value

    def as_dict(self) -> dict[str, object]:
        return {"t": round(self.t, 6), "part": self.part, "what": self.what, "value": self.value}


class Recorder:
    """Keeps the newest ``maxlen`` samples and passes each to the listeners."""

    def __init__(self, clock: Callable[[], float], maxlen: int = 100_000) -> None:
        self._clock = clock
        self._start = clock()
        self._samples: deque[Sample] = deque(maxlen=maxlen)
        self._listeners: list[Callable[[Sample], None]] = []
        self._lock = threading.Lock()
        self.dropped = 0

    def record(self, part: str, what: Literal["command", "reading", "event"], value: Value) -> None:
        sample = Sample(self._clock() - self._start, part, what, value)
        with self._lock:
            if len(self._samples) == self._samples.maxlen:
                self.dropped += 1
            self._samples.append(sample)
            listeners = list(self._listeners)
        for listener in listeners:
            listener(sample)

    def listen(self, callback: Callable[[Sample], None]) -> None:
        """Call ``callback(sample)`` for every new sample (from the recording thread)."""
        with self._lock:
            self._listeners.append(callback)

    @property
    def samples(self) -> list[Sample]:
        with self._lock:
            return list(self._samples)

    def where(self, part: str | None = None, what: str | None = None) -> list[Sample]:
        return [
            s
            for s in self.samples
            if (part is None or s.part == part) and (what is None or s.what == what)
        ]

    def write_jsonl(self, path: str | Path) -> int:
        """Write every sample as one JSON object per line; returns how many."""
        return _write_jsonl(Path(path), self.samples)


def _write_jsonl(path: Path, samples: Iterable[Sample]) -> int:
    n = 0
    with path.open("w", encoding="utf-8") as out:
        for sample in samples:
            out.write(json.dumps(sample.as_dict(), ensure_ascii=False) + "\n")
            n += 1
    return n
