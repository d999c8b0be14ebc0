"""The wire between a robot's server and its client: length-prefixed JSON messages.

Each message is a 4-byte little-endian length, then that many bytes (JSON,
never pickle: the client is not trusted; a camera frame follows its reply
as one raw binary message). :class:`Connection` is used on both sides:
:mod:`hardware.remote_server` in the trusted process,
:mod:`hardware.remote` in the student's.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
from typing import Any

from hardware.errors import BackendError, HardwareError

__all__ = ["MAX_MESSAGE", "Connection", "TimeUp"]

MAX_MESSAGE = 64 * 1024 * 1024  # a 4K camera frame fits
_HEADER = struct.Struct("<I")


class TimeUp(HardwareError):
    """The lesson's time is over (raised in the student's process as a ``BaseException`` wrapper)."""


class Connection:
    """Length-prefixed messages over a stream socket, one request at a time."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._lock = threading.Lock()

    def send(self, data: bytes) -> None:
        self.sock.sendall(_HEADER.pack(len(data)) + data)

    def recv(self) -> bytes:
        head = self._exactly(_HEADER.size)
        (size,) = _HEADER.unpack(head)
        if size > MAX_MESSAGE:
            raise BackendError(f"message of {size} bytes is too large")
        return self._exactly(size)

    def _exactly(self, n: int) -> bytes:
        chunks, got = [], 0
        while got < n:
            chunk = self.sock.recv(min(n - got, 1 << 20))
            if not chunk:
                raise EOFError("the other side closed the robot connection")
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)

    def request(self, message: dict[str, Any]) -> tuple[dict[str, Any], bytes | None]:
        with self._lock:
            self.send(json.dumps(message).encode())
            reply = json.loads(self.recv())
            blob = self.recv() if reply.get("blob") else None
        return reply, blob

    def close(self) -> None:
        self.sock.close()
