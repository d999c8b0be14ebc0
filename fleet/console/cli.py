"""``roboclass console ...``: the teacher's console service and its accounts."""

from __future__ import annotations

import json
import logging
import secrets
import socket
import sys
import urllib.parse
from pathlib import Path

import click

from fleet.console.store import Database
from fleet.core.brokerlink import BrokerLink, broker_link
from fleet.core.signing import SigningKey, public_key_text
from fleet.core.wait import wait_for_stop
from fleet.enrol.console import classroom_root
from rcbase.files import PRIVATE, write_atomic
from rcbase.paths import paths

__all__ = ["advertised_url", "console", "generate_password"]

logger = logging.getLogger(__name__)

#: Listen on every address: robots and the teachers' browsers reach the console over the LAN.
ANY_ADDRESS = "0.0.0.0"  # noqa: S104
WILDCARDS = frozenset({"0.0.0.0", "::", ""})  # noqa: S104
#: The console's job-signing key, in its data folder and in a classroom's console/ folder.
SIGNING_KEY_FILE = "signing-key.pem"

DATA_DIR = click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Database, signing key and bundles (default: the data folder's console/).",
)


def _data_dir(value: Path | None) -> Path:
    return value or paths().data / "console"


def generate_password() -> str:
    """A password to read aloud: four groups of four letters and digits."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(4))


@click.group()
def console() -> None:
    """The teacher's console service and its teacher accounts."""


