"""``roboclass district ...``: the district service, its staff, schools and broker."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from district.errors import DistrictError
from fleet.core.brokerlink import broker_link
from fleet.core.wait import wait_for_stop

__all__ = ["district"]

STORE = click.option(
    "--store",
    "url",
    envvar="ROBOCLASS_DISTRICT_STORE",
    required=True,
    help="The district's PostgreSQL: postgresql://USER@HOST:PORT/DB (or ROBOCLASS_DISTRICT_STORE).",
)
CONFIG = click.option(
    "--config",
    "root",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="The folder `roboclass district broker-config` made.",
)


def _fail(exc: Exception) -> click.ClickException:
    return click.ClickException(str(exc))


@click.group()
def district() -> None:
    """The district: many schools on one platform."""


@district.command()
@STORE
@click.option("--broker", "broker_addr", default=None, help="The district broker, host:port.")
@click.option(
    "--broker-folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The service's folder of the district broker (DIR/service: TLS).",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Where the API listens.")
@click.option("--port", default=8090, show_default=True, help="API port (0: any free port).")
@click.option("--duration", type=float, default=None, help="Stop after this many seconds.")
@click.option("--json", "as_json", is_flag=True, help="Print the addresses as JSON.")
@click.option(
    "--key",
    "key_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The district's signing key (library, challenges); made on first start "
    "(default: district-key.pem in RoboClass's data folder).",
)
def serve(
    url: str,
    broker_addr: str | None,
    broker_folder: Path | None,
    host: str,
    port: int,
    duration: float | None,
    as_json: bool,
    key_path: Path | None,
) -> None:
    """Run the district: ingest from the schools' bridges, the store and the JSON API."""
    from district.app import make_app  # noqa: PLC0415 - FastAPI loads only here
    from district.ingest import Ingest  # noqa: PLC0415
    from district.server import DistrictServer  # noqa: PLC0415
    from district.store import DistrictStore  # noqa: PLC0415
    from district.web import mount_web  # noqa: PLC0415 - the pages, library, challenges
    from fleet.core.signing import SigningKey  # noqa: PLC0415
    from rcbase import paths  # noqa: PLC0415

    link = broker_link(broker_addr, broker_folder, "district", "district")
    try:
        store = DistrictStore(url)
    except DistrictError as exc:
        raise _fail(exc) from exc
    ingest = Ingest(DistrictStore(url), link.host, link.port, tls=link.tls)
    app = make_app(store, ingest=ingest)
    mount_web(app, SigningKey.load_or_create(key_path or paths().data / "district-key.pem"))
    server = DistrictServer(app, host=host, port=port)
    try:
        ingest.start()
        server.start()
        facts = {"api": server.url, "broker": f"{link.host}:{link.port}",
                 "staff": store.staff.any()}  # fmt: skip
        if as_json:
            click.echo(json.dumps(facts))
        else:
            click.echo(f"district API on {server.url}, broker {link.host}:{link.port}")
            if not facts["staff"]:
                click.echo("no staff account yet: run `roboclass district adduser NAME`")
        wait_for_stop(duration)
    finally:
        server.close()
        ingest.close()
        ingest.store.close()
        store.close()


@district.command()
@click.argument("username")
@STORE
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def adduser(username: str, url: str, password_stdin: bool) -> None:
    """Add (or reset) a district staff account; prints a generated password once."""
    import secrets  # noqa: PLC0415

    from district.store import DistrictStore  # noqa: PLC0415

    password = sys.stdin.readline().strip() if password_stdin else secrets.token_urlsafe(12)
    try:
        with DistrictStore(url) as store:
            revoked = store.staff.add(username, password)
    except DistrictError as exc:
        raise _fail(exc) from exc
    if password_stdin:
        click.echo(f"staff {username} saved")
    else:
        click.echo(f"staff {username}, password {password} (shown once; write it down)")
    if revoked:
        click.echo(f"{revoked} old logins of {username} ended / 已注销 {revoked} 个旧登录")


