"""``roboclass broker ...``: MQTT brokers for the classroom and the demo."""

from __future__ import annotations

import ipaddress
import json
import os
import signal
import socket
import subprocess
import threading
from pathlib import Path
from types import FrameType

import click

from fleet.broker.config import (
    BrokerSettings,
    Layout,
    acl_signature,
    add_device,
    load_settings,
    revoke_device,
    valid_host,
    write_classroom,
)
from fleet.broker.embedded import EmbeddedBroker
from fleet.broker.mosquitto import find_mosquitto
from fleet.broker.roundtrip import roundtrip
from fleet.core.errors import BrokerError
from fleet.core.wait import wait_for_stop

__all__ = ["broker"]


@click.group()
def broker() -> None:
    """Run an MQTT broker for a classroom or the demo."""


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


def default_hosts() -> list[str]:
    """This computer's names and addresses as robots may reach it, loopback included."""
    hosts: list[str] = []
    name = socket.gethostname()
    if name:
        hosts.append(name)
        if "." not in name:
            hosts.append(f"{name}.local")  # mDNS (avahi) name
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("10.255.255.255", 9))  # sends nothing: only picks the outgoing interface
            address = str(s.getsockname()[0])
        if not ipaddress.ip_address(address).is_loopback:
            hosts.append(address)
    except OSError:
        pass  # no network: loopback only
    hosts += ["localhost", "127.0.0.1"]
    return [h for h in dict.fromkeys(hosts) if valid_host(h)]


_RELOAD = (
    "(`roboclass broker up` does it within a second; else `systemctl reload roboclass-broker`)"
)


def _fail(exc: BrokerError) -> click.ClickException:
    return click.ClickException(str(exc))


@broker.command("config")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="An empty folder for the configuration, certificates and keys.",
)
@click.option("--site", default="school", show_default=True)
@click.option("--room", default="room1", show_default=True)
@click.option(
    "--host",
    "hosts",
    multiple=True,
    help="A name or IP address robots use to reach this broker (repeat; default: this computer's).",
)
@click.option("--devices", default="", help="Robots to make credentials for: robot-01,robot-02,...")
@click.option("--port", default=8883, show_default=True, help="The TLS port.")
@click.option("--bind", default=None, help="Listen only on this address (default: every one).")
@click.option("--max-connections", default=200, show_default=True)
@click.option("--school", default=None, help="This school's id at its district (the bridge).")
@click.option(
    "--district-host", default=None, help="The district's broker: bridge this school to it."
)
@click.option("--district-port", default=None, type=int, help="The district broker's TLS port.")
@click.option(
    "--district-folder",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=None,
    help="What `roboclass district school-cert SCHOOL` made: the school's certificate for the "
    "bridge (its district.json gives --school, --district-host and --district-port).",
)
@click.option("--json", "as_json", is_flag=True, help="Print what was made as JSON.")
def config(
    out: Path,
    site: str,
    room: str,
    hosts: tuple[str, ...],
    devices: str,
    port: int,
    bind: str | None,
    max_connections: int,
    school: str | None,
    district_host: str | None,
    district_port: int | None,
    district_folder: Path | None,
    as_json: bool,
) -> None:
    """Make a classroom broker: a local CA, TLS and client certificates, an ACL.

    Robots get a certificate each (its name is the robot id); the console gets
    one too and keeps the CA key. Copy each devices/ROBOT folder to its robot.
    With --district-folder (or --district-host and --school) it also bridges
    this school's district topics to the district's broker.
    """
    school, district_host, district_port = _district_defaults(
        district_folder, school, district_host, district_port
    )
    try:
        settings = BrokerSettings(
            site=site,
            room=room,
            hosts=hosts or tuple(default_hosts()),
            devices=tuple(d.strip() for d in devices.split(",") if d.strip()),
            port=port,
            bind=bind,
            max_connections=max_connections,
            school=school,
            district_host=district_host,
            district_port=district_port,
        )
        layout = write_classroom(settings, out, district_folder=district_folder)
    except BrokerError as exc:
        raise _fail(exc) from exc
    if as_json:
        report = {
            "config": str(layout.conf),
            "hosts": list(settings.hosts),
            "port": settings.port,
            "console": str(layout.console),
            "console_identity": settings.console_identity,
            "devices": {d: str(layout.device_dir(d)) for d in settings.devices},
        }
        click.echo(json.dumps(report))
        return
    click.echo(f"classroom broker for {settings.topics.base} in {layout.root}")
    click.echo(f"  TLS on port {settings.port} for {', '.join(settings.hosts)}")
    click.echo(f"  console identity and the CA key (keep private): {layout.console}/")
    for device in settings.devices:
        click.echo(f"  {device}: copy {layout.device_dir(device)}/ to the robot")
    if settings.district_host is not None:
        click.echo(
            f"  bridged to the district {settings.district_host}:{settings.district_port} "
            f"as school {settings.school}"
        )
    click.echo(f"start it: roboclass broker up --config {layout.root}")


