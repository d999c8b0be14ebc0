"""A robot owned by a trusted process and driven from another one.

The lesson runner keeps the robot (the simulator, or the real pins) in its
own, trusted process and runs the student's code in a child. The child's
``Robot(backend="remote")`` sends every port call over a socket to the
:class:`RobotServer`, which checks it, applies the speed cap and the e-stop
latch, records it as trusted telemetry, and performs it. So the student's
process can neither skip the e-stop nor fake what the robot did.

Messages are length-prefixed JSON (never pickle: the child is not trusted);
a camera frame follows its reply as one raw binary message. This module is
the student's side (:class:`RemoteBackend`); the server is
:mod:`hardware.remote_server` and the wire :mod:`hardware.remote_wire`, both
importable from here as before.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from hardware.errors import BackendError, KitError, SensorError
from hardware.kit import CameraSpec, KitProfile, PartSpec
from hardware.ports import ImuReading
from hardware.remote_server import RobotServer
from hardware.remote_wire import Connection, TimeUp

__all__ = [
    "Connection",
    "RemoteBackend",
    "RobotServer",
    "TimeUp",
    "connection_clock",
    "connection_from_env",
    "send_report",
]

logger = logging.getLogger(__name__)

_shared: Connection | None = None


def connection_from_env() -> Connection:
    """The connection the lesson runner handed this process (``ROBOCLASS_REMOTE_FD``)."""
    global _shared  # noqa: PLW0603 - one connection per student process
    if _shared is None:
        fd = os.environ.get("ROBOCLASS_REMOTE_FD")
        if not fd:
            raise BackendError("the remote backend only works inside the lesson runner")
        _shared = Connection(socket.socket(fileno=int(fd)))
    return _shared


def _checked(reply: dict[str, Any]) -> dict[str, Any]:
    if reply.get("ok"):
        return reply
    kind, error = reply.get("type"), str(reply.get("error", "robot error"))
    if kind == "TimeUp":
        from hardware.simtime import SimTimeUp  # noqa: PLC0415

        raise SimTimeUp(error)
    if kind == "SensorError":
        raise SensorError(error)
    raise BackendError(error)


def connection_clock() -> tuple[Callable[[], float], Callable[[float], None]]:
    """The served robot's clock and sleep, for :mod:`hardware.simtime` in the student's process."""
    conn = connection_from_env()

    def read() -> float:
        return float(_checked(conn.request({"op": "clock"})[0])["value"])

    def sleep(seconds: float) -> None:
        _checked(conn.request({"op": "sleep", "seconds": float(seconds)})[0])

    return read, sleep


def send_report(name: str, value: Any) -> None:
    """Send a student's report to the lesson runner (see :func:`lessons.report`)."""
    _checked(connection_from_env().request({"op": "report", "name": name, "value": value})[0])


class _RemotePort:
    def __init__(self, conn: Connection, port_id: int) -> None:
        self._conn, self._id = conn, port_id

    def _call(self, method: str, *args: Any) -> dict[str, Any]:
        reply, _ = self._conn.request(
            {"op": "call", "port": self._id, "method": method, "args": list(args)}
        )
        return _checked(reply)

    def set(self, value: Any) -> None:
        self._call("set", list(value) if isinstance(value, tuple) else value)

    def set_angle(self, degrees: float | None) -> None:
        self._call("set_angle", degrees)

    def tone(self, hertz: float | None) -> None:
        self._call("tone", hertz)

    def read(self) -> Any:
        return self._call("read")["value"]

    def is_pressed(self) -> bool:
        return bool(self._call("is_pressed")["value"])

    def close(self) -> None:
        """The server owns the part; nothing to release here."""


class _RemoteLine(_RemotePort):
    def read(self) -> npt.NDArray[np.float64]:
        return np.asarray(self._call("read")["value"], dtype=np.float64)


class _RemoteEncoders(_RemotePort):
    def read(self) -> tuple[int, int]:
        left, right = self._call("read")["value"]
        return (int(left), int(right))


class _RemoteImu(_RemotePort):
    def read(self) -> ImuReading:
        heading, yaw, pitch, roll = self._call("read")["value"]
        return ImuReading(heading, yaw, pitch, roll)


class _RemoteCamera(_RemotePort):
    def read(self) -> npt.NDArray[np.uint8]:
        reply, blob = self._conn.request(
            {"op": "call", "port": self._id, "method": "read", "args": []}
        )
        shape = _checked(reply)["shape"]
        if blob is None:
            raise SensorError("the camera sent no picture")
        return np.frombuffer(blob, dtype=np.uint8).reshape(shape).copy()


class RemoteBackend:
    """The student's side: every port call goes to the :class:`RobotServer`."""

    name = "remote"

    def __init__(self, kit: KitProfile, connection: Connection | None = None) -> None:
        self._conn = connection or connection_from_env()
        hello = _checked(self._conn.request({"op": "hello"})[0])
        served = KitProfile.model_validate(hello["kit"])
        if served.name != kit.name:
            raise KitError(f"the robot here is a {served.name!r}, not a {kit.name!r}: use Robot()")
        self.kit = served
        from hardware import simtime  # noqa: PLC0415

        sim_time = simtime.active()
        if sim_time is not None:
            sim_time.attach(self.clock, self.sleep)

    def clock(self) -> float:
        return float(_checked(self._conn.request({"op": "clock"})[0])["value"])

    def sleep(self, seconds: float) -> None:
        _checked(self._conn.request({"op": "sleep", "seconds": float(seconds)})[0])

    def _open(
        self, kind: str, name: str, cls: Callable[[Connection, int], Any] = _RemotePort
    ) -> Any:
        reply = _checked(self._conn.request({"op": "open", "kind": kind, "name": name})[0])
        return cls(self._conn, int(reply["port"]))

    def motor(self, side: str) -> Any:
        return self._open("motor", side)

    def servo(self, name: str, spec: PartSpec) -> Any:
        return self._open("servo", name)

    def distance(self, name: str, spec: PartSpec) -> Any:
        return self._open("distance", name)

    def line(self, name: str, spec: PartSpec) -> Any:
        return self._open("line", name, _RemoteLine)

    def encoders(self, name: str, spec: PartSpec) -> Any:
        return self._open("encoders", name, _RemoteEncoders)

    def imu(self, name: str, spec: PartSpec) -> Any:
        return self._open("imu", name, _RemoteImu)

    def button(self, name: str, spec: PartSpec) -> Any:
        return self._open("button", name)

    def led(self, name: str, spec: PartSpec) -> Any:
        return self._open("led", name)

    def rgb_led(self, name: str, spec: PartSpec) -> Any:
        return self._open("rgb_led", name)

    def buzzer(self, name: str, spec: PartSpec) -> Any:
        return self._open("buzzer", name)

    def battery(self, name: str, spec: PartSpec) -> Any:
        return self._open("battery", name)

    def camera(self, name: str, spec: CameraSpec) -> Any:
        return self._open("camera", name, _RemoteCamera)

    def stop_all(self) -> None:
        try:
            _checked(self._conn.request({"op": "stop_all"})[0])
        except (OSError, EOFError):
            logger.debug("robot server already gone")

    def close(self) -> None:
        self.stop_all()
