"""uvicorn serving the district's app in a thread (as the console's ``ApiServer``)."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Self

import uvicorn
from fastapi import FastAPI

from district.errors import DistrictError
from rcbase.closeable import Closeable

__all__ = ["DistrictServer"]

logger = logging.getLogger(__name__)


class DistrictServer(Closeable):
    """uvicorn serving ``app`` in a thread; ``port=0`` picks a free port; ``tls``: HTTPS."""

    def __init__(
        self,
        app: FastAPI,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        tls: tuple[Path, Path] | None = None,
    ) -> None:
        self.app = app
        self.host = host
        self.port = port
        self.tls = tls
        cert, key = (str(tls[0]), str(tls[1])) if tls else (None, None)
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level="warning",
            lifespan="off",
            ssl_certfile=cert,
            ssl_keyfile=key,
        )
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"

    def start(self, timeout: float = 10.0) -> Self:
        if self.closed:
            raise DistrictError("this server was closed; make a new one")
        if self._thread is not None:
            return self
        self._thread = threading.Thread(target=self._server.run, name="district-api", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.close()
                raise DistrictError(
                    f"the district API did not start on {self.host}:{self.port} (is the port "
                    "free?) / 区级服务没能启动：端口可能被占用"
                )
            self._thread.join(0.01)
        servers = getattr(self._server, "servers", [])
        if servers and servers[0].sockets:
            self.port = int(servers[0].sockets[0].getsockname()[1])
        logger.info("district API on %s", self.url)
        return self

    def __enter__(self) -> Self:
        return self.start()

    def _close(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
