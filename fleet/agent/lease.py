"""The agent's robot: lent to a job that opens the kit itself, and taken back stopped.

Between jobs the agent holds the robot (identify, preflight, the preview's
camera, the e-stop). A job either drives that same robot, which is stopped
when the job ends, or, on a real robot whose runner opens the kit itself
(``opens_robot``), gets the hardware: GPIO pins and a serial port open only
once, so the lease closes the agent's robot for the job (which stops it) and
opens it again afterwards, stopped, and e-stopped if the room still is::

    lease = RobotLease(robot, lends=True, opener=lambda: Robot(kit, backend="gpio"),
                       stopped=lambda: latch.active)
    with lease.for_job() as robot:   # None: lent, the job opens the kit itself
        run(robot)
    lease.estop()                    # whatever robot it holds now

While the robot is lent, the e-stop reaches it through the job's stop event.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from rcbase.closeable import Closeable

if TYPE_CHECKING:
    from hardware import Robot

__all__ = ["RobotLease"]

logger = logging.getLogger(__name__)


class RobotLease(Closeable):
    """Holds the agent's robot (or none); every method is thread-safe.

    Closing it stops the robot, and closes it if the lease opened it (after a
    job it was lent to); a robot the caller passed in stays the caller's to close.
    """

    def __init__(
        self,
        robot: Robot | None,
        *,
        lends: bool = False,
        opener: Callable[[], Robot] | None = None,
        stopped: Callable[[], bool] = lambda: False,
    ) -> None:
        self._robot = robot
        self._lends = lends
        self._opener = opener
        self._stopped = stopped
        self._lock = threading.RLock()
        self._reopened = False  # the robot is one the lease opened again after a job
        if stopped() and robot is not None and not robot.closed:
            robot.estop()

    @property
    def robot(self) -> Robot | None:
        """The robot held now (it may be closed while it is lent)."""
        return self._robot

    def usable(self) -> Robot | None:
        """The robot held now if it is open, else None."""
        robot = self._robot
        return None if robot is None or robot.closed else robot

    # -- stopping ------------------------------------------------------------

    def stop(self) -> None:
        """Stop the wheels (after a job, or when the console is gone too long)."""
        with self._lock:
            robot = self.usable()
            if robot is not None:
                robot.stop()

    def estop(self) -> None:
        """Emergency stop: the robot stops and ignores motion until :meth:`clear_stop`."""
        with self._lock:
            robot = self.usable()
            if robot is not None:
                robot.estop()

    def clear_stop(self) -> None:
        """Clear the emergency stop; the robot stays still until told to move."""
        with self._lock:
            robot = self.usable()
            if robot is None:
                return
            robot.clear_stop()

    # -- lending -------------------------------------------------------------

    @contextlib.contextmanager
    def for_job(self) -> Iterator[Robot | None]:
        """The robot a job may drive (None: lent, or none); stopped or taken back after."""
        lent = self._lend()
        try:
            yield None if lent else self.usable()
        finally:
            if lent:
                self._take_back()
            else:
                self.stop()

    def _lend(self) -> bool:
        """Close the robot for a job whose runner opens the kit (True if so)."""
        if not self._lends:
            return False
        with self._lock:
            robot = self.usable()
            if robot is None:
                return False
            robot.close()  # stops it and frees its pins and port
        logger.info("robot lent to the job (closed here until it ends)")
        return True

    def _take_back(self) -> None:
        """Open the robot again after a job it was lent to (stopped, latched if e-stopped)."""
        if self._opener is None:
            logger.warning("no way to open the robot again after the job: running without it")
            self._forget()
            return
        try:
            robot = self._opener()
        except Exception:  # the job may have left the hardware unusable: say so, go on
            logger.exception("could not open the robot again after the job")
            self._forget()
            return
        with self._lock:
            if self.closed:  # the agent ended during the job: nobody would close it
                robot.close()
                return
            self._robot = robot
            self._reopened = True
            if self._stopped():
                robot.estop()

    def _forget(self) -> None:
        with self._lock:
            self._robot = None

    def _close(self) -> None:
        with self._lock:
            robot = self.usable()
            if robot is None:
                return
            if self._reopened:
                robot.close()  # opened by the lease after a job: the lease's to close
            else:
                robot.stop()  # the caller's robot: left stopped, the caller closes it
