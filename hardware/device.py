"""What every device shares: its lifecycle, and the robot it belongs to.

A device is a :class:`rcbase.closeable.Closeable`: closed once (``close()``
may be called again safely), ``closed`` tells, and it works as a context
manager. Its :class:`Controls` come from the robot: the clock, the recorder,
the e-stop latch, the speed cap and the thread that runs ``when_...``
actions.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from hardware.errors import DeviceClosedError
from hardware.events import Events
from hardware.ports import Port
from hardware.telemetry import Recorder, Value
from rcbase.closeable import Closeable

__all__ = ["Controls", "Device"]

logger = logging.getLogger(__name__)


@dataclass
class Controls:
    """Shared by all devices of one robot."""

    clock: Callable[[], float] = time.monotonic
    recorder: Recorder | None = None
    estopped: bool = False
    speed_cap: float = 1.0  # fraction of full motor power
    ignored_while_estopped: int = 0
    events: Events = field(default_factory=Events)
    _warned: set[str] = field(default_factory=set)

    def record(self, part: str, what: Literal["command", "reading", "event"], value: Value) -> None:
        if self.recorder is not None:
            self.recorder.record(part, what, value)

    def warn_once(self, key: str, message: str, *args: object) -> None:
        if key not in self._warned:
            self._warned.add(key)
            logger.warning(message, *args)


class Device(Closeable):
    """Base of every device: a name, a port, and the lifecycle."""

    def __init__(self, name: str, port: Port | None, controls: Controls | None = None) -> None:
        self.name = name
        self._port = port
        self._controls = controls or Controls()

    def _check_open(self) -> None:
        if self._closed:
            raise DeviceClosedError(
                f"{self.name} is closed; make a new Robot to use it again / "
                f"{self.name} 已关闭；请新建一个 Robot 再使用"
            )

    def _watch(self, what: str, check: Callable[[], None] | None) -> None:
        """Run ``check`` on the events thread (``None``: stop)."""
        if check is not None:
            self._check_open()
        self._controls.events.watch(f"{self.name}.{what}", check)

    def _before_close(self) -> None:
        """Put the device in its safe state (motors stop, servos park)."""

    def _close(self) -> None:
        events = self._controls.events
        for key in events.watching:
            if key.startswith(f"{self.name}."):
                events.watch(key, None)
        try:
            self._before_close()
        finally:
            if self._port is not None:
                self._port.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<{type(self).__name__} {self.name!r} {state}>"
