"""A classroom's Mosquitto 2 configuration: local CA, certificates, ACL, mosquitto.conf.
It is longer than ~500 lines: the configuration's text and the writing of a classroom
share one ``Layout`` (they may part along the ``-- writing`` line).

The certificates themselves come from :mod:`fleet.broker.pki`.

``roboclass broker config --out DIR`` calls :func:`write_classroom`; the pure
functions below make each part, so the tests can read every line::

    from fleet.broker.config import BrokerSettings, write_classroom

    settings = BrokerSettings(site="school", room="room1", hosts=("hub.local", "192.168.1.10"),
                              devices=("robot-01", "robot-02"))
    layout = write_classroom(settings, Path("/srv/roboclass/broker"))

Every client proves who it is with a certificate of the room's CA; the
certificate's common name is its MQTT user name (``use_identity_as_username``)
and its client id (``use_username_as_clientid``). Devices are named by their
id; the console by ``console:{site}:{room}``, which no device id can spell
(ids never hold ``:``). Why certificates and not passwords: docs/security.md.

What goes where (``DIR``)::

    roboclass-broker.json   the settings (no secrets)
    mosquitto.conf, acl     what Mosquitto reads
    ca.crt, crl.pem         the room's CA certificate and revocation list
    broker.crt, broker.key  the broker's identity (key 0600)
    data/                   Mosquitto's persistence
    console/                0700: ca.key (0600; only the console issues and revokes),
                            console.crt, console.key, ca.crt, broker.json,
                            signing-key.pem (0600: the key ``console serve`` signs jobs with)
    devices/{id}/           0700: {id}.crt, {id}.key (0600), ca.crt, broker.json,
                            console.pub (whose jobs the robot runs): copy to the robot

Made by root (sudo), ``broker.key`` and ``data/`` belong to the ``mosquitto``
user, who Mosquitto runs as: it never runs as root (:func:`broker_user`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import json
import re
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from fleet.broker.conf import (
    Layout,
    acl_text,
    broker_user,
    give_to_broker_user,
    mosquitto_conf,
)
from fleet.broker.pki import CertKey, certify, issue, make_crl, new_ca, sign_csr
from fleet.core.credentials import CLIENT_INFO, Credentials
from fleet.core.errors import BrokerError
from fleet.core.protocol import ID_PATTERN, MAX_JOB_PAYLOAD, Topics, valid_id
from fleet.core.signing import SigningKey, public_key_text
from rcbase.files import PRIVATE, write_atomic

__all__ = [
    "CLIENT_INFO",
    "BrokerSettings",
    "Credentials",
    "Layout",
    "acl_signature",
    "acl_text",
    "add_device",
    "broker_user",
    "enrol_device",
    "load_settings",
    "mosquitto_conf",
    "reissue_device",
    "revoke_device",
    "valid_host",
    "write_classroom",
]

_HOSTNAME_RE = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)


@dataclass(frozen=True)
class BrokerSettings:
    """What a classroom broker is made from; stored as ``roboclass-broker.json``.

    ``hosts`` are the names and addresses robots use to reach the hub (they go
    into the broker certificate); ``bind`` is the address Mosquitto listens on
    (``None``: every interface).
    """

    site: str = "school"
    room: str = "room1"
    hosts: tuple[str, ...] = ("localhost", "127.0.0.1")
    devices: tuple[str, ...] = ()
    port: int = 8883
    bind: str | None = None
    max_connections: int = 200
    max_packet_size: int = MAX_JOB_PAYLOAD + 4096
    revoked: tuple[str, ...] = ()
    #: The school's id at its district, and where the district's broker is (the bridge).
    school: str | None = None
    district_host: str | None = None
    district_port: int = 8883

    def __post_init__(self) -> None:
        try:
            Topics(self.site, self.room)
        except ValueError as exc:
            raise BrokerError(str(exc)) from None
        if not self.hosts:
            raise BrokerError("name at least one --host the robots use to reach the broker")
        for host in self.hosts:
            if not valid_host(host):
                raise BrokerError(f"{host!r} is neither a host name nor an IP address")
        for device in self.devices:
            if not valid_id(device):
                raise BrokerError(f"device id {device!r} must match {ID_PATTERN}")
        if len(set(self.devices)) != len(self.devices):
            raise BrokerError("a device id is listed twice")
        if not 0 < self.port < 65536:
            raise BrokerError(f"port {self.port} is not a TCP port")
        if self.bind is not None:
            try:
                ipaddress.ip_address(self.bind)
            except ValueError:
                raise BrokerError(f"bind address {self.bind!r} is not an IP address") from None
        if self.max_connections < 2:
            raise BrokerError("max_connections must be at least 2 (the console and one robot)")
        self._check_district()
        if self.max_packet_size < MAX_JOB_PAYLOAD:
            raise BrokerError(f"max_packet_size must hold a job document ({MAX_JOB_PAYLOAD} bytes)")

    def _check_district(self) -> None:
        if self.school is not None and (not valid_id(self.school) or self.school == "all"):
            raise BrokerError(f"school id {self.school!r} must match {ID_PATTERN} (not 'all')")
        if self.district_host is not None:
            if self.school is None:
                raise BrokerError("a bridge to the district needs the school's id: give --school")
            if not valid_host(self.district_host):
                raise BrokerError(f"district host {self.district_host!r} is not a host name")
        if not 0 < self.district_port < 65536:
            raise BrokerError(f"district port {self.district_port} is not a TCP port")

    @property
    def console_identity(self) -> str:
        """The console's certificate common name (= MQTT user name); never a device id."""
        return f"console:{self.site}:{self.room}"

    @property
    def district_link_identity(self) -> str:
        """The console's district link's own name (its own connection: it never pushes the
        console's off); never a device id."""
        return f"district-link:{self.site}:{self.room}"

    @property
    def topics(self) -> Topics:
        return Topics(self.site, self.room)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("hosts", "devices", "revoked"):
            data[key] = list(data[key])
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BrokerSettings:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise BrokerError(f"unknown broker setting(s): {', '.join(unknown)}")
        values = dict(data)
        for key in ("hosts", "devices", "revoked"):
            if key in values:
                values[key] = tuple(values[key])
        return cls(**values)