@console.command()
@click.option(
    "--broker",
    "broker_addr",
    default=None,
    help="The classroom broker, host:port (default: start the embedded one on 127.0.0.1).",
)
@click.option(
    "--broker-folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The console's folder from `roboclass broker config` (TLS to the classroom broker).",
)
@click.option(
    "--host",
    default=None,
    help="Where the API listens (default: every address with --broker-folder, "
    "for the robots and browsers of the room; else 127.0.0.1).",
)
@click.option("--port", default=8080, show_default=True, help="API port (0: any free port).")
@click.option(
    "--public-url",
    default=None,
    help="The API's address as robots reach it (default: the broker folder's first host "
    "name, where robots already reach the hub).",
)
@click.option("--site", default=None, help="Default: the --broker-folder's, else school.")
@click.option("--room", default=None, help="Default: the --broker-folder's, else room1.")
@DATA_DIR
@click.option(
    "--session-hours",
    type=click.FloatRange(min=0.01),
    default=12.0,
    show_default=True,
    help="How long a teacher's login in the browser lasts.",
)
@click.option(
    "--mdns-interface",
    "mdns_interfaces",
    multiple=True,
    help="Look for unclaimed robots only on this address (repeat; default: every interface).",
)
@click.option("--no-mdns", is_flag=True, help="Do not look for unclaimed robots over mDNS.")
@click.option(
    "--tls",
    "use_tls",
    is_flag=True,
    help="Serve the pages over HTTPS with a certificate from the classroom's CA "
    "(needs --broker-folder DIR/console; browsers trust it once they import ca.crt).",
)
@click.option(
    "--tls-cert",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="Serve HTTPS with this certificate (PEM) instead; with --tls-key.",
)
@click.option(
    "--tls-key",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="The private key (PEM) of --tls-cert.",
)
@click.option(
    "--district-school",
    default=None,
    help="Send results and live counts to the district as this school (saved in district.yaml).",
)
@click.option("--district-url", default=None, help="The district's pages (http(s)://...).")
@click.option("--duration", type=float, default=None, help="Stop after this many seconds.")
@click.option("--json", "as_json", is_flag=True, help="Print the addresses as JSON.")
def serve(
    broker_addr: str | None,
    broker_folder: Path | None,
    host: str | None,
    port: int,
    public_url: str | None,
    site: str | None,
    room: str | None,
    data_dir: Path | None,
    session_hours: float,
    mdns_interfaces: tuple[str, ...],
    no_mdns: bool,
    use_tls: bool,
    tls_cert: Path | None,
    tls_key: Path | None,
    district_school: str | None,
    district_url: str | None,
    duration: float | None,
    as_json: bool,
) -> None:
    """Run the console service: MQTT side, store and JSON API.

    With the console's folder of a classroom (--broker-folder DIR/console) it
    also enrols robots: it finds unclaimed ones over mDNS and claims them
    with their codes. As a service: `roboclass console install`.
    """
    from fleet.broker.embedded import EmbeddedBroker  # noqa: PLC0415
    from fleet.console.api import ApiServer  # noqa: PLC0415 - FastAPI loads only here
    from fleet.console.console import Console, ConsoleConfig  # noqa: PLC0415
    from fleet.console.district import start_district  # noqa: PLC0415

    host = host or (ANY_ADDRESS if broker_folder is not None else "127.0.0.1")
    if broker_folder is not None:
        _adopt_signing_key(broker_folder, _data_dir(data_dir))
    embedded = None
    if broker_addr is None and broker_folder is None:
        embedded = EmbeddedBroker(port=0).start()
        link = BrokerLink(embedded.host, embedded.port, site or "school", room or "room1")
    else:
        link = broker_link(broker_addr, broker_folder, site, room)
    mqtt_host, mqtt_port = link.host, link.port
    service = Console(
        ConsoleConfig(
            mqtt_host,
            mqtt_port,
            _data_dir(data_dir),
            site=link.site,
            room=link.room,
            tls=link.tls,
            session_ttl_s=session_hours * 3600.0,
        )
    )
    web_tls = _web_tls(use_tls, tls_cert, tls_key, broker_folder, host, _data_dir(data_dir))
    server = ApiServer(service, host=host, port=port, tls=web_tls)
    enroller = None
    district = None
    try:
        root = classroom_root(broker_folder) if broker_folder is not None else None
        if root is not None:
            from fleet.enrol.console import Enroller  # noqa: PLC0415

            enroller = Enroller(
                root, service, interfaces=mdns_interfaces or None, discover=not no_mdns
            )
            server.app.state.enroller = enroller
        server.start()
        url = public_url or advertised_url(server.url, _hub_hosts(broker_folder))
        service.config.url = url
        service.start()
        district = start_district(service, district_school, district_url, broker_folder)
        facts = {
            "api": url,
            "listen": f"{host}:{server.port}",
            "broker": f"{mqtt_host}:{mqtt_port}",
            "embedded_broker": embedded is not None,
            "public_key": public_key_text(service.key.public_key),
            "teachers": service.db.accounts.has_teachers(),
            "enrol": enroller is not None,
            "district": None if district is None else district.settings.school,
        }
        if not facts["teachers"]:  # only this screen shows it: the browser's set-up asks for it
            facts["setup_code"] = server.setup_code
        if as_json:
            click.echo(json.dumps(facts))
        else:
            click.echo(
                f"console API on {url} (listening on {host}:{server.port}), "
                f"broker {mqtt_host}:{mqtt_port}"
            )
            click.echo(
                f"console public key (for `roboclass agent --console-key`): {facts['public_key']}"
            )
            if not facts["teachers"]:
                click.echo(
                    f"no teacher account yet: open {url} and type the set-up code "
                    f"{server.setup_code} (or run `roboclass console adduser NAME`)"
                )
        wait_for_stop(duration)
    finally:  # in this order: the web side, enrolment, the district link, the room, the broker
        for part in (server, enroller, district, service, embedded):
            if part is not None:
                part.close()


def advertised_url(listening: str, hub_hosts: tuple[str, ...]) -> str:
    """The API's address as robots reach it: ``listening`` with a name they know for a wildcard.

    A console listening on every address (``http://0.0.0.0:8080``) is reached
    by the name the room's broker certificate carries first, the one robots
    already use for the broker::

        advertised_url("http://0.0.0.0:8080", ("hub.local",))   # 'http://hub.local:8080'
    """
    parts = urllib.parse.urlsplit(listening)
    if parts.hostname not in WILDCARDS:
        return listening
    name = hub_hosts[0] if hub_hosts else socket.gethostname()
    if ":" in name:  # an IPv6 address
        name = f"[{name}]"
    return urllib.parse.urlunsplit(parts._replace(netloc=f"{name}:{parts.port}"))


def _hub_hosts(broker_folder: Path | None) -> tuple[str, ...]:
    if broker_folder is None:
        return ()
    from fleet.core.credentials import Credentials  # noqa: PLC0415
    from fleet.core.errors import BrokerError  # noqa: PLC0415

    try:
        return Credentials.load(broker_folder).hosts
    except BrokerError:
        return ()


