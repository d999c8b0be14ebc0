"""What every device shares: its lifecycle, and the robot it belongs to.

A device is closed once (``close()`` may be called again safely), knows
whether it is ``closed``, and works as a context manager. Its
:class:`Controls` come from the robot: the clock, the recorder, the e-stop
latch and the speed cap.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Literal, Self

from hardware.errors import DeviceClosedError
from hardware.ports import Port
from hardware.telemetry import Recorder, Value

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
    _warned: set[str] = field(default_factory=set)

    def record(self, part: str, what: Literal["command", "reading", "event"], value: Value) -> None:
        if self.recorder is not None:
            self.recorder.record(part, what, value)

    def warn_once(self, key: str, message: str, *args: object) -> None:
        if key not in self._warned:
            self._warned.add(key)
            logger.warning(message, *args)


class Device:
    """Base of every device: a name, a port, and the lifecycle."""

    def __init__(self, name: str, port: Port | None, controls: Controls | None = None) -> None:
        self.name = name
        self._port = port
        self._controls = controls or Controls()
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    def _check_open(self) -> None:
        if self._closed:
            raise DeviceClosedError(f"{self.name} is closed; make a new Robot to use it again")

    def _before_close(self) -> None:
        """Put the device in its safe state (motors stop, servos park)."""

    def close(self) -> None:
        """Put the device in its safe state and release it. Safe to call twice."""
        if self._closed:
            return
        try:
            self._before_close()
        finally:
            self._closed = True
            if self._port is not None:
                self._port.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<{type(self).__name__} {self.name!r} {state}>"
