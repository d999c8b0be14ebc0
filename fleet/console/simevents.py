"""The events of a student's run in the simulator, and one client's queue of them.

A run (:class:`fleet.console.simruns.SimRun`) puts each :class:`SimEvent`
into every :class:`Subscription`; the client takes them out at its own pace.
A slow client loses pose frames and camera pictures (it keeps the newest),
never the world, output or the end, and never holds up the run::

    sub = Subscription()
    sub.put(SimEvent("pose", {"x": 1.0}, seq=1))
    sub.get(timeout=1.0)          # SimEvent(kind='pose', data={'x': 1.0}, seq=1)
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from rcbase.closeable import Closeable

__all__ = ["MAX_QUEUED_POSES", "SimEvent", "Subscription"]

#: Pose frames a subscriber may fall behind by before the oldest are dropped.
MAX_QUEUED_POSES = 40


@dataclass(frozen=True)
class SimEvent:
    """One thing that happened in a run: ``kind`` (world, pose, output, camera, end), its JSON
    ``data``, and ``seq``, its place in the run's order."""

    kind: str
    data: dict[str, Any]
    seq: int


class Subscription(Closeable):
    """One client's events of one run: the run puts, the client gets, neither waits long.

    Pose frames are kept to the newest ``MAX_QUEUED_POSES`` and camera
    pictures to the newest one (``dropped`` counts what went); world, output
    and end are all kept (the run bounds its output). :meth:`get` waits,
    :meth:`drain` does not (for async code); iterating ends after ``end``.
    """

    def __init__(self, on_close: Callable[[Subscription], None] | None = None) -> None:
        self._on_close = on_close
        self.dropped = 0
        self._cond = threading.Condition(threading.Lock())
        self._poses: collections.deque[SimEvent] = collections.deque(maxlen=MAX_QUEUED_POSES)
        self._others: collections.deque[SimEvent] = collections.deque()
        self._camera: SimEvent | None = None

    def put(self, event: SimEvent) -> None:
        """Queue ``event``; never blocks for long (called by the run)."""
        with self._cond:
            if event.kind == "pose":
                if len(self._poses) == MAX_QUEUED_POSES:
                    self.dropped += 1
                self._poses.append(event)
            elif event.kind == "camera":
                self.dropped += self._camera is not None
                self._camera = event
            else:
                self._others.append(event)
            self._cond.notify()

    def _pop(self) -> SimEvent | None:
        heads = [q[0] for q in (self._poses, self._others) if q]
        if self._camera is not None:
            heads.append(self._camera)
        if not heads:
            return None
        first = min(heads, key=lambda e: e.seq)
        if first is self._camera:
            self._camera = None
        elif self._poses and first is self._poses[0]:
            self._poses.popleft()
        else:
            self._others.popleft()
        return first

    def get(self, timeout: float | None = None) -> SimEvent | None:
        """The next event, waiting up to ``timeout`` seconds; ``None`` if none came (or closed)."""
        with self._cond:
            self._cond.wait_for(
                lambda: self._closed or self._poses or self._others or self._camera, timeout
            )
            return None if self._closed else self._pop()

    def drain(self) -> list[SimEvent]:
        """Every event queued now, in order, without waiting."""
        with self._cond:
            out = []
            while (event := self._pop()) is not None:
                out.append(event)
            return out

    def __iter__(self) -> Iterator[SimEvent]:
        while not self._closed:
            event = self.get(timeout=1.0)
            if event is not None:
                yield event
                if event.kind == "end":
                    return

    def _close(self) -> None:
        if self._on_close is not None:
            self._on_close(self)
        with self._cond:
            self._cond.notify_all()
