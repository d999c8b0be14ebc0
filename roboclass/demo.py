"""``roboclass demo``: the classroom on one computer.

Starts a broker on loopback (proved with a round trip): Mosquitto where it is
installed, with a generated configuration, else the embedded amqtt broker
(``--broker`` chooses). Then the teacher's console (store, signing key and JSON API in a fresh temporary
folder), a teacher account with a generated password printed once, and N
simulated robots, each a real ``roboclass agent`` process on the sim
backend, and a demo class of four students bound to the first four robots,
with an open class period, its code and the students' PINs printed, so both
sides can be tried at once. It reports ready once the console's own API lists every robot,
then opens the console's page in the browser (unless ``--no-browser``,
``--json`` or there is no display to show it on).

What the brokers say goes to log files in the demo's folder, never to the
screen: amqtt 0.12 logs tracebacks of its own races when a class connects at
once (docs/upstream/amqtt-session-race.md; the race itself is worked around in
:mod:`fleet.broker.embedded`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import subprocess
import sys
import tempfile
import time
import webbrowser
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from fleet.broker.embedded import AMQTT_LOGGERS, EmbeddedBroker
from fleet.broker.mosquitto import Mosquitto, find_mosquitto
from fleet.broker.roundtrip import roundtrip
from fleet.console.api import ApiServer
from fleet.console.cli import generate_password
from fleet.console.console import Console, ConsoleConfig
from fleet.console.fleet_cli import ApiClient
from fleet.console.store import PinKind
from fleet.core.errors import BrokerError, FleetError, PortInUseError
from fleet.core.signing import public_key_text
from fleet.core.wait import wait_for_stop
from rcbase.i18n import Lang, Text

__all__ = ["demo"]

logger = logging.getLogger(__name__)
DEFAULT_PORT = 1883
DEFAULT_HTTP_PORT = 8080
TEACHER = "teacher"
_ROBOTS_READY_S = 60.0
_ROBOT_READY_S = 3.0  # a class of 30 starts 30 processes at once on a teacher's PC
DEMO_CLASS = "demo"
DEMO_STUDENTS = ("Ana", "Bo", "Chen", "Dong")
DEMO_LESSON = "robot-dance"


BROKERS = ("auto", "mosquitto", "embedded")
Broker = EmbeddedBroker | Mosquitto


def _start_mosquitto(port: int | None, folder: Path) -> Mosquitto:
    log = folder / "mosquitto.log"
    if port is not None:
        return Mosquitto.loopback(port, log=log).start()
    try:
        return Mosquitto.loopback(DEFAULT_PORT, log=log).start()
    except PortInUseError:
        logger.info("port %d is taken (a Mosquitto service?); using a free port", DEFAULT_PORT)
        return Mosquitto.loopback(0, log=log).start()


def _start_embedded(port: int | None) -> EmbeddedBroker:
    if port is not None:
        return EmbeddedBroker(port=port).start()
    try:
        return EmbeddedBroker(port=DEFAULT_PORT).start()
    except PortInUseError:
        logger.info("port %d is taken (a Mosquitto service?); using a free port", DEFAULT_PORT)
        return EmbeddedBroker(port=0).start()


def _start_broker(kind: str, port: int | None, folder: Path) -> Broker:
    """Mosquitto where installed (``auto``) or asked for, else the embedded amqtt broker."""
    if kind != "embedded":
        try:
            find_mosquitto()
            return _start_mosquitto(port, folder)
        except PortInUseError:
            raise
        except BrokerError as exc:
            if kind == "mosquitto":
                raise
            logger.info("the demo uses the embedded broker: %s", exc)
    return _start_embedded(port)


@contextlib.contextmanager
def _broker_log(path: Path) -> Iterator[None]:
    """amqtt's loggers (and its event loop's errors) write to ``path``, not to the screen."""
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    loggers = [logging.getLogger(name) for name in AMQTT_LOGGERS]
    saved = [log.propagate for log in loggers]
    for log in loggers:
        log.addHandler(handler)
        log.propagate = False
    try:
        yield
    finally:
        for log, propagate in zip(loggers, saved, strict=True):
            log.removeHandler(handler)
            log.propagate = propagate
        handler.close()


def _start_api(console: Console, port: int | None) -> ApiServer:
    if port is not None:
        return ApiServer(console, port=port).start()
    try:
        return ApiServer(console, port=DEFAULT_HTTP_PORT).start()
    except FleetError:
        logger.info("port %d is taken; the console uses a free port", DEFAULT_HTTP_PORT)
        return ApiServer(console, port=0).start()


@contextlib.contextmanager
def _robots(n: int, broker: Broker, console: Console, folder: Path) -> Iterator[list[str]]:
    """N agent processes on the sim backend; stopped (SIGTERM, then SIGKILL) on exit."""
    key = public_key_text(console.key.public_key)
    names = [f"robot-{i + 1:02d}" for i in range(n)]
    procs: list[subprocess.Popen[bytes]] = []
    logs = []
    try:
        for name in names:
            log = (folder / f"{name}.log").open("wb")
            logs.append(log)
            command = [
                sys.executable,
                "-c",
                "from roboclass.cli import main; main()",
                "agent",
                "--device",
                name,
                "--broker",
                f"{broker.host}:{broker.port}",
                "--console-key",
                key,
                "--backend",
                "sim",
                "--state-dir",
                str(folder / name),
            ]
            procs.append(subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT))
        yield names
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                logger.warning("agent %d ignored SIGTERM; killing it", proc.pid)
                proc.kill()
                proc.wait(timeout=10)
        for log in logs:
            log.close()


def _demo_class(console: Console, robots: list[str]) -> dict[str, Any]:
    """The demo class: four students, each bound to a robot (while there are robots), a PIN
    each, and an open period on a lesson graded in the simulator."""
    students = []
    for name, robot in zip(DEMO_STUDENTS, [*robots, None, None, None, None], strict=False):
        student_id = console.db.rosters.add_student(name, DEMO_CLASS)
        if robot is not None:
            console.db.rosters.bind(robot, name, DEMO_CLASS)
        pin = f"{secrets.randbelow(10_000):04d}"
        console.db.classes.set_pin(student_id, pin, PinKind.DIGITS)
        students.append({"name": name, "pin": pin, "robot": robot})
    period = console.db.classes.start_period(
        DEMO_CLASS, TEACHER, lesson_id=DEMO_LESSON, minutes=12 * 60
    )
    return {
        "class": DEMO_CLASS,
        "code": period.code,
        "url": f"{console.config.url}/s/?code={period.code}",
        "lesson": DEMO_LESSON,
        "students": students,
    }


def _can_open_browser() -> bool:
    """A desktop to show a browser on (never a text browser in this terminal)."""
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _api_devices(url: str, password: str) -> list[dict[str, Any]]:
    """The devices the console's API lists, as a teacher sees them."""
    client = ApiClient(url)
    client.login(TEACHER, password)
    devices: list[dict[str, Any]] = client.call("GET", "/api/v1/devices")
    return devices


