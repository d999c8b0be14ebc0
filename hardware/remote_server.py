"""The trusted side of a remote robot: :class:`RobotServer`.

The lesson runner keeps the robot in its own process and serves it to the
student's program over a socket (:mod:`hardware.remote_wire`). The server
checks every request (only known parts and methods, numbers in range),
applies the speed cap and the e-stop latch, records every command and
reading as trusted telemetry, and ends the program's time with
:class:`~hardware.remote_wire.TimeUp`::

    parent, child = socket.socketpair()
    server = RobotServer(backend, parent, time_limit=backend.clock() + 60)
    ...  # the student's process drives Robot(backend="remote") on ``child``
    server.close()
"""

from __future__ import annotations

import json
import logging
import math
import socket
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from hardware.errors import BackendError, HardwareError, KitError, SensorError
from hardware.kit import PartSpec
from hardware.ports import Backend
from hardware.remote_wire import Connection, TimeUp
from hardware.telemetry import Recorder
from rcbase.threads import join_thread

__all__ = ["MAX_PORTS", "RobotServer"]

logger = logging.getLogger(__name__)

MAX_PORTS = 64

_ALLOWED = {
    "motor": {"set"},
    "servo": {"set_angle"},
    "distance": {"read"},
    "line": {"read"},
    "encoders": {"read"},
    "imu": {"read"},
    "button": {"is_pressed"},
    "led": {"set"},
    "rgb_led": {"set"},
    "buzzer": {"tone"},
    "battery": {"read"},
    "camera": {"read"},
}


def _number(value: Any, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"expected a number, got {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{value!r} is outside {low:g}..{high:g}")
    return float(value)