def valid_host(host: str) -> bool:
    """True for an IP address or a DNS host name (what a certificate's SAN can hold)."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return bool(_HOSTNAME_RE.match(host))
    return True


# -- writing and changing a classroom ----------------------------------------------


def _mkdir(path: Path, mode: int = 0o755) -> None:
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(mode)


def _write_device(settings: BrokerSettings, layout: Layout, ca: CertKey, device: str) -> None:
    creds = issue(ca, device)
    _mkdir(layout.root / "devices", 0o700)
    folder = layout.device_dir(device)
    _mkdir(folder, 0o700)
    write_atomic(layout.device_cert(device), creds.cert_pem())
    write_atomic(layout.device_key(device), creds.key_pem(), PRIVATE)
    _write_client_info(settings, folder, device, ca)
    if (
        layout.signing_key.is_file()
    ):  # a classroom made before the key was: enrolment or --console-key
        public = SigningKey.load_or_create(layout.signing_key).public_key
        write_atomic(layout.console_pub(device), (public_key_text(public) + "\n").encode())


def _write_client_info(settings: BrokerSettings, folder: Path, identity: str, ca: CertKey) -> None:
    """``broker.json`` (and ``ca.crt``) beside a client's certificate: see :class:`Credentials`."""
    write_atomic(folder / "ca.crt", ca.cert_pem())
    stem = "console" if identity == settings.console_identity else identity
    info = {
        "identity": identity,
        "site": settings.site,
        "room": settings.room,
        "hosts": list(settings.hosts),
        "port": settings.port,
        "ca": "ca.crt",
        "cert": f"{stem}.crt",
        "key": f"{stem}.key",
    }
    write_atomic(folder / CLIENT_INFO, (json.dumps(info, indent=2) + "\n").encode())


def _write_district_link(settings: BrokerSettings, layout: Layout, ca: CertKey) -> None:
    """``console/district-link/``: the certificate the console's district link connects with."""
    creds = issue(ca, settings.district_link_identity)
    folder = layout.district_link
    _mkdir(folder, 0o700)
    write_atomic(folder / "ca.crt", ca.cert_pem())
    write_atomic(folder / "district-link.crt", creds.cert_pem())
    write_atomic(folder / "district-link.key", creds.key_pem(), PRIVATE)
    info = {"identity": settings.district_link_identity, "site": settings.site,
            "room": settings.room, "hosts": list(settings.hosts), "port": settings.port,
            "ca": "ca.crt", "cert": "district-link.crt", "key": "district-link.key"}  # fmt: skip
    write_atomic(folder / CLIENT_INFO, (json.dumps(info, indent=2) + "\n").encode())


def _save_settings(settings: BrokerSettings, layout: Layout) -> None:
    write_atomic(layout.settings, (json.dumps(settings.as_dict(), indent=2) + "\n").encode())