@click.command()
@click.option(
    "--port",
    type=int,
    default=None,
    help="Broker port on 127.0.0.1 (default: 1883, or any free port if 1883 is taken).",
)
@click.option(
    "--http-port",
    type=int,
    default=None,
    help="Console port on 127.0.0.1 (default: 8080, or any free port if 8080 is taken).",
)
@click.option(
    "--broker",
    "broker_kind",
    type=click.Choice(BROKERS),
    default="auto",
    show_default=True,
    envvar="ROBOCLASS_DEMO_BROKER",
    help="Mosquitto where it is installed (auto), or the embedded amqtt broker "
    "(the demo extra). Env: ROBOCLASS_DEMO_BROKER.",
)
@click.option("--robots", default=4, show_default=True, help="How many simulated robots to start.")
@click.option(
    "--duration", type=float, default=None, help="Stop after this many seconds (default: Ctrl+C)."
)
@click.option("--no-browser", is_flag=True, help="Do not open the console's page in a browser.")
@click.option("--json", "as_json", is_flag=True, help="Print what runs as JSON.")
@click.pass_context
def demo(
    ctx: click.Context,
    port: int | None,
    http_port: int | None,
    broker_kind: str,
    robots: int,
    duration: float | None,
    no_browser: bool,
    as_json: bool,
) -> None:
    """Start the embedded demo: broker, console and simulated robots."""
    lang: Lang = (ctx.obj or {}).get("lang", "en")
    with contextlib.ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="roboclass-demo-")))
        stack.enter_context(_broker_log(folder / "broker.log"))
        broker = _start_broker(broker_kind, port, folder)
        stack.callback(broker.close)
        kind = "mosquitto" if isinstance(broker, Mosquitto) else "embedded"
        rtt = roundtrip(broker.host, broker.port)
        console = Console(ConsoleConfig(broker.host, broker.port, folder / "console"))
        stack.callback(console.close)
        server = stack.enter_context(_start_api(console, http_port))
        console.config.url = server.url
        console.start()
        if not console.wait_connected(10):
            raise click.ClickException("the console could not reach the demo broker")
        password = generate_password()
        console.db.accounts.add_teacher(TEACHER, password)
        started = time.monotonic()
        names = stack.enter_context(_robots(robots, broker, console, folder))
        ready = console.wait_for(
            lambda: len(console.db.devices.ids(online_only=True)) >= len(names),
            max(_ROBOTS_READY_S, _ROBOT_READY_S * len(names)),
        )
        online = console.db.devices.ids(online_only=True)
        listed = _api_devices(server.url, password)
        students = _demo_class(console, sorted(online))
        report = {
            "broker": {
                "url": broker.url,
                "kind": kind,
                "roundtrip_ms": round(rtt * 1e3, 2),
                "status": "running",
            },
            "console": {
                "url": server.url,
                "status": "running",
                "teacher": {"username": TEACHER, "password": password},
                "public_key": public_key_text(console.key.public_key),
                "devices_listed": len(listed),
            },
            "students": students,
            "robots": {
                "requested": robots,
                "running": len(online),
                "ready": ready,
                "seconds_to_ready": round(time.monotonic() - started, 2),
                "devices": sorted(online),
                "logs": str(folder),
            },
        }
        if as_json:
            click.echo(json.dumps(report, ensure_ascii=False))
        else:
            click.echo(
                Text(
                    "RoboClass demo\n  broker : {url} ({kind}, round trip {ms:.1f} ms)\n"
                    "  console: {api}/  (open it in a browser and log in)\n"
                    "  teacher: {user} / password {pw}  (shown once)\n"
                    "  robots : {n} of {want} simulated robots online\n"
                    "  students: {surl}  class code {code}\n"
                    "            PINs: {pins}\n"
                    "  logs   : {logs}\n"
                    "Or from a terminal: roboclass fleet --url {api} --user {user} devices\n"
                    "Ctrl+C stops the demo.",
                    "RoboClass 演示\n  消息服务器：{url}（{kind}，往返 {ms:.1f} 毫秒）\n"
                    "  教师控制台：{api}/ （用浏览器打开并登录）\n"
                    "  教师账号：{user} / 密码 {pw}（只显示这一次）\n"
                    "  模拟机器人：{n}/{want} 台在线\n"
                    "  学生页面：{surl}  班级代码 {code}\n"
                    "            PIN：{pins}\n"
                    "  日志：{logs}\n"
                    "也可以在终端里用：roboclass fleet --url {api} --user {user} devices\n"
                    "按 Ctrl+C 停止演示。",
                ).format(
                    url=broker.url,
                    kind="Mosquitto" if kind == "mosquitto" else "amqtt",
                    ms=rtt * 1e3,
                    api=server.url,
                    user=TEACHER,
                    pw=password,
                    n=len(online),
                    want=robots,
                    surl=students["url"],
                    code=students["code"],
                    pins=", ".join(f"{s['name']} {s['pin']}" for s in students["students"]),
                    logs=folder,
                )(lang)
            )
            if not no_browser and _can_open_browser():
                webbrowser.open(server.url + "/")
        wait_for_stop(duration)
