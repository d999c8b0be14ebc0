"""A robot always ends stopped.

Every open robot is registered here. At interpreter exit, and on SIGTERM or
SIGHUP, every registered robot is stopped; the signal then ends the program
as it would have (exit status 128 + signal), so ``with`` blocks and
``finally`` clauses still run. SIGINT (Ctrl+C) already raises
``KeyboardInterrupt``, which unwinds the same way. Handlers are installed
only where nobody else installed one, and only from the main thread.
"""

from __future__ import annotations

import atexit
import logging
import signal
import threading
from types import FrameType
from typing import Protocol

__all__ = ["register", "stop_everything", "unregister"]

logger = logging.getLogger(__name__)


class Stoppable(Protocol):
    def emergency_stop_now(self) -> None: ...


_lock = threading.Lock()
_robots: dict[int, Stoppable] = {}
_installed = False
_SIGNALS = (signal.SIGTERM, signal.SIGHUP)
_SIGNAL_STOP_S = 1.0


def stop_everything() -> None:
    """Stop every open robot now. Never raises."""
    with _lock:
        robots = list(_robots.values())
    for robot in robots:
        try:
            robot.emergency_stop_now()
        except Exception:  # stopping the others matters more than this error
            logger.exception("could not stop %r", robot)


def _on_signal(signum: int, _frame: FrameType | None) -> None:
    """Stop every robot, then end the program the way the signal would have.

    The stopping runs in a thread of its own: the interrupted code may hold a
    lock that stopping needs (a serial port in the middle of a write), and a
    handler that waited for it there would wait forever. If stopping takes
    longer than ``_SIGNAL_STOP_S``, the program unwinds anyway: ``close()``
    and the exit hook stop the robots once the lock is free, and a bridge
    board's own watchdog stops the motors if the host goes silent.
    """
    logger.warning("signal %d: stopping every robot", signum)
    worker = threading.Thread(target=stop_everything, name="roboclass-signal-stop", daemon=True)
    worker.start()
    worker.join(_SIGNAL_STOP_S)
    if worker.is_alive():
        logger.warning(
            "stopping took over %.1f s; unwinding to free what it waits for", _SIGNAL_STOP_S
        )
    raise SystemExit(128 + signum)


def _install() -> None:
    global _installed  # noqa: PLW0603 - installed once per process
    if _installed:
        return
    _installed = True
    atexit.register(stop_everything)
    if threading.current_thread() is not threading.main_thread():
        logger.info("robot opened outside the main thread: no signal handlers installed")
        return
    for sig in _SIGNALS:
        if signal.getsignal(sig) is signal.SIG_DFL:
            signal.signal(sig, _on_signal)


def register(robot: Stoppable) -> None:
    _install()
    with _lock:
        _robots[id(robot)] = robot


def unregister(robot: Stoppable) -> None:
    with _lock:
        _robots.pop(id(robot), None)
