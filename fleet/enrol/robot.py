"""The robot's side of enrolment: wait unclaimed, show the code, take the console's grant.

``roboclass agent --enrol`` (or an agent whose credential folder is empty)
calls :func:`wait_for_claim`. The robot

- makes its own key (EC P-256, ``pending.key``, mode 0600) and keeps it: the
  console gets only a signing request;
- makes a claim code and an id (``claim.json``, 0600), kept until it is
  claimed so a label stays right across reboots, and replaced after
  ``MAX_FAILURES`` wrong tries;
- serves the exchange of :mod:`fleet.enrol.protocol` on ``port`` (HTTP, JSON) and
  announces itself over mDNS (:mod:`fleet.enrol.mdns`);
- shows the code: printed, blinked and beeped (:func:`code_pattern`), and
  written as a label (``claim-label.txt``);
- writes its credentials the way ``roboclass broker config`` writes a
  robot's folder (``broker.json``, ``ID.crt``, ``ID.key``, ``ca.crt``) plus
  ``console.pub``, the console's public key, and forgets the code.

The folder and what is written in it are :mod:`fleet.enrol.folder`'s
(:class:`CredentialFolder`, :class:`Claim`, importable from here too).

::

    folder = CredentialFolder(Path("/var/lib/roboclass/agent/credentials"))
    if not folder.configured:
        wait_for_claim(folder, port=8764, on_code=print)
    creds = Credentials.load(folder.path)
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Callable, Sequence
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, Self

from fleet.core.limits import FailureLimiter
from fleet.enrol import CONSOLE_KEY_FILE, ENROL_PORT
from fleet.enrol.folder import MAX_FAILURES, Claim, CredentialFolder
from fleet.enrol.protocol import BadMessage, EnrolError, Grant, RobotExchange, WrongCode
from rcbase.closeable import Closeable
from rcbase.threads import join_thread

if TYPE_CHECKING:
    from hardware import Robot

__all__ = [
    "CONSOLE_KEY_FILE",
    "ENROL_PORT",
    "MAX_FAILURES",
    "Claim",
    "CredentialFolder",
    "EnrolServer",
    "code_pattern",
    "wait_for_claim",
]

logger = logging.getLogger(__name__)

#: Where it listens: every address, since the console reaches it over the LAN.
ANY_ADDRESS = "0.0.0.0"  # noqa: S104
#: Tries a minute from one address, and from everyone together.
PER_ADDRESS = 5
OVERALL = 20
#: How long a started exchange may wait for its grant.
SESSION_S = 60.0
_MAX_SESSIONS = 16
_MAX_BODY = 64 * 1024


def code_pattern(code: str, unit_s: float = 0.25) -> list[tuple[bool, float]]:
    """The code as (on, seconds) steps for an LED or a buzzer, e.g. ``4821-0937``.

    Each digit is that many short flashes (0 is one long flash), with a pause
    between digits, a longer one at the dash and a long one before it repeats.
    """
    steps: list[tuple[bool, float]] = [(True, 8 * unit_s), (False, 4 * unit_s)]  # "here it comes"
    for char in code:
        if char == "-":
            steps[-1] = (False, 6 * unit_s)
            continue
        digit = int(char)
        flashes = [(True, 4 * unit_s)] if digit == 0 else [(True, unit_s)] * digit
        for on in flashes:
            steps += [on, (False, unit_s)]
        steps[-1] = (False, 3 * unit_s)
    steps[-1] = (False, 10 * unit_s)
    return steps


class _Indicator(Closeable):
    """Shows the code on the robot's LED and buzzer, over and over, until closed."""

    def __init__(self, robot: Robot | None, code: str) -> None:
        parts = {} if robot is None else robot.parts
        # (on, off) of each part that can show it: an LED lights, a buzzer beeps
        self._switches: list[tuple[Callable[[], None], Callable[[], None]]] = []
        led, buzzer = parts.get("led"), parts.get("buzzer")
        if led is not None:
            self._switches.append((led.on, led.off))  # type: ignore[attr-defined]
        if buzzer is not None:
            self._switches.append((buzzer.beep, buzzer.stop))  # type: ignore[attr-defined]
        self._steps = code_pattern(code)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="enrol-indicator", daemon=True)
        if self._switches:
            self._thread.start()

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                for on, seconds in self._steps:
                    for turn_on, turn_off in self._switches:
                        turn_on() if on else turn_off()
                    if self._stop.wait(seconds):
                        break
        finally:
            for _, turn_off in self._switches:
                turn_off()

    def _close(self) -> None:
        self._stop.set()
        join_thread(self._thread, timeout=5)


