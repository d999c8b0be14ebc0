"""Minimal reproduction of amqtt's session race (docs/upstream/amqtt-session-race.md).

amqtt 0.12.1, ``Broker._handle_client_session``: a new client's session loops
over ``self._subscriptions`` and awaits the retained messages of each filter;
another client's SUBSCRIBE adds a filter meanwhile, and the loop raises
``RuntimeError: dictionary changed size during iteration``. The new client's
connection is then dead (asyncio logs "Unhandled exception in
client_connected_cb"). Only amqtt and the standard library::

    python scripts/amqtt_session_race.py            # amqtt as it is: errors
    python scripts/amqtt_session_race.py --snapshot # RoboClass's work-around: none

Not run by the tests: it shows the bug to amqtt's maintainers.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import socket
import sys
from typing import Any

from amqtt.broker import Broker
from amqtt.client import MQTTClient


class SnapshotDict(dict[str, Any]):
    """What fleet.broker.embedded puts in place of ``Broker._subscriptions``."""

    def __iter__(self) -> Any:
        return iter(list(super().__iter__()))

    def items(self) -> Any:
        return list(super().items())


async def main(clients: int, stagger: float, snapshot: bool) -> int:
    errors: list[str] = []

    def on_error(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        errors.append(f"{context.get('message')}: {exc!r}")

    asyncio.get_running_loop().set_exception_handler(on_error)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    broker = Broker(
        {
            "listeners": {"default": {"type": "tcp", "bind": f"127.0.0.1:{port}"}},
            "plugins": {
                "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}
            },
        }
    )
    if snapshot:
        broker._subscriptions = SnapshotDict()
    await broker.start()
    url = f"mqtt://127.0.0.1:{port}"

    # 1. A retained message for each client: every new session awaits a publish
    #    for each filter while it iterates over the broker's filters.
    watcher = MQTTClient(client_id="watcher")
    await watcher.connect(url)
    await watcher.subscribe([("state/#", 1)])
    for i in range(clients):
        await watcher.publish(f"state/{i}", b"online", qos=1, retain=True)

    # 2. Many clients connect a few ms apart, each subscribing to a filter of its own.
    async def one(i: int) -> MQTTClient:
        await asyncio.sleep(i * stagger)  # as robots booting: a few ms apart
        client = MQTTClient(client_id=f"client-{i:03d}", config={"auto_reconnect": False})
        try:
            await asyncio.wait_for(client.connect(url), 5)
            await asyncio.wait_for(client.subscribe([(f"state/{i}", 1)]), 5)
        except Exception as exc:  # the client whose session died
            errors.append(f"client-{i:03d}: {exc!r}")
        return client

    connected = await asyncio.gather(*(one(i) for i in range(clients)))
    for client in connected:
        with contextlib.suppress(Exception):  # a dead session has nothing to close
            await asyncio.wait_for(client.disconnect(), 2)
    await watcher.disconnect()
    await broker.shutdown()
    races = sum("dictionary changed size" in e for e in errors)
    summary = f"{clients} clients, {races} sessions lost to the race, {len(errors)} errors in all"
    sys.stdout.write("".join(f"{line}\n" for line in errors) + summary + "\n")
    return 1 if races else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--stagger", type=float, default=0.005, help="seconds between connects")
    parser.add_argument("--snapshot", action="store_true", help="iterate over a copy (the fix)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.CRITICAL)
    sys.exit(asyncio.run(main(args.clients, args.stagger, args.snapshot)))
