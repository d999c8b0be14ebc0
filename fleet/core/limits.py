"""Rate limits: failed tries at the console's login and set-up; a robot's log lines.

::

    limiter = FailureLimiter(failures=5, window_s=60.0)
    key = ("ms-li", "192.168.1.23")
    wait = limiter.retry_after(key)     # 0.0: may try now
    if wrong_password:
        limiter.failed(key)
    else:
        limiter.succeeded(key)

    bucket = TokenBucket(rate=4000, burst=32_000)   # characters a second, and at once
    if bucket.take(len(line)):
        send(line)
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Hashable

__all__ = ["FailureLimiter", "TokenBucket"]


class FailureLimiter:
    """At most ``failures`` failed tries per key in any ``window_s`` seconds; thread-safe."""

    def __init__(
        self,
        failures: int = 5,
        window_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.failures = failures
        self.window_s = window_s
        self._clock = clock
        self._lock = threading.Lock()
        self._seen: dict[Hashable, deque[float]] = {}

    def _recent(self, key: Hashable, now: float) -> deque[float]:
        times = self._seen.get(key, deque())
        while times and now - times[0] >= self.window_s:
            times.popleft()
        return times

    def retry_after(self, key: Hashable) -> float:
        """Seconds until ``key`` may try again; 0.0 when it may try now."""
        with self._lock:
            now = self._clock()
            times = self._recent(key, now)
            if len(times) < self.failures:
                return 0.0
            return max(0.0, self.window_s - (now - times[0]))

    def failed(self, key: Hashable) -> None:
        with self._lock:
            now = self._clock()
            times = self._recent(key, now)
            times.append(now)
            self._seen[key] = times
            if len(self._seen) > 10_000:  # forget keys with no recent failure
                for old in [k for k, v in self._seen.items() if not self._recent(k, now)]:
                    del self._seen[old]

    def succeeded(self, key: Hashable) -> None:
        with self._lock:
            self._seen.pop(key, None)


class TokenBucket:
    """``rate`` units a second on average, ``burst`` at once; thread-safe."""

    def __init__(
        self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if rate <= 0 or burst <= 0:
            raise ValueError("rate and burst must be positive")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens = burst
        self._last = clock()

    def take(self, amount: float = 1.0) -> bool:
        """Spend ``amount`` if there is that much now; False (nothing spent) when not."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
            self._last = now
            if amount > self._tokens:
                return False
            self._tokens -= amount
            return True
