"""The latest-frame slot: it holds only the newest value, never a queue (decision 0003).

A :class:`~vision.pipeline.Pipeline` passes frames and results through two of them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, NamedTuple, TypeVar

from rcbase.closeable import Closeable
from vision.errors import RunnerClosedError

__all__ = ["LatestSlot", "Stamped"]

T = TypeVar("T")


class Stamped(NamedTuple, Generic[T]):
    """A value with its sequence number and the time (``time.monotonic``) it was made."""

    seq: int
    time: float
    value: T


class LatestSlot(Closeable, Generic[T]):
    """Holds only the newest value; ``get`` waits for one newer than what you have seen.

    Closing it wakes every waiting ``get`` with nothing, and refuses ``put``.

    It is made of plain locks (written in C), not a ``threading.Condition``
    (written in Python): a pipeline passes thousands of frames a second
    through two slots, and every microsecond the model thread spends here is
    one it does not spend running the model.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._waiters: list[threading.Lock] = []  # held locks, one per waiting get()
        self._item: Stamped[T] | None = None
        self._seq = 0
        self._taken = True
        self.clock = clock
        self.dropped = 0  # values replaced before anyone took them

    def put(self, value: T, stamp: float | None = None, taken: bool = False) -> Stamped[T]:
        """Store ``value`` as the newest; ``taken=True``: the putter uses it itself."""
        with self._lock:
            if self._closed:
                raise RunnerClosedError("the slot is closed")
            if not self._taken:
                self.dropped += 1
            self._seq += 1
            item = self._item = Stamped(self._seq, self.clock() if stamp is None else stamp, value)
            self._taken = taken
            waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            waiter.release()
        return item

    def skip(self) -> int:
        """Number a value its putter uses itself, without storing it: its ``seq``.
        (An inline pipeline's step: the caller's thread has the frame and the result.)"""
        with self._lock:
            if not self._taken:
                self.dropped += 1
            self._taken = True
            self._seq += 1
            return self._seq

    def get(self, after: int = 0, timeout: float | None = None) -> Stamped[T] | None:
        """The newest value with ``seq > after``; None after ``timeout`` or when closed."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._lock:
                item = self._item
                if item is not None and item.seq > after:
                    self._taken = True
                    return item
                left = None if deadline is None else deadline - time.monotonic()
                if self._closed or (left is not None and left <= 0):
                    return None
                waiter = threading.Lock()
                waiter.acquire()
                self._waiters.append(waiter)
            # put() or close() releases the waiter; then look again
            if not waiter.acquire(timeout=-1 if left is None else left):
                with self._lock:
                    if waiter in self._waiters:
                        self._waiters.remove(waiter)

    def peek(self) -> Stamped[T] | None:
        with self._lock:
            return self._item

    def _close(self) -> None:
        with self._lock:
            waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            waiter.release()