@district.command("add-school")
@click.argument("school")
@click.option("--name", required=True, help="The school's name, as staff read it.")
@click.option(
    "--key", "public_key", required=True, help="The school console's `roboclass console key`."
)
@STORE
def add_school(school: str, name: str, public_key: str, url: str) -> None:
    """Register a school with its console's public key (its signed messages are then taken)."""
    from district.store import DistrictStore  # noqa: PLC0415

    try:
        with DistrictStore(url) as store:
            found = store.schools.add(school, name, public_key)
    except DistrictError as exc:
        raise _fail(exc) from exc
    click.echo(f"school {found.id} ({found.name}), keys {', '.join(found.kids)}")


@district.command("retire-key")
@click.argument("school")
@click.argument("kid")
@STORE
def retire_key(school: str, kid: str, url: str) -> None:
    """Stop taking a school's messages signed with key KID (a console replaced or lost)."""
    from district.store import DistrictStore  # noqa: PLC0415

    try:
        with DistrictStore(url) as store:
            done = store.schools.retire_key(school, kid)
    except DistrictError as exc:
        raise _fail(exc) from exc
    if not done:
        raise click.ClickException(
            f"{school} has no key {kid} in use / {school} 没有在用的密钥 {kid}"
        )
    click.echo(f"key {kid} of {school} retired (the district reads its keys again within 30 s)")


@district.command("broker-config")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="An empty folder.",
)
@click.option("--host", "hosts", multiple=True, required=True, help="A name schools reach it by.")
@click.option("--port", default=8883, show_default=True)
@click.option("--bind", default=None, help="Listen only on this address.")
def broker_config(out: Path, hosts: tuple[str, ...], port: int, bind: str | None) -> None:
    """Make the district's broker: its CA, TLS certificates, the ACL, mosquitto.conf."""
    from district.broker import DistrictBroker, write_district_broker  # noqa: PLC0415

    try:
        layout = write_district_broker(DistrictBroker(hosts, port, bind), out)
    except DistrictError as exc:
        raise _fail(exc) from exc
    click.echo(f"district broker in {layout.root}; the service's folder: {layout.service}/")
    click.echo(f"start it: roboclass district broker-up --config {layout.root}")


@district.command("school-cert")
@click.argument("school")
@CONFIG
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True)
def school_cert_command(school: str, root: Path, out: Path) -> None:
    """A certificate for a school's bridge (give OUT to the school's `broker config`)."""
    from district.broker import school_cert  # noqa: PLC0415

    try:
        folder = school_cert(root, school, out)
    except DistrictError as exc:
        raise _fail(exc) from exc
    click.echo(f"{school}: give {folder}/ to the school for `roboclass broker config "
               f"--district-folder`; reload the district broker (SIGHUP) for the new ACL")  # fmt: skip


@district.command("revoke-school")
@click.argument("school")
@CONFIG
def revoke_school_command(school: str, root: Path) -> None:
    """Revoke a school's bridge certificate; reload the district broker afterwards."""
    from district.broker import revoke_school  # noqa: PLC0415

    try:
        revoke_school(root, school)
    except DistrictError as exc:
        raise _fail(exc) from exc
    click.echo(f"{school} revoked; reload the district broker (SIGHUP) so it reads the new lists")


@district.command("broker-up")
@CONFIG
def broker_up(root: Path) -> None:
    """Run the district's broker (Mosquitto) in the foreground until Ctrl+C.

    Mosquitto takes this process's place, so its signals are Mosquitto's: SIGHUP
    (`systemctl reload`) reads the ACL and the CRL again, SIGTERM stops it.
    As a service: `roboclass service install district-broker --config DIR`.
    """
    from district.broker import DistrictLayout  # noqa: PLC0415
    from fleet.broker.mosquitto import find_mosquitto  # noqa: PLC0415

    conf = DistrictLayout(root.resolve()).conf
    if not conf.is_file():
        raise click.ClickException(f"{conf} is missing: run `roboclass district broker-config`")
    exe = str(find_mosquitto())
    os.execv(exe, [exe, "-c", str(conf)])  # noqa: S606 - Mosquitto, no shell