def write_classroom(
    settings: BrokerSettings,
    out: Path,
    *,
    now: dt.datetime | None = None,
    district_folder: Path | None = None,
) -> Layout:
    """Make the CA, the broker's, console's and devices' certificates and Mosquitto's files.

    With ``settings.district_host``, ``district_folder`` is what `roboclass
    district school-cert` made (the district's CA, the school's certificate and
    key): it is copied into ``district/`` for the bridge. Refuses a folder that
    already holds a classroom: a new CA would lock out every robot that has the old one.
    """
    district_files = _district_files(settings, district_folder)
    layout = Layout(out.resolve())
    if layout.conf.exists() or layout.ca_key.exists():
        raise BrokerError(
            f"{layout.root} already holds a classroom broker; add robots with "
            "`roboclass broker add-device`, or choose an empty --out"
        )
    _mkdir(layout.root, 0o755)
    user = broker_user()
    conf = mosquitto_conf(settings, layout, user)  # checks the paths before anything is written
    ca = new_ca(f"RoboClass CA {settings.site}/{settings.room}", now=now)
    server = issue(ca, settings.hosts[0], server_names=settings.hosts, now=now)
    console = issue(ca, settings.console_identity, now=now)
    _mkdir(layout.console, 0o700)
    _mkdir(layout.data, 0o700)
    SigningKey.load_or_create(layout.signing_key)  # before the robots' folders: their console.pub
    write_atomic(layout.ca_key, ca.key_pem(), PRIVATE)
    write_atomic(layout.ca_cert, ca.cert_pem())
    write_atomic(layout.console_cert, console.cert_pem())
    write_atomic(layout.console_key, console.key_pem(), PRIVATE)
    _write_client_info(settings, layout.console, settings.console_identity, ca)
    if settings.school is not None:
        _write_district_link(settings, layout, ca)
    write_atomic(layout.broker_cert, server.cert_pem())
    write_atomic(layout.broker_key, server.key_pem(), PRIVATE)
    write_atomic(layout.crl, make_crl(ca, (), now=now))
    for device in settings.devices:
        _write_device(settings, layout, ca, device)
    if district_files:
        _mkdir(layout.district, 0o755)
        for target, (data, mode) in zip(
            (layout.district_ca, layout.district_cert, layout.district_key), district_files,
            strict=True,
        ):  # fmt: skip
            write_atomic(target, data, mode)
    write_atomic(layout.acl, acl_text(settings).encode())
    write_atomic(layout.conf, conf.encode())
    _save_settings(settings, layout)
    give_to_broker_user(layout, user)
    return layout


#: What `roboclass district school-cert` writes: the district's CA, the school's certificate and key.
DISTRICT_FILES = ("ca.crt", "school.crt", "school.key")


def _district_files(settings: BrokerSettings, folder: Path | None) -> list[tuple[bytes, int]]:
    """The bridge's three files from ``folder`` (with their modes), or none without a district."""
    if settings.district_host is None:
        return []
    if folder is None:
        raise BrokerError(
            "a bridge to the district needs the school's certificate: give --district-folder "
            "DIR, the folder `roboclass district school-cert SCHOOL` made at the district / "
            "连接区级需要学校证书：用 --district-folder 指定区里 district school-cert 生成的文件夹"
        )
    found = []
    for name in DISTRICT_FILES:
        path = folder / name
        if not path.is_file():
            raise BrokerError(
                f"{path} is missing: copy the whole folder `district school-cert` made"
            )
        found.append((path.read_bytes(), PRIVATE if name.endswith(".key") else 0o644))
    return found


