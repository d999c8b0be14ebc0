"""Short things the teacher asks a robot between jobs: identify yourself, check yourself.

``identify`` blinks the LED and beeps (not while e-stopped: a stopped robot
stays quiet) for about a second; ``preflight`` runs
:func:`hardware.preflight.run_preflight` when no job runs and the room is not
stopped, and reports a summary and one line per part. Each runs on a thread
of its own, one of each kind at a time; closing stops and joins them::

    with Errands(lease, stopped=lambda: latch.active, busy=lambda: worker.busy,
                 report=on_preflight) as errands:
        errands.identify()
        errands.preflight()
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from fleet.agent.lease import RobotLease
from rcbase.closeable import Closeable

__all__ = ["Errands", "Report"]

logger = logging.getLogger(__name__)

#: Gets a preflight's summary (``{"ok": n, "warn": n, "fail": n}``) and its lines.
Report = Callable[[dict[str, int], list[str]], None]
#: identify: how many times the LED turns on or off, and how long each lasts.
BLINKS = 6
BLINK_S = 0.2


class Errands(Closeable):
    """Runs identify and preflight on tracked threads."""

    def __init__(
        self,
        lease: RobotLease,
        *,
        stopped: Callable[[], bool],
        busy: Callable[[], bool],
        report: Report,
        name: str = "agent",
    ) -> None:
        self._lease = lease
        self._stopped = stopped
        self._busy = busy
        self._report = report
        self._name = name
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: dict[str, threading.Thread] = {}

    def identify(self) -> bool:
        """Blink and beep for a moment (False: one is still going, or closed)."""
        return self._start("identify", self._identify)

    def preflight(self) -> bool:
        """Check every part and report (False: one is still going, or closed)."""
        return self._start("preflight", self._preflight)

    def _start(self, kind: str, target: Callable[[], None]) -> bool:
        with self._lock:
            if self.closed or self._stop.is_set():
                return False
            running = self._threads.get(kind)
            if running is not None and running.is_alive():
                return False
            thread = threading.Thread(target=target, name=f"agent-{self._name}-{kind}", daemon=True)
            self._threads[kind] = thread
            thread.start()
        return True

    def _close(self) -> None:
        with self._lock:
            self._stop.set()
            threads = list(self._threads.values())
        for thread in threads:
            if thread.is_alive():
                thread.join(timeout=10)

    def _identify(self) -> None:
        robot = self._lease.usable()
        if robot is None:
            return
        led, buzzer = robot.parts.get("led"), robot.parts.get("buzzer")
        try:
            for i in range(BLINKS):
                if self._stop.is_set() or robot.closed:
                    return
                on = i % 2 == 0
                if led is not None:
                    led.on() if on else led.off()  # type: ignore[attr-defined]
                if buzzer is not None and not self._stopped():
                    buzzer.beep() if on else buzzer.stop()  # type: ignore[attr-defined]
                self._stop.wait(BLINK_S)
        finally:  # cut short (closing): the LED and buzzer end off all the same
            if not robot.closed:
                if led is not None:
                    led.off()  # type: ignore[attr-defined]
                if buzzer is not None:
                    buzzer.stop()  # type: ignore[attr-defined]

    def _preflight(self) -> None:
        robot = self._lease.usable()
        if robot is None or self._busy() or self._stopped():
            return
        from hardware.preflight import run_preflight  # noqa: PLC0415 - only when asked

        checks = run_preflight(robot)
        summary = {"ok": 0, "warn": 0, "fail": 0}
        for c in checks:
            summary[c.status] += 1
        lines = [f"preflight {c.part}: {c.status} {c.detail('en')}" for c in checks]
        self._report(summary, lines)
