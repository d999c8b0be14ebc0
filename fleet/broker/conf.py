"""The text Mosquitto reads for a classroom: where each file lives, the ACL, ``mosquitto.conf``.

Made by :func:`fleet.broker.config.write_classroom` (which re-exports these
names); pure functions, so the tests read every line. Mosquitto never runs
as root: :func:`broker_user` picks who it runs as, :func:`give_to_broker_user`
hands it the files it must read and write after dropping root's rights.
"""

from __future__ import annotations

import logging
import os
import pwd
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from fleet.core.errors import BrokerError

if TYPE_CHECKING:
    from fleet.broker.config import BrokerSettings

__all__ = [
    "SETTINGS_FILE",
    "Layout",
    "acl_text",
    "bridge_conf",
    "broker_user",
    "give_to_broker_user",
    "mosquitto_conf",
]

logger = logging.getLogger(__name__)

SETTINGS_FILE = "roboclass-broker.json"
#: The district link's topic tree (``fleet.core.district.PREFIX``).
DISTRICT_PREFIX = "district/v1"
#: A day of a school's results queued for a district that is away, with room to spare
#: (results go up to 200 to a message; live counts are QoS 0 and are not queued).
DISTRICT_QUEUED_MESSAGES = 100_000
DISTRICT_QUEUED_BYTES = 256 * 1024 * 1024
#: The console's public key beside a robot's certificate: the name enrolment writes
#: (``fleet.enrol.CONSOLE_KEY_FILE``, which this part may not import).
CONSOLE_KEY_FILE = "console.pub"
#: Who Mosquitto runs as when the configuration is made by root (Debian's package makes it).
MOSQUITTO_USER = "mosquitto"

_ROOT_REFUSED = (
    "Mosquitto must not run as root, and this computer has no `mosquitto` user to run it as: "
    "install Mosquitto (`sudo apt install mosquitto`, which makes the user), or run "
    "`roboclass broker config` as the user who will run the broker, without sudo. / "
    "Mosquitto 不能以 root 运行，而这台电脑没有 mosquitto 用户：先安装 Mosquitto"
    "（sudo apt install mosquitto），或不用 sudo、以运行代理的用户身份执行 roboclass broker config。"
)


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def broker_user(uid: int | None = None, *, has_user: Callable[[str], bool] = _has_user) -> str:
    """Who Mosquitto runs as: whoever makes the configuration, or ``mosquitto`` for root.

    Raises :class:`BrokerError` (in zh and en) for root on a computer without
    a ``mosquitto`` user: Mosquitto never runs as root::

        broker_user(0)   # 'mosquitto' where Debian's package made the user
    """
    uid = os.geteuid() if uid is None else uid
    if uid != 0:
        return pwd.getpwuid(uid).pw_name
    if not has_user(MOSQUITTO_USER):
        raise BrokerError(_ROOT_REFUSED)
    return MOSQUITTO_USER


def give_to_broker_user(layout: Layout, user: str) -> None:
    """Make ``user`` the owner of what Mosquitto reads and writes as that user.

    Only root changes owners: the broker key (0600) and ``data/``. The ACL,
    the CRL and the certificates are 0644 already. Every folder above the
    configuration must let ``user`` through (``/srv`` and ``/etc`` do).
    """
    if os.geteuid() != 0:
        return
    entry = pwd.getpwnam(user)
    for path in (layout.broker_key, layout.data, layout.district_key):
        if path.exists():  # the district's key only where the school has a district
            os.chown(path, entry.pw_uid, entry.pw_gid)
    closed = [p for p in layout.root.parents if p.stat().st_mode & 0o001 == 0]
    if closed:
        logger.warning(
            "%s is closed to %s (mode %o): Mosquitto cannot read its ACL there",
            closed[0],
            user,
            closed[0].stat().st_mode & 0o777,
        )


