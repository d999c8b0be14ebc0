"""The live sensor values of the job that is running, for the student who watches it.

While a job runs, the lesson runner's recorder (the trusted side: what the
robot server read for the program) passes each reading here; the agent's
telemetry then carries the newest value of each part as ``sensor.<part>``
(a tuple's items as ``sensor.<part>.<i>``), at most :data:`MAX_VALUES` of
them, until the job ends; the first snapshot after the end still has the last
values (a short job may end between two telemetry messages), then nothing is
kept::

    sensors = LiveSensors()
    run_lesson(..., on_start=sensors.watch)    # through the job's context
    telemetry.update(sensors.snapshot())       # {"sensor.distance": 0.42, ...}
    sensors.clear()
"""

from __future__ import annotations

import threading
from typing import Any

from hardware.telemetry import Recorder, Sample

__all__ = ["MAX_VALUES", "PREFIX", "LiveSensors"]

#: Sensor values a telemetry message carries at most (it has room for 64 values in all).
MAX_VALUES = 32
PREFIX = "sensor."

Number = float | int | bool


class LiveSensors:
    """The newest reading of each part of the running job's robot."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[str, Number] = {}
        self._recorder: Recorder | None = None

    def watch(self, _robot: Any, recorder: Recorder) -> None:
        """Follow ``recorder``'s readings (the runner calls this as the job's robot is ready)."""
        with self._lock:
            self._values = {}
            self._recorder = recorder
        recorder.listen(lambda sample: self._seen(recorder, sample))

    def _seen(self, recorder: Recorder, sample: Sample) -> None:
        if sample.what != "reading":
            return
        value = sample.value
        items = (
            {f"{PREFIX}{sample.part}.{i}": v for i, v in enumerate(value)}
            if isinstance(value, tuple)
            else {f"{PREFIX}{sample.part}": value}
        )
        with self._lock:
            if recorder is not self._recorder:
                return  # a reading of a job that has ended
            for key, v in items.items():
                if isinstance(v, bool | int | float) and (
                    key in self._values or len(self._values) < MAX_VALUES
                ):
                    self._values[key] = round(v, 4) if isinstance(v, float) else v

    def snapshot(self) -> dict[str, Number]:
        """The newest value of each part (empty when no job runs; once more after one ended)."""
        with self._lock:
            values = dict(self._values)
            if self._recorder is None:
                self._values = {}  # the job's last values went out: forget them
            return values

    @property
    def active(self) -> bool:
        """Whether a job's robot is being watched."""
        with self._lock:
            return self._recorder is not None

    def clear(self) -> None:
        """The job ended: stop taking its readings (the next snapshot is its last values)."""
        with self._lock:
            self._recorder = None
