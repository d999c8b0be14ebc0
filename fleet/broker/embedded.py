"""The embedded MQTT broker for ``roboclass demo`` and the tests.

It is amqtt running in a background thread with its own event loop, bound to
the loopback interface only: a classroom uses Mosquitto (``roboclass broker
config``), never this broker::

    from fleet.broker.embedded import EmbeddedBroker

    with EmbeddedBroker() as broker:
        print(broker.url)          # mqtt://127.0.0.1:41235
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from typing import Any, Self

from fleet.core.errors import BrokerError, PortInUseError
from rcbase.closeable import Closeable

logger = logging.getLogger(__name__)

__all__ = ["AMQTT_LOGGERS", "EmbeddedBroker"]

_START_TIMEOUT_S = 10.0
_STOP_TIMEOUT_S = 5.0

# What amqtt says, and what its event loop raises (asyncio's "Unhandled exception in
# client_connected_cb"): ``roboclass demo`` sends these loggers to its log file.
_loop_errors = logging.getLogger(f"{__name__}.amqtt")
AMQTT_LOGGERS = ("amqtt", "transitions", _loop_errors.name)


class _SnapshotSubscriptions(dict[str, Any]):
    """amqtt's topic filter -> subscribers map, iterated over a copy of itself.

    amqtt 0.12.1 loops over this dict with awaits inside (retained messages for
    a new session, broadcasts), so a SUBSCRIBE from another client in between
    raises ``RuntimeError: dictionary changed size during iteration`` and drops
    that client: 30 robots connecting at once lose several connects
    (docs/upstream/amqtt-session-race.md). A copy sees the filters as they were
    when the loop began, as it would have without the interleaving.
    """

    def __iter__(self) -> Iterator[str]:
        return iter(list(super().__iter__()))

    def items(self) -> list[tuple[str, Any]]:  # type: ignore[override]
        return list(super().items())

    def keys(self) -> list[str]:  # type: ignore[override]
        return list(super().keys())

    def values(self) -> list[Any]:  # type: ignore[override]
        return list(super().values())


def _log_loop_error(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """The broker loop's errors go to a logger (never asyncio's default, on the screen)."""
    exc = context.get("exception")
    _loop_errors.error("%s", context.get("message", "error in the embedded broker"), exc_info=exc)


def _reset_clients(broker: Any) -> None:
    """Abort every client connection of an amqtt broker (its clients see the broker gone)."""
    sessions = getattr(broker, "_sessions", {})  # client id -> (session, handler)
    for _session, handler in list(sessions.values()):
        writer = getattr(getattr(handler, "writer", None), "_writer", None)
        transport = getattr(writer, "transport", None)
        if transport is not None:
            transport.abort()


def _require_loopback(host: str) -> None:
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except socket.gaierror as exc:
        raise BrokerError(f"cannot resolve broker host {host!r}: {exc}") from exc
    for address in addresses:
        if not ipaddress.ip_address(str(address).split("%")[0]).is_loopback:
            raise BrokerError(
                f"the embedded broker only listens on loopback, not {host!r} ({address}); "
                "for a classroom run Mosquitto: `roboclass broker config --out DIR`"
            )


class EmbeddedBroker(Closeable):
    """amqtt on ``host:port`` (loopback only) in a thread of its own.

    ``port=0`` picks a free port; read it back from :attr:`port` after
    :meth:`start`. The broker keeps nothing on disk.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        _require_loopback(host)
        self.host = host
        self._requested_port = port
        self._port: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stop: asyncio.Event | None = None

    @property
    def port(self) -> int:
        if self._port is None:
            raise BrokerError("the embedded broker is not running: call start() first")
        return self._port

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> Self:
        """Start the broker and return once it accepts connections."""
        if self.closed:
            raise BrokerError("this broker was closed; make a new EmbeddedBroker")
        if self._thread is not None:
            return self
        started: Future[int] = Future()
        self._thread = threading.Thread(
            target=self._run, args=(started,), name="roboclass-embedded-broker", daemon=True
        )
        self._thread.start()
        try:
            self._port = started.result(timeout=_START_TIMEOUT_S)
        except TimeoutError as exc:
            self.close()
            raise BrokerError(
                f"the embedded broker did not start within {_START_TIMEOUT_S:.0f} s"
            ) from exc
        except BrokerError:  # ours: amqtt is not installed
            self.close()
            raise
        except Exception as exc:  # amqtt wraps the OSError of a busy port in its own error
            self.close()
            cause = exc if isinstance(exc, OSError) else exc.__cause__
            if isinstance(cause, OSError):
                raise PortInUseError(
                    f"cannot listen on {self.host}:{self._requested_port}: {cause.strerror}; "
                    "is another broker running there? Try another port with --port."
                ) from exc
            raise BrokerError(f"the embedded broker failed to start: {exc}") from exc
        logger.info("embedded broker listening on %s", self.url)
        return self

    def _run(self, started: Future[int]) -> None:
        loop = asyncio.new_event_loop()
        loop.set_exception_handler(_log_loop_error)
        self._loop = loop
        try:
            loop.run_until_complete(self._serve(started))
        except BaseException as exc:  # reported to start() or logged; the thread must end cleanly
            if not started.done():
                started.set_exception(exc)
            else:
                logger.exception("embedded broker stopped with an error")
        finally:
            loop.close()

    async def _serve(self, started: Future[int]) -> None:
        try:
            from amqtt.broker import Broker  # noqa: PLC0415 - demo extra; robots never import it
        except ImportError as exc:
            raise BrokerError(
                "the embedded broker needs amqtt, in the demo extra: "
                "pip install 'roboclass[demo]' (or install Mosquitto: sudo apt install mosquitto)"
            ) from exc

        config: dict[str, Any] = {
            "listeners": {
                "default": {"type": "tcp", "bind": f"{self.host}:{self._requested_port}"}
            },
            "plugins": {
                # Loopback only, for the demo and the tests: see
                # docs/decisions/0016-amqtt-only-for-demo-and-tests.md.
                "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True},
            },
        }
        broker = Broker(config)
        broker._subscriptions = _SnapshotSubscriptions(broker._subscriptions)
        self._stop = asyncio.Event()
        await broker.start()
        server = broker._servers["default"].instance  # amqtt keeps the asyncio server here
        try:
            port = int(server.sockets[0].getsockname()[1])
            started.set_result(port)
            await self._stop.wait()
        finally:
            # amqtt 0.12's shutdown can wait forever on a client that keeps
            # sending (its reader task swallows the cancel), so the clients are
            # reset first, once nobody can connect again, and the wait is bounded.
            server.close()
            _reset_clients(broker)
            try:
                await asyncio.wait_for(broker.shutdown(), _STOP_TIMEOUT_S)
            except TimeoutError:
                logger.warning("embedded broker shutdown took over %.0f s", _STOP_TIMEOUT_S)
            _reset_clients(broker)

    def __enter__(self) -> Self:
        return self.start()

    def _close(self) -> None:
        """Stop the broker and join its thread."""
        loop, stop, thread = self._loop, self._stop, self._thread
        if loop is not None and stop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(stop.set)
            except RuntimeError:  # the loop finished between the check and the call
                logger.debug("embedded broker loop already closed")
        if thread is not None:
            thread.join(timeout=_START_TIMEOUT_S)
            if thread.is_alive():
                logger.warning(
                    "embedded broker thread did not stop within %.0f s", _START_TIMEOUT_S
                )
        logger.info("embedded broker stopped")