def _adopt_signing_key(broker_folder: Path, data_dir: Path) -> None:
    """Sign with the classroom's key: the one whose public half is in every robot's folder.

    ``roboclass broker config`` makes it in the console's folder; the first
    start copies it into the data folder. A data folder that already signs
    with another key is refused: the robots would reject its every job.
    """
    made = broker_folder / SIGNING_KEY_FILE
    if not made.is_file():
        return  # a classroom made before `broker config` made the key: enrolment carries it
    mine = data_dir / SIGNING_KEY_FILE
    classroom = SigningKey.load_or_create(made)
    if not mine.is_file():
        data_dir.mkdir(parents=True, exist_ok=True)
        write_atomic(mine, made.read_bytes(), PRIVATE)
        logger.info("signing jobs with the classroom's key %s (from %s)", classroom.kid, made)
        return
    current = SigningKey.load_or_create(mine)
    if current.kid != classroom.kid:
        raise click.ClickException(
            f"{mine} signs with key {current.kid}, but this classroom's robots trust "
            f"{classroom.kid} ({made}): give this classroom its own --data-dir, or move {mine} "
            "away to sign with the classroom's key / 数据文件夹里的签名密钥与本教室机器人信任的"
            "不同：为本教室另选 --data-dir，或移走旧密钥"
        )


def _web_tls(
    use_tls: bool,
    cert: Path | None,
    key: Path | None,
    broker_folder: Path | None,
    host: str,
    data_dir: Path,
) -> tuple[Path, Path] | None:
    """The console's HTTPS certificate and key, or None for plain HTTP."""
    if (cert is None) != (key is None):
        raise click.UsageError("give --tls-cert and --tls-key together")
    if cert is not None and key is not None:
        return cert, key
    if not use_tls:
        return None
    from fleet.console.tls import hub_names, web_certificate  # noqa: PLC0415
    from fleet.core.errors import BrokerError  # noqa: PLC0415
    from fleet.enrol.console import classroom_root  # noqa: PLC0415

    root = classroom_root(broker_folder) if broker_folder is not None else None
    if root is None:
        raise click.UsageError(
            "--tls needs the console's folder of a classroom (--broker-folder DIR/console, "
            "with the CA key), or --tls-cert and --tls-key"
        )
    try:
        return web_certificate(root, data_dir / "web", hub_names(root, host))
    except BrokerError as exc:
        raise click.ClickException(str(exc)) from exc


@console.command()
@click.argument("username")
@DATA_DIR
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from standard input instead."
)
def adduser(username: str, data_dir: Path | None, password_stdin: bool) -> None:
    """Add (or reset) a teacher account; prints a generated password once.

    A reset logs the teacher out everywhere: every old login, session cookie and
    API token of theirs stops working."""
    password = sys.stdin.readline().strip() if password_stdin else None
    if password_stdin and len(password or "") < 8:
        raise click.BadParameter("the password must have at least 8 characters")
    with Database(_data_dir(data_dir) / "console.sqlite") as db:
        chosen = password or generate_password()
        revoked = db.accounts.add_teacher(username, chosen)
    if password is None:
        click.echo(f"teacher {username}, password {chosen} (shown once; write it down)")
    else:
        click.echo(f"teacher {username} saved")
    if revoked:
        click.echo(
            f"{revoked} old logins and API tokens of {username} revoked "
            f"/ 已注销 {username} 的 {revoked} 个旧登录和 API 令牌"
        )


@console.command()
@click.argument("username")
@click.option("--label", default="cli", show_default=True, help="What the token is for.")
@DATA_DIR
def token(username: str, label: str, data_dir: Path | None) -> None:
    """Make an API token for a teacher (for scripts and `roboclass fleet`)."""
    with Database(_data_dir(data_dir) / "console.sqlite") as db:
        if not db.accounts.teacher_exists(username):
            raise click.ClickException(
                f"no teacher {username}: run `roboclass console adduser {username}` first"
            )
        click.echo(db.accounts.new_token(username, label))


@console.command()
@DATA_DIR
def key(data_dir: Path | None) -> None:
    """Print the console's public key (made on first use) for enrolling robots."""
    signing = SigningKey.load_or_create(_data_dir(data_dir) / SIGNING_KEY_FILE)
    click.echo(public_key_text(signing.public_key))
