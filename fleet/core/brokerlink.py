"""Where the classroom broker is, from a command's ``--broker`` and ``--broker-folder``.

Both the robot's ``roboclass agent`` and the ``roboclass console`` commands
take these options; this is what they make of them.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

import click

from fleet.core.errors import BrokerError

__all__ = ["BrokerLink", "broker_link", "split_broker"]


@dataclass(frozen=True)
class BrokerLink:
    """Where the classroom broker is, and the TLS to reach it (None: plain MQTT)."""

    host: str
    port: int
    site: str
    room: str
    tls: ssl.SSLContext | None = None
    identity: str | None = None  # whose certificate the folder holds


def broker_link(
    address: str | None, folder: Path | None, site: str | None, room: str | None
) -> BrokerLink:
    """The broker from ``--broker host:port`` or ``--broker-folder`` (the folder wins for TLS)."""
    if folder is None:
        if address is None:
            raise click.UsageError("say where the broker is: --broker HOST:PORT or --broker-folder")
        host, port = split_broker(address)
        return BrokerLink(host, port, site or "school", room or "room1")
    # Only a classroom broker needs the certificates' code (x509): not on every start.
    from fleet.core.credentials import Credentials  # noqa: PLC0415

    try:
        creds = Credentials.load(folder)
        tls = creds.tls_context()
    except (BrokerError, OSError, ssl.SSLError) as exc:
        raise click.BadParameter(str(exc), param_hint="--broker-folder") from exc
    host, port = split_broker(address) if address else (creds.host, creds.port)
    return BrokerLink(host, port, site or creds.site, room or creds.room, tls, creds.identity)


def split_broker(text: str) -> tuple[str, int]:
    """``host:port`` (or ``mqtt://host:port``) -> (host, port)."""
    value = text.removeprefix("mqtt://")
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit():
        raise click.BadParameter(f"{text!r} is not host:port (e.g. 192.168.1.10:1883)")
    return host, int(port)