class EnrolServer(Closeable):
    """The robot's enrolment endpoint (HTTP + JSON) until a console claims it.

    Every started exchange counts as a wrong try until its grant arrives:
    ``PER_ADDRESS`` a minute from one address, ``OVERALL`` a minute in all,
    then 429. :attr:`granted` is set once the credentials are written.
    """

    def __init__(
        self, folder: CredentialFolder, host: str = ANY_ADDRESS, port: int = ENROL_PORT
    ) -> None:
        self.folder = folder
        self.claim = folder.claim()
        self._csr = folder.csr(self.claim.robot_id)
        self._sessions: dict[str, tuple[RobotExchange, float]] = {}
        self._lock = threading.Lock()
        self._per_address = FailureLimiter(PER_ADDRESS, 60.0)
        self._overall = FailureLimiter(OVERALL, 60.0)
        self.granted = threading.Event()
        self.grant: Grant | None = None
        #: Called with the new code when too many wrong tries replaced it.
        self.on_new_code: Callable[[str], None] | None = None
        self._httpd = ThreadingHTTPServer((host, port), self._handler())
        self._httpd.daemon_threads = True
        self.port = int(self._httpd.server_address[1])
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="enrol-http", daemon=True
        )

    def start(self) -> Self:
        self._thread.start()
        return self

    # -- the exchange --------------------------------------------------------

    def _limited(self, address: str) -> float:
        return max(self._per_address.retry_after(address), self._overall.retry_after("all"))

    def _fail(self, address: str) -> None:
        self._per_address.failed(address)
        self._overall.failed("all")
        before = self.claim.code
        self.claim = self.folder.count_failure()
        if self.claim.code != before and self.on_new_code is not None:
            self.on_new_code(self.claim.code)

    def start_exchange(self, message: Any, address: str) -> tuple[int, dict[str, Any]]:
        wait = self._limited(address)
        if wait > 0:
            return 429, {"error": f"too many tries: wait {max(1, round(wait))} s"}
        now = time.monotonic()
        with self._lock:
            for sid in [s for s, (_, t) in self._sessions.items() if now - t > SESSION_S]:
                del self._sessions[sid]
            if len(self._sessions) >= _MAX_SESSIONS:
                return 429, {"error": "too many exchanges at once: try again in a minute"}
        self._fail(address)  # until its grant arrives, a start is a wrong try
        exchange = RobotExchange(self.claim.code, robot_id=self.claim.robot_id, csr_pem=self._csr)
        try:
            reply = exchange.start(message)
        except BadMessage as exc:
            return 400, {"error": str(exc)}
        session = str(exchange.session)  # set by start()
        with self._lock:
            if session in self._sessions:
                return 409, {"error": "this session id is in use"}
            self._sessions[session] = (exchange, now)
        return 200, reply

    def finish_exchange(self, message: Any, address: str) -> tuple[int, dict[str, Any]]:
        session = message.get("session") if isinstance(message, dict) else None
        with self._lock:
            found = self._sessions.pop(session, None) if isinstance(session, str) else None
        if found is None or time.monotonic() - found[1] > SESSION_S:
            return 404, {"error": "no such exchange (over, expired or never started)"}
        exchange = found[0]
        try:
            grant, ack = exchange.finish(message)
            self.folder.install(grant)
        except WrongCode as exc:
            return 403, {"error": str(exc)}
        except EnrolError as exc:
            return 400, {"error": str(exc)}
        self._per_address.succeeded(address)
        self.grant = grant
        self.granted.set()
        logger.info("claimed as %s in %s/%s", grant.identity, grant.site, grant.room)
        return 200, ack

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            timeout = 10
            server_version = "roboclass-enrol"
            sys_version = ""

            def log_message(self, format: str, *args: Any) -> None:
                logger.debug("%s " + format, self.client_address[0], *args)

            def _answer(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                if self.path != "/enrol/v1":
                    self._answer(404, {"error": "not found"})
                    return
                self._answer(
                    200,
                    {"v": 1, "robot": server.claim.robot_id, "claimed": server.granted.is_set()},
                )

            def do_POST(self) -> None:
                routes = {
                    "/enrol/v1/start": server.start_exchange,
                    "/enrol/v1/finish": server.finish_exchange,
                }
                route = routes.get(self.path)
                if route is None:
                    self._answer(404, {"error": "not found"})
                    return
                if server.granted.is_set():
                    self._answer(409, {"error": "this robot has been claimed"})
                    return
                try:
                    length = int(self.headers.get("Content-Length", "0"))
                except ValueError:
                    length = -1
                if not 0 < length <= _MAX_BODY:
                    self._answer(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"error": "bad body size"})
                    return
                try:
                    message = json.loads(self.rfile.read(length))
                except ValueError:
                    self._answer(400, {"error": "not JSON"})
                    return
                status, body = route(message, self.client_address[0])
                self._answer(status, body)

        return Handler

    # -- lifecycle -----------------------------------------------------------

    def _close(self) -> None:
        if self._thread.is_alive():
            self._httpd.shutdown()
            join_thread(self._thread, timeout=10)
        self._httpd.server_close()

    def __enter__(self) -> Self:
        return self.start()


def wait_for_claim(
    folder: CredentialFolder,
    *,
    host: str = ANY_ADDRESS,
    port: int = ENROL_PORT,
    robot: Robot | None = None,
    on_code: Callable[[Claim, int], None] | None = None,
    announce: bool = True,
    interfaces: Sequence[str] | None = None,
    stop: threading.Event | None = None,
) -> Grant | None:
    """Serve the enrolment until a console claims this robot; ``None`` if ``stop`` came first.

    ``on_code(claim, port)`` is told the code (again, when a new one replaces it)
    so the caller can print it. With ``announce`` the robot is announced over
    mDNS on ``interfaces`` (None: all).
    """
    stop = stop or threading.Event()
    with EnrolServer(folder, host, port) as server:
        indicator = [_Indicator(robot, server.claim.code)]

        def new_code(code: str) -> None:
            indicator[0].close()
            indicator[0] = _Indicator(robot, code)
            if on_code is not None:
                on_code(server.claim, server.port)

        server.on_new_code = new_code
        if on_code is not None:
            on_code(server.claim, server.port)
        announcement = None
        if announce:
            from fleet.enrol.mdns import Announcement  # noqa: PLC0415 - zeroconf only while unclaimed

            announcement = Announcement(
                server.claim.robot_id,
                port=server.port,
                hostname=socket.gethostname(),
                interfaces=interfaces,
            )
        try:
            while not server.granted.wait(0.2):
                if stop.is_set():
                    return None
        finally:
            indicator[0].close()
            if announcement is not None:
                announcement.close()
        return server.grant