@dataclass(frozen=True)
class Layout:
    """Where each file of a classroom broker lives under ``root``."""

    root: Path

    @property
    def settings(self) -> Path:
        return self.root / SETTINGS_FILE

    @property
    def conf(self) -> Path:
        return self.root / "mosquitto.conf"

    @property
    def acl(self) -> Path:
        return self.root / "acl"

    @property
    def ca_cert(self) -> Path:
        return self.root / "ca.crt"

    @property
    def crl(self) -> Path:
        return self.root / "crl.pem"

    @property
    def broker_cert(self) -> Path:
        return self.root / "broker.crt"

    @property
    def broker_key(self) -> Path:
        return self.root / "broker.key"

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def console(self) -> Path:
        return self.root / "console"

    @property
    def ca_key(self) -> Path:
        return self.console / "ca.key"

    @property
    def console_cert(self) -> Path:
        return self.console / "console.crt"

    @property
    def console_key(self) -> Path:
        return self.console / "console.key"

    @property
    def signing_key(self) -> Path:
        """The console's job-signing key (Ed25519, 0600): ``console serve`` signs with it."""
        return self.console / "signing-key.pem"

    def console_pub(self, device: str) -> Path:
        """The console's public key in a robot's folder: which console's jobs it runs."""
        return self.device_dir(device) / CONSOLE_KEY_FILE

    def device_dir(self, device: str) -> Path:
        return self.root / "devices" / device

    def device_cert(self, device: str) -> Path:
        return self.device_dir(device) / f"{device}.crt"

    def device_key(self, device: str) -> Path:
        return self.device_dir(device) / f"{device}.key"

    @property
    def district_link(self) -> Path:
        """The console's district link's certificate folder (a school with a district)."""
        return self.console / "district-link"

    @property
    def district(self) -> Path:
        """The bridge's credentials from the district (``roboclass district school-cert``)."""
        return self.root / "district"

    @property
    def district_ca(self) -> Path:
        return self.district / "ca.crt"

    @property
    def district_cert(self) -> Path:
        return self.district / "school.crt"

    @property
    def district_key(self) -> Path:
        return self.district / "school.key"

    @property
    def reloaded(self) -> Path:
        """What ``roboclass broker up`` last made Mosquitto read: :func:`acl_signature`."""
        return self.data / "reloaded"


def acl_text(settings: BrokerSettings) -> str:
    """The ACL: each device writes only its own ``up/``, reads its ``down/``, e-stop, console state.

    One block per device the room knows (user name = certificate common
    name), so a certificate of the room's CA that is not listed, or no longer
    listed (revoked), may do nothing at all, and ``check_retain_source`` stops
    what it left retained. The console reads and writes the whole room.
    Nothing outside the room is granted to anyone but the console's district
    link (a school with ``school``): its school's ``district/v1`` topics only.
    """
    t = settings.topics
    text = (
        f"# RoboClass ACL for {t.base} (generated by `roboclass broker config`).\n"
        "# The user name is the common name of the client's certificate.\n"
        "# The console: everything in the room.\n"
        f"user {settings.console_identity}\n"
        f"topic readwrite {t.base}/#\n"
    )
    if settings.school is not None:  # the district link: the bridge carries these on
        text += (
            "\n# The console's district link: its school's topics, up to the district and down.\n"
            f"user {settings.district_link_identity}\n"
            f"topic write {DISTRICT_PREFIX}/{settings.school}/up/#\n"
            f"topic read {DISTRICT_PREFIX}/{settings.school}/down/#\n"
            f"topic read {DISTRICT_PREFIX}/all/down/#\n"
        )
    for device in settings.devices:
        dev = t.dev(device)
        text += (
            f"\n# {device}: writes only its own up/, reads only its own down/,"
            " the e-stop and the console's state.\n"
            f"user {device}\n"
            f"topic write {dev}/up/#\n"
            f"topic read {dev}/down/#\n"
            f"topic read {t.estop}\n"
            f"topic read {t.console_state}\n"
        )
    return text


def _safe_path(path: Path) -> str:
    text = str(path)
    if re.search(r"[\s#]", text):
        raise BrokerError(
            f"Mosquitto cannot read a path with spaces or '#': {text}; choose another --out"
        )
    return text


