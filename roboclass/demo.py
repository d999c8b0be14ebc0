"""``roboclass demo``: the classroom on one computer.

Starts the embedded broker on loopback, proves it works with a round trip,
and says what else runs. The console and the simulated robots join here as
the fleet and simulator land (see docs/architecture.md, "Demo").
"""

from __future__ import annotations

import json
import logging

import click

from fleet.cli import wait_for_stop
from fleet.embedded_broker import EmbeddedBroker
from fleet.exc import PortInUseError
from fleet.roundtrip import roundtrip
from rcbase.i18n import Lang, Text

__all__ = ["demo"]

logger = logging.getLogger(__name__)
DEFAULT_PORT = 1883

_NOT_YET = Text("not part of this release yet", "本版本尚未包含")


def _start_broker(port: int | None) -> EmbeddedBroker:
    if port is not None:
        return EmbeddedBroker(port=port).start()
    try:
        return EmbeddedBroker(port=DEFAULT_PORT).start()
    except PortInUseError:
        logger.info("port %d is taken (a Mosquitto service?); using a free port", DEFAULT_PORT)
        return EmbeddedBroker(port=0).start()


@click.command()
@click.option(
    "--port",
    type=int,
    default=None,
    help="Broker port on 127.0.0.1 (default: 1883, or any free port if 1883 is taken).",
)
@click.option("--robots", default=4, show_default=True, help="How many simulated robots to start.")
@click.option(
    "--duration", type=float, default=None, help="Stop after this many seconds (default: Ctrl+C)."
)
@click.option("--json", "as_json", is_flag=True, help="Print what runs as JSON.")
@click.pass_context
def demo(
    ctx: click.Context, port: int | None, robots: int, duration: float | None, as_json: bool
) -> None:
    """Start the embedded demo: broker, console and simulated robots."""
    lang: Lang = (ctx.obj or {}).get("lang", "en")
    with _start_broker(port) as broker:
        rtt = roundtrip(broker.host, broker.port)
        report = {
            "broker": {"url": broker.url, "roundtrip_ms": round(rtt * 1e3, 2), "status": "running"},
            "console": {"status": "absent", "note": _NOT_YET(lang)},
            "robots": {"requested": robots, "running": 0, "note": _NOT_YET(lang)},
        }
        if as_json:
            click.echo(json.dumps(report, ensure_ascii=False))
        else:
            click.echo(
                Text(
                    "RoboClass demo\n  broker : {url} (round trip {ms:.1f} ms)\n"
                    "  console: {note}\n  robots : {note}\nCtrl+C stops the demo.",
                    "RoboClass 演示\n  消息服务器：{url}（往返 {ms:.1f} 毫秒）\n"
                    "  教师控制台：{note}\n  模拟机器人：{note}\n按 Ctrl+C 停止演示。",
                ).format(url=broker.url, ms=rtt * 1e3, note=_NOT_YET(lang))(lang)
            )
        wait_for_stop(duration)
