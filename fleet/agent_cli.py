"""``roboclass agent``: run this robot's fleet agent."""

from __future__ import annotations

import importlib
import json
import logging
import ssl
from dataclasses import dataclass
from pathlib import Path

import click

from fleet.agent import Agent, AgentConfig, JobRunner, lessons_runner
from fleet.exc import BrokerError
from fleet.signing import key_id, load_public_key
from fleet.wait import wait_for_stop
from rcbase.paths import paths

__all__ = ["BrokerLink", "agent", "broker_link", "split_broker"]

logger = logging.getLogger(__name__)


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
    from fleet.brokerconfig import Credentials  # noqa: PLC0415

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


def load_runner(spec: str) -> JobRunner:
    if spec == "lessons":
        return lessons_runner
    module_name, _, attribute = spec.partition(":")
    try:
        runner = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise click.BadParameter(f"cannot load runner {spec!r}: {exc}") from exc
    if not callable(runner):
        raise click.BadParameter(f"{spec} is not callable")
    return runner  # type: ignore[no-any-return]


@click.command()
@click.option(
    "--device",
    default=None,
    help="This robot's id (letters, digits, - _ .); default: the --broker-folder's.",
)
@click.option("--broker", "broker_addr", default=None, help="The classroom broker, host:port.")
@click.option(
    "--broker-folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="This robot's folder from `roboclass broker config` (TLS: CA, certificate, key).",
)
@click.option(
    "--console-key",
    required=True,
    help="The console's public key (64 hex digits, or a file holding them): "
    "`roboclass console key` prints it.",
)
@click.option("--console-url", default=None, help="Where the console serves bundles (http://...).")
@click.option("--site", default=None, help="Default: the --broker-folder's, else school.")
@click.option("--room", default=None, help="Default: the --broker-folder's, else room1.")
@click.option(
    "--backend", default=None, help="Robot backend: sim, gpio or bridge (default: settings)."
)
@click.option("--kit", default=None, help="Kit profile (default: settings; sim for --backend sim).")
@click.option(
    "--state-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Outbox and bundle cache (default: the data folder's agent/DEVICE).",
)
@click.option("--telemetry-hz", type=click.FloatRange(0, 5), default=1.0, show_default=True)
@click.option(
    "--runner",
    default="lessons",
    show_default=True,
    help="What runs a job: 'lessons' (the lesson runner) or module:function.",
)
@click.option("--no-robot", is_flag=True, help="Run without opening the robot (jobs get none).")
@click.option("--duration", type=float, default=None, help="Stop after this many seconds.")
@click.option("--json", "as_json", is_flag=True, help="Print the agent's start-up facts as JSON.")
def agent(
    device: str | None,
    broker_addr: str | None,
    broker_folder: Path | None,
    console_key: str,
    console_url: str | None,
    site: str | None,
    room: str | None,
    backend: str | None,
    kit: str | None,
    state_dir: Path | None,
    telemetry_hz: float,
    runner: str,
    no_robot: bool,
    duration: float | None,
    as_json: bool,
) -> None:
    """Run this robot's fleet agent (jobs, e-stop, results)."""
    link = broker_link(broker_addr, broker_folder, site, room)
    device = device or link.identity
    if device is None:
        raise click.UsageError("say which robot this is: --device NAME (or --broker-folder)")
    if link.identity is not None and device != link.identity:
        raise click.BadParameter(
            f"the broker folder holds {link.identity}'s certificate, not {device}'s",
            param_hint="--device",
        )
    host, port, site, room = link.host, link.port, link.site, link.room
    public = load_public_key(console_key)
    config = AgentConfig(
        device=device,
        host=host,
        port=port,
        state_dir=state_dir or paths().data / "agent" / device,
        trusted_keys={key_id(public): public},
        site=site,
        room=room,
        console_url=console_url,
        backend=backend or "sim",
        kit=kit,
        telemetry_hz=telemetry_hz,
        runner=load_runner(runner),
        tls=link.tls,
    )
    robot = None
    if not no_robot:
        from hardware import Robot  # noqa: PLC0415 - opened only when a robot is wanted

        if backend == "sim" or backend is None:
            robot = Robot(kit=kit or "sim", backend="sim", realtime=False)
        else:
            robot = Robot(kit=kit, backend=backend)
    try:
        with Agent(config, robot=robot) as running:
            facts = {
                "device": device,
                "session": running.session,
                "broker": f"{host}:{port}",
                "state_dir": str(config.state_dir),
                "estopped": running.estopped,
            }
            if as_json:
                click.echo(json.dumps(facts))
            else:
                click.echo(
                    f"agent {device} -> {host}:{port} (session {running.session}); Ctrl+C stops it"
                )
            wait_for_stop(duration)
    finally:
        if robot is not None:
            robot.close()