def _district_defaults(
    folder: Path | None, school: str | None, host: str | None, port: int | None
) -> tuple[str | None, str | None, int]:
    """--school, --district-host, --district-port: as given, else from the folder's district.json."""
    info: dict[str, object] = {}
    if folder is not None and (folder / "district.json").is_file():
        try:
            info = json.loads((folder / "district.json").read_text(encoding="utf-8"))
        except ValueError as exc:
            raise click.ClickException(f"{folder}/district.json is not valid JSON: {exc}") from exc
    school = school or (str(info["school"]) if "school" in info else None)
    host = host or (str(info["host"]) if "host" in info else None)
    given = port if port is not None else info.get("port", 8883)
    return school, host, int(given) if isinstance(given, int | str) else 8883


#: How often ``broker up`` looks at the ACL and the revocation list.
WATCH_S = 0.5


def _mark_reloaded(layout: Layout, signature: str) -> None:
    tmp = layout.reloaded.with_suffix(".tmp")
    tmp.write_text(signature + "\n", encoding="utf-8")
    tmp.replace(layout.reloaded)


def _reload_on_change(layout: Layout, proc: subprocess.Popen[bytes], stop: threading.Event) -> None:
    """Send Mosquitto SIGHUP whenever the ACL or the CRL changes; then say so in ``reloaded``.

    The console enrols and revokes robots by rewriting both files (it runs
    as another service): this is how the broker hears of it, within a second.
    """
    seen = acl_signature(layout)
    _mark_reloaded(layout, seen)
    while not stop.wait(WATCH_S):
        now = acl_signature(layout)
        if now != seen and proc.poll() is None:
            proc.send_signal(signal.SIGHUP)
            seen = now
            stop.wait(0.1)  # Mosquitto reads the files between two network loops
            _mark_reloaded(layout, now)


@broker.command("up")
@click.option(
    "--config",
    "root",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="The folder `roboclass broker config` made.",
)
@click.option("--unit", is_flag=True, hidden=True)
def up(root: Path, unit: bool) -> None:
    """Run the classroom broker (Mosquitto) in the foreground until Ctrl+C.

    It reloads Mosquitto (SIGHUP) by itself when the ACL or the revocation
    list changes, e.g. when the console enrols or revokes a robot. As a
    service: `roboclass service install broker --config DIR`.
    """
    if unit:
        raise click.UsageError(
            f"the unit comes from `roboclass service install broker --config {root}` "
            "(add --dry-run to print it)"
        )
    try:
        settings, layout = load_settings(root)
        exe = find_mosquitto()
    except BrokerError as exc:
        raise _fail(exc) from exc
    closed = [p for p in (layout.root, *layout.root.parents) if not p.stat().st_mode & 0o001]
    if os.geteuid() == 0 and closed:
        raise click.ClickException(
            f"Mosquitto drops root's rights and then cannot enter {closed[0]} (mode "
            f"{closed[0].stat().st_mode & 0o777:o}): keep the classroom under /srv or /etc, "
            f"or `chmod o+x {closed[0]}` / Mosquitto 放弃 root 权限后进不了 {closed[0]}："
            "把教室配置放在 /srv 或 /etc 下"
        )
    where = settings.bind or "every address"
    click.echo(f"mosquitto on {where}, TLS port {settings.port}; Ctrl+C stops it", err=True)
    proc = subprocess.Popen([str(exe), "-c", str(layout.conf)])

    def forward(signum: int, _frame: FrameType | None) -> None:
        proc.send_signal(signum)

    previous = {
        s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    }
    stop = threading.Event()
    watcher = threading.Thread(
        target=_reload_on_change, args=(layout, proc, stop), name="broker-watch", daemon=True
    )
    watcher.start()
    try:
        code = proc.wait()
    finally:
        stop.set()
        watcher.join(timeout=5)
        for s, h in previous.items():
            signal.signal(s, h)
    if code != 0:
        raise click.ClickException(f"mosquitto stopped with status {code} (its messages are above)")


@broker.command("add-device")
@click.option("--config", "root", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.argument("device")
def add_device_command(root: Path, device: str) -> None:
    """Make credentials for one more robot (needs the CA key)."""
    try:
        folder = add_device(root, device)
    except BrokerError as exc:
        raise _fail(exc) from exc
    click.echo(f"{device}: copy {folder}/ to the robot")
    click.echo(f"then reload the broker so it reads the new ACL {_RELOAD}")


@broker.command("revoke")
@click.option("--config", "root", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.argument("device")
def revoke(root: Path, device: str) -> None:
    """Revoke a robot's certificate and rights; reload the broker afterwards."""
    try:
        revoke_device(root, device)
    except BrokerError as exc:
        raise _fail(exc) from exc
    click.echo(f"{device} is revoked; reload the broker so it reads the new lists {_RELOAD}")