def load_settings(root: Path) -> tuple[BrokerSettings, Layout]:
    """The settings of the classroom broker in ``root``."""
    layout = Layout(root.resolve())
    try:
        data = json.loads(layout.settings.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BrokerError(
            f"{layout.root} holds no classroom broker: run `roboclass broker config --out {root}`"
        ) from None
    except ValueError as exc:
        raise BrokerError(f"{layout.settings} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise BrokerError(f"{layout.settings} must hold a JSON object")
    return BrokerSettings.from_dict(data), layout


def _load_ca(layout: Layout) -> CertKey:
    try:
        cert = x509.load_pem_x509_certificate(layout.ca_cert.read_bytes())
        key = serialization.load_pem_private_key(layout.ca_key.read_bytes(), password=None)
    except FileNotFoundError as exc:
        raise BrokerError(
            f"{exc.filename} is missing: only the console's copy of the folder can issue or revoke"
        ) from None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise BrokerError(f"{layout.ca_key} is not the EC key RoboClass makes")
    return CertKey(cert, key)


def acl_signature(layout: Layout) -> str:
    """A digest of the ACL and the revocation list: what a reload must make Mosquitto read.

    ``roboclass broker up`` watches both files, sends Mosquitto ``SIGHUP``
    when they change and then writes this digest to ``Layout.reloaded``, so
    the console knows when a robot it enrolled or revoked is known to the broker.
    """
    digest = hashlib.sha256()
    for path in (layout.acl, layout.crl):
        try:
            digest.update(path.read_bytes())
        except FileNotFoundError:
            digest.update(b"-")
        digest.update(b"\0")
    return digest.hexdigest()


def enrol_device(
    root: Path, device: str, csr: x509.CertificateSigningRequest
) -> tuple[BrokerSettings, x509.Certificate, bytes]:
    """Sign a robot's request as ``device`` and give it the room's rights (enrolment).

    The robot made its key and keeps it: only its certificate is kept here
    (``devices/{id}/``), so the console can revoke it later. Returns the new
    settings, the certificate and the CA certificate (PEM); the broker must
    reload afterwards (``roboclass broker up`` does it by itself).
    """
    settings, layout = load_settings(root)
    if not valid_id(device):
        raise BrokerError(f"device id {device!r} must match {ID_PATTERN}")
    if device in settings.devices:
        raise BrokerError(f"there is already a robot named {device}: revoke it or choose a name")
    ca = _load_ca(layout)
    try:
        cert = sign_csr(ca, csr, device)
    except ValueError as exc:
        raise BrokerError(str(exc)) from exc
    updated = BrokerSettings.from_dict(
        {**settings.as_dict(), "devices": [*settings.devices, device]}
    )
    _mkdir(layout.root / "devices", 0o700)
    _mkdir(layout.device_dir(device), 0o700)
    write_atomic(layout.device_cert(device), cert.public_bytes(serialization.Encoding.PEM))
    write_atomic(layout.acl, acl_text(updated).encode())
    _save_settings(updated, layout)
    return updated, cert, ca.cert_pem()


def reissue_device(root: Path, device: str, name: str) -> tuple[BrokerSettings, x509.Certificate]:
    """A certificate named ``name`` for ``device``'s key: the robot's new name (renaming).

    Both names hold rights until :func:`revoke_device` takes the old one away,
    once the robot has come back under the new name.
    """
    settings, layout = load_settings(root)
    if device not in settings.devices:
        raise BrokerError(f"{device} has no certificate here")
    old = x509.load_pem_x509_certificate(layout.device_cert(device).read_bytes())
    if not valid_id(name):
        raise BrokerError(f"device id {name!r} must match {ID_PATTERN}")
    if name in settings.devices:
        raise BrokerError(f"there is already a robot named {name}: choose another name")
    try:
        cert = certify(_load_ca(layout), name, old.public_key())
    except ValueError as exc:
        raise BrokerError(str(exc)) from exc
    updated = BrokerSettings.from_dict({**settings.as_dict(), "devices": [*settings.devices, name]})
    _mkdir(layout.device_dir(name), 0o700)
    write_atomic(layout.device_cert(name), cert.public_bytes(serialization.Encoding.PEM))
    write_atomic(layout.acl, acl_text(updated).encode())
    _save_settings(updated, layout)
    return updated, cert


def add_device(root: Path, device: str) -> Path:
    """Issue credentials for one more robot; returns its folder (copy it to the robot).

    The ACL gains the robot's block: reload the broker (SIGHUP) afterwards.
    """
    settings, layout = load_settings(root)
    if device in settings.devices:
        raise BrokerError(f"{device} already has credentials in {layout.device_dir(device)}")
    updated = BrokerSettings.from_dict(
        {**settings.as_dict(), "devices": [*settings.devices, device]}
    )
    _write_device(updated, layout, _load_ca(layout), device)
    write_atomic(layout.acl, acl_text(updated).encode())
    _save_settings(updated, layout)
    return layout.device_dir(device)


def revoke_device(root: Path, device: str) -> None:
    """Put the robot's certificate on the revocation list and delete its credentials.

    The robot's block leaves the ACL too. Reload the broker (SIGHUP)
    afterwards: Mosquitto reads both again, refuses the robot's next
    connection and takes every right from the one it may still have open.
    """
    settings, layout = load_settings(root)
    if device not in settings.devices:
        raise BrokerError(
            f"{device} has no credentials here (known: {', '.join(settings.devices)})"
        )
    ca = _load_ca(layout)
    cert = x509.load_pem_x509_certificate(layout.device_cert(device).read_bytes())
    crl = x509.load_pem_x509_crl(layout.crl.read_bytes())
    serials = {revoked.serial_number for revoked in crl}
    write_atomic(layout.crl, make_crl(ca, serials | {cert.serial_number}))
    for path in sorted(layout.device_dir(device).iterdir()):
        path.unlink()
    layout.device_dir(device).rmdir()
    remaining = [d for d in settings.devices if d != device]
    updated = BrokerSettings.from_dict(
        {**settings.as_dict(), "devices": remaining, "revoked": [*settings.revoked, device]}
    )
    write_atomic(layout.acl, acl_text(updated).encode())
    _save_settings(updated, layout)
