"""``roboclass demo``: the classroom on one computer.

Starts the embedded broker on loopback (proved with a round trip), the
teacher's console (store, signing key and JSON API in a fresh temporary
folder), a teacher account with a generated password printed once, and N
simulated robots, each a real ``roboclass agent`` process on the sim
backend. It reports ready once the console's own API lists every robot,
then opens the console's page in the browser (unless ``--no-browser``,
``--json`` or there is no display to show it on).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
import webbrowser
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from fleet.broker.embedded import EmbeddedBroker
from fleet.broker.roundtrip import roundtrip
from fleet.console.api import ApiServer
from fleet.console.cli import generate_password
from fleet.console.console import Console, ConsoleConfig
from fleet.console.fleet_cli import ApiClient
from fleet.core.errors import FleetError, PortInUseError
from fleet.core.signing import public_key_text
from fleet.core.wait import wait_for_stop
from rcbase.i18n import Lang, Text

__all__ = ["demo"]

logger = logging.getLogger(__name__)
DEFAULT_PORT = 1883
DEFAULT_HTTP_PORT = 8080
TEACHER = "teacher"
_ROBOTS_READY_S = 60.0


def _start_broker(port: int | None) -> EmbeddedBroker:
    if port is not None:
        return EmbeddedBroker(port=port).start()
    try:
        return EmbeddedBroker(port=DEFAULT_PORT).start()
    except PortInUseError:
        logger.info("port %d is taken (a Mosquitto service?); using a free port", DEFAULT_PORT)
        return EmbeddedBroker(port=0).start()


def _start_api(console: Console, port: int | None) -> ApiServer:
    if port is not None:
        return ApiServer(console, port=port).start()
    try:
        return ApiServer(console, port=DEFAULT_HTTP_PORT).start()
    except FleetError:
        logger.info("port %d is taken; the console uses a free port", DEFAULT_HTTP_PORT)
        return ApiServer(console, port=0).start()


@contextlib.contextmanager
def _robots(n: int, broker: EmbeddedBroker, console: Console, folder: Path) -> Iterator[list[str]]:
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
    robots: int,
    duration: float | None,
    no_browser: bool,
    as_json: bool,
) -> None:
    """Start the embedded demo: broker, console and simulated robots."""
    lang: Lang = (ctx.obj or {}).get("lang", "en")
    with contextlib.ExitStack() as stack:
        broker = stack.enter_context(_start_broker(port))
        rtt = roundtrip(broker.host, broker.port)
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="roboclass-demo-")))
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
            lambda: len(console.db.devices.ids(online_only=True)) >= len(names), _ROBOTS_READY_S
        )
        online = console.db.devices.ids(online_only=True)
        listed = _api_devices(server.url, password)
        report = {
            "broker": {"url": broker.url, "roundtrip_ms": round(rtt * 1e3, 2), "status": "running"},
            "console": {
                "url": server.url,
                "status": "running",
                "teacher": {"username": TEACHER, "password": password},
                "public_key": public_key_text(console.key.public_key),
                "devices_listed": len(listed),
            },
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
                    "RoboClass demo\n  broker : {url} (round trip {ms:.1f} ms)\n"
                    "  console: {api}/  (open it in a browser and log in)\n"
                    "  teacher: {user} / password {pw}  (shown once)\n"
                    "  robots : {n} of {want} simulated robots online\n"
                    "Or from a terminal: roboclass fleet --url {api} --user {user} devices\n"
                    "Ctrl+C stops the demo.",
                    "RoboClass 演示\n  消息服务器：{url}（往返 {ms:.1f} 毫秒）\n"
                    "  教师控制台：{api}/ （用浏览器打开并登录）\n"
                    "  教师账号：{user} / 密码 {pw}（只显示这一次）\n"
                    "  模拟机器人：{n}/{want} 台在线\n"
                    "也可以在终端里用：roboclass fleet --url {api} --user {user} devices\n"
                    "按 Ctrl+C 停止演示。",
                ).format(
                    url=broker.url,
                    ms=rtt * 1e3,
                    api=server.url,
                    user=TEACHER,
                    pw=password,
                    n=len(online),
                    want=robots,
                )(lang)
            )
            if not no_browser and _can_open_browser():
                webbrowser.open(server.url + "/")
        wait_for_stop(duration)
