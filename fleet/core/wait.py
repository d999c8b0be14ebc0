"""Wait for Ctrl+C or SIGTERM: how the long-running commands end.

Its own module so ``roboclass agent`` on a robot loads it without the broker
commands (the embedded broker's amqtt is only in the ``console`` extra).
"""

from __future__ import annotations

import signal
import threading
from types import FrameType

__all__ = ["wait_for_stop"]


def wait_for_stop(seconds: float | None, stop: threading.Event | None = None) -> None:
    """Block until SIGINT/SIGTERM, or until ``seconds`` have passed, or until ``stop`` is set.

    A signal sets ``stop``, so a worker waiting on it ends too.
    """
    stop = stop or threading.Event()

    def handler(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        stop.wait(seconds)
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