def mosquitto_conf(settings: BrokerSettings, layout: Layout, user: str) -> str:
    """``mosquitto.conf`` for Mosquitto 2: one TLS listener, client certificates, the ACL.

    ``user`` is who Mosquitto runs as (:func:`broker_user`): started as root it
    drops to that user, who owns ``broker.key`` and ``data/``. Never root.
    """
    if user == "root":
        raise BrokerError(_ROOT_REFUSED)
    root = layout.root
    if not root.is_absolute():
        raise BrokerError(f"the configuration folder must be an absolute path, not {root}")
    listen = f"listener {settings.port}" + (f" {settings.bind}" if settings.bind else "")
    queued, queued_bytes = 20000, 67108864
    if settings.district_host is not None:
        queued, queued_bytes = DISTRICT_QUEUED_MESSAGES, DISTRICT_QUEUED_BYTES
    return (
        f"# RoboClass classroom broker for {settings.topics.base}\n"
        "# Generated by `roboclass broker config`; run it with `roboclass broker up`.\n"
        f"user {user}\n"
        "per_listener_settings false\n"
        "allow_anonymous false\n"
        f"acl_file {_safe_path(layout.acl)}\n"
        "# A retained message is only delivered while its publisher may still write it.\n"
        "check_retain_source true\n"
        f"max_packet_size {settings.max_packet_size}\n"
        "max_inflight_messages 100\n"
        "# A console that falls behind (40 robots sending results at once) is queued for;\n"
        "# 1000 dropped about 400 of 2000 queued results in bench/fleet_bench.py. Bytes cap memory.\n"
        f"max_queued_messages {queued}\n"
        f"max_queued_bytes {queued_bytes}\n"
        "persistence true\n"
        f"persistence_location {_safe_path(layout.data)}/\n"
        "autosave_interval 60\n"
        "persistent_client_expiration 7d\n"
        "set_tcp_nodelay true\n"
        "log_dest stderr\n"
        "log_type error\n"
        "log_type warning\n"
        "log_type notice\n"
        "log_type information\n"
        "connection_messages true\n"
        "\n"
        "# The only listener: TLS, and every client shows a certificate of the room's CA.\n"
        f"{listen}\n"
        "protocol mqtt\n"
        f"max_connections {settings.max_connections}\n"
        f"cafile {_safe_path(layout.ca_cert)}\n"
        f"certfile {_safe_path(layout.broker_cert)}\n"
        f"keyfile {_safe_path(layout.broker_key)}\n"
        f"crlfile {_safe_path(layout.crl)}\n"
        "tls_version tlsv1.2\n"
        "require_certificate true\n"
        "use_identity_as_username true\n"
        "# The client id is the certificate's name too: nobody can take over another's session.\n"
        "use_username_as_clientid true\n"
    ) + bridge_conf(settings, layout)


def bridge_conf(settings: BrokerSettings, layout: Layout) -> str:
    """The bridge to the district's broker (empty without ``district_host``).

    Mosquitto's own bridge: TLS with the school's certificate from the
    district's CA, a persistent session (``cleansession false``, a fixed client
    id) so neither side forgets what is queued, QoS 1 both ways. Only the
    school's own ``up/`` goes out; its ``down/`` and everyone's ``all/down/``
    come in.
    """
    if settings.district_host is None or settings.school is None:
        return ""
    school, base = settings.school, f"{DISTRICT_PREFIX}/{settings.school}"
    host = settings.district_host
    address = f"[{host}]" if ":" in host else host
    return (
        "\n# The school's link to its district (`roboclass broker config --district-host`).\n"
        "connection district\n"
        f"address {address}:{settings.district_port}\n"
        f"bridge_cafile {_safe_path(layout.district_ca)}\n"
        f"bridge_certfile {_safe_path(layout.district_cert)}\n"
        f"bridge_keyfile {_safe_path(layout.district_key)}\n"
        "bridge_tls_version tlsv1.2\n"
        "bridge_protocol_version mqttv311\n"
        "bridge_insecure false\n"
        "cleansession false\n"
        f"remote_clientid school:{school}\n"
        f"local_clientid bridge:{school}\n"
        "start_type automatic\n"
        "restart_timeout 1 10\n"
        "keepalive_interval 30\n"
        "notifications true\n"
        "notifications_local_only true\n"
        f"topic {base}/up/# out 1\n"
        f"topic {base}/down/# in 1\n"
        f"topic {DISTRICT_PREFIX}/all/down/# in 1\n"
    )
