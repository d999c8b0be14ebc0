"""Joining a background thread the one way: with a timeout, and a log line if it hangs.

gpiozero's rule: a thread is stopped with an event and joined with a
timeout, never waited for forever and never left running unnoticed::

    self._stop.set()
    join_thread(self._thread, timeout=5)  # logs an error if it is still running
"""

from __future__ import annotations

import logging
import threading

__all__ = ["JOIN_TIMEOUT", "join_thread"]

logger = logging.getLogger(__name__)

#: Seconds :func:`join_thread` waits by default.
JOIN_TIMEOUT = 2.0


def join_thread(thread: threading.Thread | None, timeout: float = JOIN_TIMEOUT) -> bool:
    """Join a started thread other than this one; log an error if it does not stop.

    Returns True when the thread has ended (or was never started, or is
    this one), False when it was still running after ``timeout`` seconds.
    """
    if thread is None or thread is threading.current_thread() or not thread.ident:
        return True
    thread.join(timeout=timeout)
    if thread.is_alive():
        logger.error("%s did not stop within %s s", thread.name, timeout)
        return False
    return True