class RobotServer:
    """Serves ``backend`` to one client on ``sock``, in a thread of its own.

    ``time_limit`` (seconds on the backend's clock) ends the client's program
    through :class:`TimeUp`. ``recorder`` receives every command and reading.
    ``on_frame`` (if given) is called with every camera frame the client
    reads, in this thread: it must only keep a reference (the console's live
    preview shows the student's own frames, never a second read).
    """

    def __init__(
        self,
        backend: Backend,
        sock: socket.socket,
        *,
        recorder: Recorder | None = None,
        speed_cap: float = 1.0,
        time_limit: float | None = None,
        on_frame: Callable[[npt.NDArray[np.uint8]], None] | None = None,
    ) -> None:
        self.backend = backend
        self.on_frame = on_frame
        self.kit = backend.kit
        self.recorder = recorder or Recorder(backend.clock)
        self.speed_cap = min(speed_cap, backend.kit.limits.max_speed)
        self.time_limit = time_limit
        self.reports: list[dict[str, Any]] = []
        self.errors = 0
        self.time_up = False
        self._estopped = threading.Event()
        self._conn = Connection(sock)
        self._ports: dict[int, tuple[str, str, Any]] = {}
        self._lock = threading.Lock()
        self._thread = threading.Thread(
            target=self._serve, name="roboclass-robot-server", daemon=True
        )
        self._thread.start()

    def estop(self) -> None:
        """Stop every motor now; from here on motor commands are refused."""
        self._estopped.set()
        with self._lock:
            self.backend.stop_all()
            for kind, _name, port in self._ports.values():
                if kind == "motor":
                    port.set(0.0)
        self.recorder.record("robot", "event", "estop")

    @property
    def estopped(self) -> bool:
        return self._estopped.is_set()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def close(self) -> None:
        self._conn.close()
        join_thread(self._thread, timeout=5)

    def _serve(self) -> None:
        while True:
            try:
                raw = self._conn.recv()
            except (EOFError, OSError):
                break
            except BackendError:
                logger.warning("robot client sent an oversized message; closing")
                break
            try:
                request = json.loads(raw)
                if not isinstance(request, dict):
                    raise ValueError("a request must be a JSON object")
                reply, blob = self._dispatch(request)
            except TimeUp as exc:
                reply, blob = {"ok": False, "type": "TimeUp", "error": str(exc)}, None
            except (ValueError, KeyError, TypeError, HardwareError) as exc:
                self.errors += 1
                kind = "SensorError" if isinstance(exc, SensorError) else "ValueError"
                reply, blob = {"ok": False, "type": kind, "error": str(exc)}, None
            try:
                if blob is not None:
                    reply["blob"] = True
                self._conn.send(json.dumps(reply).encode())
                if blob is not None:
                    self._conn.send(blob)
            except OSError:
                break
        with self._lock:
            self.backend.stop_all()

    def _check_time(self) -> None:
        if self.time_limit is not None and self.backend.clock() >= self.time_limit:
            self.time_up = True
            raise TimeUp(f"the lesson's {self.time_limit:g} seconds are over")

    def _dispatch(self, request: dict[str, Any]) -> tuple[dict[str, Any], bytes | None]:  # noqa: PLR0911
        op = request.get("op")
        if op == "hello":
            return {
                "ok": True,
                "kit": self.kit.model_dump(mode="json"),
                "backend": self.backend.name,
            }, None
        if op == "clock":
            return {"ok": True, "value": self.backend.clock()}, None
        if op == "sleep":
            self._check_time()
            seconds = _number(request.get("seconds"), 0, 24 * 3600)
            if self.time_limit is not None:
                seconds = min(seconds, max(0.0, self.time_limit - self.backend.clock()))
            self.backend.sleep(seconds)
            self._check_time()
            return {"ok": True}, None
        if op == "report":
            name, value = request.get("name"), request.get("value")
            if not isinstance(name, str) or not 0 < len(name) <= 64 or len(self.reports) >= 10_000:
                raise ValueError(
                    "report(name, value): name must be a short text; at most 10000 reports"
                )
            item = {"t": self.backend.clock(), "name": name, "value": value}
            self.reports.append(item)
            self.recorder.record(name, "event", json.dumps(value)[:200])
            return {"ok": True}, None
        if op == "open":
            return {"ok": True, "port": self._open(request)}, None
        if op == "call":
            self._check_time()
            return self._call(request)
        if op == "stop_all":
            with self._lock:
                self.backend.stop_all()
            return {"ok": True}, None
        raise ValueError(f"unknown operation {op!r}")

    def _open(self, request: dict[str, Any]) -> int:
        kind, name = request.get("kind"), request.get("name")
        if kind not in _ALLOWED or not isinstance(name, str):
            raise ValueError(f"cannot open a {kind!r}")
        if len(self._ports) >= MAX_PORTS:
            raise ValueError("too many ports")
        b = self.backend
        with self._lock:
            if kind == "motor":
                if name not in ("left", "right"):
                    raise ValueError("a motor is 'left' or 'right'")
                port: Any = b.motor(name)
            else:
                spec = self.kit.parts.get(name)
                if spec is None or _kind_of(spec) != kind:
                    raise KitError(f"the kit has no {kind} called {name!r}")
                port = getattr(b, kind)(name, spec)
            port_id = len(self._ports) + 1
            self._ports[port_id] = (kind, name, port)
        return port_id

    def _call(self, request: dict[str, Any]) -> tuple[dict[str, Any], bytes | None]:  # noqa: PLR0911
        entry = self._ports.get(request.get("port", -1))
        method, args = request.get("method"), request.get("args", [])
        if entry is None or method not in _ALLOWED[entry[0]] or not isinstance(args, list):
            raise ValueError("bad port call")
        kind, name, port = entry
        with self._lock:
            if kind == "motor":
                value = _number(args[0], -1, 1)
                if self._estopped.is_set():
                    value = 0.0
                value = max(-self.speed_cap, min(self.speed_cap, value))
                port.set(value)
                self.recorder.record(f"{name}_motor", "command", round(value, 4))
                return {"ok": True}, None
            if kind in ("led", "servo", "buzzer", "rgb_led"):
                output = _output_value(args[0] if args else None)
                getattr(port, method)(output)
                self.recorder.record(name, "command", output)
                return {"ok": True}, None
            result = getattr(port, method)()
        if kind == "camera":
            frame = np.ascontiguousarray(result, dtype=np.uint8)
            self.recorder.record(name, "reading", f"frame {frame.shape[1]}x{frame.shape[0]}")
            if self.on_frame is not None:
                self.on_frame(frame)
            return {"ok": True, "shape": list(frame.shape)}, frame.tobytes()
        if kind == "imu":
            self.recorder.record(name, "reading", round(result.heading, 2))
            return {
                "ok": True,
                "value": [result.heading, result.yaw_rate, result.pitch_rate, result.roll_rate],
            }, None
        if kind == "line":
            values = [float(v) for v in result]
            self.recorder.record(name, "reading", tuple(round(v, 3) for v in values))
            return {"ok": True, "value": values}, None
        if kind == "encoders":
            self.recorder.record(name, "reading", tuple(int(v) for v in result))
            return {"ok": True, "value": [int(v) for v in result]}, None
        self.recorder.record(
            name, "reading", result if isinstance(result, bool) else round(float(result), 4)
        )
        return {"ok": True, "value": result}, None


def _output_value(raw: Any) -> float | tuple[float, ...] | None:
    """An LED level, colour, servo angle or tone from the wire: numbers only."""
    if raw is None:
        return None
    if isinstance(raw, list):
        return tuple(_number(v, 0, 1) for v in raw[:3])
    return _number(raw, -360, 20000)


def _kind_of(spec: PartSpec) -> str:
    return {"ultrasonic": "distance", "line_sensors": "line"}.get(spec.kind, spec.kind)
