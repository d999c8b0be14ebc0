"""What the link hands on as it arrives: :class:`TelemetryFeed` and :class:`Callbacks`.

The feed keeps the latest telemetry frame, lets a caller wait for the next
one that matches, and calls its subscribers with each frame. Callbacks run
in the thread that publishes (the reader): one that raises is logged, and the
others still run.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Generic, ParamSpec

from firmware_bridge.errors import BridgeTimeout
from firmware_bridge.messages import Telemetry
from rcbase.closeable import Closeable

__all__ = ["Callbacks", "TelemetryFeed"]

logger = logging.getLogger(__name__)

P = ParamSpec("P")


class Callbacks(Generic[P]):
    """A list of callbacks for one event; ``add`` returns a function that removes it again."""

    def __init__(self, event: str) -> None:
        self.event = event
        self._callbacks: list[Callable[P, None]] = []

    def add(self, callback: Callable[P, None]) -> Callable[[], None]:
        self._callbacks.append(callback)
        return lambda: self._callbacks.remove(callback)

    def call(self, *args: P.args, **kwargs: P.kwargs) -> None:
        """Call each one; one that raises is logged and the others still run."""
        for callback in list(self._callbacks):
            try:
                callback(*args, **kwargs)
            except Exception:
                logger.exception("%s callback %r failed", self.event, callback)

    def call_raising(self, *args: P.args, **kwargs: P.kwargs) -> None:
        """Call each one; the first error stops the others and is raised."""
        for callback in list(self._callbacks):
            callback(*args, **kwargs)


class TelemetryFeed(Closeable):
    """The latest telemetry frame of one link, waited for and handed on.

    Closing it wakes every waiter: :meth:`wait` raises BridgeTimeout from then on.
    """

    def __init__(self, port: str) -> None:
        self.port = port
        self.callbacks: Callbacks[[Telemetry]] = Callbacks("telemetry")
        self._latest: Telemetry | None = None
        self._changed = threading.Condition()

    @property
    def latest(self) -> Telemetry | None:
        """The latest frame, or None before the first one (and after :meth:`forget`)."""
        return self._latest

    def publish(self, t: Telemetry) -> None:
        """A new frame: wake the waiters, then call the callbacks."""
        with self._changed:
            self._latest = t
            self._changed.notify_all()
        self.callbacks.call(t)

    def forget(self) -> None:
        """Drop the latest frame (a new session: the old board's values no longer hold)."""
        self._latest = None

    def _close(self) -> None:
        with self._changed:
            self._changed.notify_all()

    def wait(
        self, predicate: Callable[[Telemetry], bool] | None = None, timeout: float = 1.0
    ) -> Telemetry:
        """The next frame (for which ``predicate`` is true); BridgeTimeout after ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._changed:
            start = self._latest
            while True:
                t = self._latest
                if t is not None and t is not start and (predicate is None or predicate(t)):
                    return t
                left = deadline - time.monotonic()
                if left <= 0 or self.closed:
                    raise BridgeTimeout(f"no matching telemetry from {self.port} in {timeout} s")
                self._changed.wait(left)
