"""Run a Mosquitto broker as a child process and know when it is ready.

Used by the tests and benchmarks now, and by ``roboclass broker up`` for a
classroom::

    from fleet.broker.mosquitto import Mosquitto

    with Mosquitto.loopback() as broker:
        print(broker.port)
"""

from __future__ import annotations

import logging
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Self

from fleet.core.errors import BrokerError, PortInUseError
from rcbase.closeable import Closeable

logger = logging.getLogger(__name__)

__all__ = ["Mosquitto", "find_mosquitto"]

_READY_TIMEOUT_S = 10.0


def find_mosquitto() -> Path:
    """Path of the mosquitto program, or a :class:`BrokerError` that says how to install it."""
    found = shutil.which("mosquitto") or shutil.which("mosquitto", path="/usr/sbin:/usr/local/sbin")
    if found is None:
        raise BrokerError("mosquitto is not installed: sudo apt install mosquitto")
    return Path(found)


def _free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _port_taken(host: str, port: int) -> bool:
    """Whether another program listens on ``host:port`` (bound as Mosquitto binds)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return True
    return False


def _in_use(host: str, port: int) -> PortInUseError:
    return PortInUseError(
        f"cannot listen on {host}:{port}: another program (a broker?) listens there; "
        "try another port"
    )


class Mosquitto(Closeable):
    """A Mosquitto process started from a configuration file.

    :meth:`start` returns once the broker accepts TCP connections on
    ``host:port``, or raises with what Mosquitto said. What Mosquitto says on
    stderr goes to ``log`` (a file; by default one in a temporary folder),
    never to a pipe that nobody reads once it runs.
    """

    def __init__(
        self, config: Path, host: str, port: int, exe: Path | None = None, log: Path | None = None
    ) -> None:
        self.config = config
        self.host = host
        self.port = port
        self.exe = exe or find_mosquitto()
        self._proc: subprocess.Popen[bytes] | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._log = log

    @classmethod
    def loopback(cls, port: int = 0, extra_config: str = "", log: Path | None = None) -> Mosquitto:
        """An anonymous, non-persistent broker on 127.0.0.1 for the demo, tests and benchmarks.

        ``port=0`` picks a free port. Mosquitto's own log goes to ``log``.
        """
        port = port or _free_port("127.0.0.1")
        tmp = tempfile.TemporaryDirectory(prefix="roboclass-mosquitto-")
        config = Path(tmp.name) / "mosquitto.conf"
        config.write_text(
            f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
            # as the classroom's config (fleet.broker.config): no Nagle delay on small packets
            f"set_tcp_nodelay true\nlog_dest stderr\n{extra_config}",
            encoding="utf-8",
        )
        broker = cls(config, "127.0.0.1", port, log=log or Path(tmp.name) / "mosquitto.log")
        broker._tmp = tmp
        return broker

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    @property
    def log(self) -> Path | None:
        """The file Mosquitto's stderr goes to (``None``: a temporary one, or nowhere yet)."""
        return self._log

    def _said(self) -> str:
        """The last of what Mosquitto wrote to its log."""
        if self._log is None or not self._log.is_file():
            return ""
        return self._log.read_bytes()[-2000:].decode(errors="replace").strip()[-500:]

    def start(self) -> Self:
        if self.closed:
            raise BrokerError("this Mosquitto was closed; make a new one")
        if self._proc is not None:
            return self
        if _port_taken(self.host, self.port):  # else the readiness check below meets it
            raise _in_use(self.host, self.port)
        if self._log is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="roboclass-mosquitto-")
            self._log = Path(self._tmp.name) / "mosquitto.log"
        with self._log.open("ab") as log:
            self._proc = subprocess.Popen(
                [str(self.exe), "-c", str(self.config)], stdout=subprocess.DEVNULL, stderr=log
            )
        deadline = time.monotonic() + _READY_TIMEOUT_S
        while True:
            try:
                with socket.create_connection((self.host, self.port), timeout=0.2):
                    break
            except OSError:
                pass
            try:
                self._proc.wait(timeout=0.02)
            except subprocess.TimeoutExpired:
                if time.monotonic() < deadline:
                    continue
                self.close()
                raise BrokerError(
                    f"mosquitto did not listen on {self.host}:{self.port} within {_READY_TIMEOUT_S:.0f} s"
                ) from None
            code = self._proc.returncode
            said = self._said()
            self.close()
            if "Address already in use" in said:
                raise _in_use(self.host, self.port)
            raise BrokerError(f"mosquitto exited with status {code}: {said}")
        logger.info("mosquitto listening on %s (pid %d)", self.url, self._proc.pid)
        return self

    def kill(self) -> None:
        """Kill the broker at once (SIGKILL), as a crash or a power cut would; then close.

        Nothing is said to the clients: they find out when their sockets fail.
        """
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        self.close()

    def __enter__(self) -> Self:
        return self.start()

    def _close(self) -> None:
        """Stop the broker (SIGTERM, then SIGKILL after 10 s)."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                logger.warning("mosquitto ignored SIGTERM; killing it")
                proc.kill()
                proc.wait(timeout=10)
        if self._tmp is not None:
            self._tmp.cleanup()
