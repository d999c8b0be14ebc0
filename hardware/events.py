"""``when_...`` actions: the robot watches its sensors and runs your function.

::

    def beep() -> None:
        robot.buzzer.beep()

    robot.button.when_pressed = beep
    robot.distance.when_closer_than(0.2, robot.drive.stop)

The robot checks every watched sensor 50 times a second and runs the
actions, one at a time:

* in real time (a real robot, the real-time simulator), on one background
  thread that starts with the first action and is stopped and joined when
  the robot closes;
* in simulated time (the fast simulator, where ``time.sleep(60)`` takes a
  few milliseconds), while the program waits: ``robot.sleep`` and
  ``time.sleep`` pause every 0.02 simulated seconds to check. A thread on
  the wall clock would miss everything there.

An action that fails is logged with its traceback (once, until it works
again) and the others go on.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from rcbase.closeable import Closeable

__all__ = ["Action", "Events"]

logger = logging.getLogger(__name__)

Action = Callable[[], object]
"""What a ``when_...`` runs: a function without arguments."""


class Events(Closeable):
    """The thread that checks watched sensors and runs their actions."""

    def __init__(
        self, period: float = 0.02, join_timeout: float = 2.0, *, stepped: bool = False
    ) -> None:
        self.period = period
        self.join_timeout = join_timeout
        self.stepped = stepped  # simulated time: checked by pump(), no thread
        self._checks: dict[str, Callable[[], None]] = {}
        self._lock = threading.Lock()
        self._round = threading.Lock()  # one round of checks at a time
        self._failing: set[str] = set()  # logged once until they work again
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def watch(self, key: str, check: Callable[[], None] | None) -> None:
        """Call ``check()`` every period (``None`` stops watching ``key``)."""
        with self._lock:
            if check is None:
                self._checks.pop(key, None)
                return
            if self._closed:
                return
            self._checks[key] = check
            if self._thread is None and not self.stepped:
                self._thread = threading.Thread(
                    target=self._run, name="roboclass-events", daemon=True
                )
                self._thread.start()

    @property
    def watching(self) -> list[str]:
        """The keys being watched now."""
        with self._lock:
            return sorted(self._checks)

    def pump(self) -> None:
        """Check everything watched once, in this thread (simulated time)."""
        with self._lock:
            checks = list(self._checks.items())
        self._check(checks)

    def _run(self) -> None:
        while not self._stop.wait(self.period):
            with self._lock:
                checks = list(self._checks.items())
                if not checks:  # nothing to watch: the thread ends; watch() starts another
                    self._thread = None
                    return
            self._check(checks)

    def _check(self, checks: list[tuple[str, Callable[[], None]]]) -> None:
        with self._round:
            for key, check in checks:
                if self._stop.is_set():
                    return
                try:
                    check()
                except Exception:  # a student's action must not stop the others
                    if key not in self._failing:  # not 50 times a second
                        self._failing.add(key)
                        logger.exception("the action for %s failed", key)
                else:
                    self._failing.discard(key)

    def _close(self) -> None:
        self._stop.set()
        with self._lock:
            thread, self._thread = self._thread, None
            self._checks.clear()
        if thread is not None and thread is not threading.current_thread():
            thread.join(self.join_timeout)
            if thread.is_alive():
                logger.warning("the events thread did not stop within %g s", self.join_timeout)
