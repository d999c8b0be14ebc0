"""uvicorn serving the console's app in a thread."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Self

import uvicorn

from fleet.console.api.app import create_app
from fleet.console.console import Console
from fleet.core.errors import FleetError
from rcbase.closeable import Closeable

__all__ = ["ApiServer"]

logger = logging.getLogger(__name__)


class ApiServer(Closeable):
    """uvicorn serving :func:`create_app` in a thread; ``port=0`` picks a free port.

    ``tls=(certificate, key)`` (PEM files) serves HTTPS: the login cookie is
    then ``Secure`` and nothing crosses the LAN in clear.
    """

    def __init__(
        self,
        console: Console,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        tls: tuple[Path, Path] | None = None,
    ) -> None:
        self.console = console
        self.host = host
        self.tls = tls
        self.app = create_app(console)
        cert, key = (str(tls[0]), str(tls[1])) if tls else (None, None)
        config = uvicorn.Config(
            self.app,
            host=host,
            port=port,
            log_level="warning",
            lifespan="off",
            ssl_certfile=cert,
            ssl_keyfile=key,
        )
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None
        self.port = port

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"

    @property
    def setup_code(self) -> str:
        """The one-time code the first-run set-up page asks for (print it on the console's screen)."""
        return str(self.app.state.setup_code)

    def start(self, timeout: float = 10.0) -> Self:
        if self.closed:
            raise FleetError("this API server was closed; make a new one")
        if self._thread is not None:
            return self
        self._thread = threading.Thread(target=self._server.run, name="console-api", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.close()
                raise FleetError(f"the console API did not start on {self.host}:{self.port}")
            self._thread.join(0.01)
        servers = getattr(self._server, "servers", [])
        if servers and servers[0].sockets:
            self.port = int(servers[0].sockets[0].getsockname()[1])
        logger.info("console API on %s", self.url)
        return self

    def __enter__(self) -> Self:
        return self.start()

    def _close(self) -> None:
        self.app.state.closing.set()
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        runs = getattr(self.app.state, "simruns", None)
        if runs is not None:  # students' simulator runs end with the console's web side
            runs.close()
