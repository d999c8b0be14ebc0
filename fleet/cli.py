"""``roboclass broker ...``: MQTT brokers for the classroom and the demo."""

from __future__ import annotations

import json
import signal
import threading
from types import FrameType

import click

from fleet.embedded_broker import EmbeddedBroker
from fleet.roundtrip import roundtrip

__all__ = ["broker"]


@click.group()
def broker() -> None:
    """Run an MQTT broker for a classroom or the demo."""


def wait_for_stop(seconds: float | None) -> None:
    """Block until SIGINT/SIGTERM, or until ``seconds`` have passed."""
    stop = threading.Event()

    def handler(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        stop.wait(seconds)
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


@broker.command()
@click.option(
    "--port", default=1883, show_default=True, help="TCP port on 127.0.0.1 (0: any free port)."
)
@click.option("--duration", type=float, default=None, help="Stop after this many seconds.")
@click.option("--json", "as_json", is_flag=True, help="Print the address as JSON.")
def embedded(port: int, duration: float | None, as_json: bool) -> None:
    """Run the embedded amqtt broker on 127.0.0.1 (demo and tests only)."""
    with EmbeddedBroker(port=port) as b:
        rtt = roundtrip(b.host, b.port)
        if as_json:
            click.echo(
                json.dumps(
                    {"url": b.url, "host": b.host, "port": b.port, "roundtrip_ms": rtt * 1e3}
                )
            )
        else:
            click.echo(
                f"embedded broker on {b.url} (round trip {rtt * 1e3:.1f} ms); Ctrl+C stops it"
            )
        wait_for_stop(duration)
