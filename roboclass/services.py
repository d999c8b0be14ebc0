"""systemd units: the agent on each robot, the console and the broker on the hub, the district.

Everything here is a pure function from settings to text, so the units can be
tested byte for byte; :mod:`roboclass.services_cli` writes them.

Each unit:

- runs ``roboclass`` from the venv it was installed in (``ExecStart`` holds
  the absolute path), as an ordinary user, never root;
- restarts after a crash (``Restart=on-failure``), but gives up after
  ``StartLimitBurst`` failures in ``StartLimitIntervalSec`` so a broken
  setting does not loop for ever (``systemctl reset-failed`` lets it try again);
- reads its settings from an ``EnvironmentFile`` in ``/etc/roboclass``, made
  once with comments that say what goes there and never overwritten;
- may write only to its data folder (``ProtectSystem=strict`` +
  ``ReadWritePaths``), with ``NoNewPrivileges``, a private ``/tmp`` and a
  read-only ``/home``. The agent keeps the devices (serial, GPIO, camera)
  and joins the groups that own them (``SupplementaryGroups``); the console
  and the brokers see no devices at all (``PrivateDevices``).

The district server (``roboclass district serve``) and its broker
(``roboclass district broker-up``) are made the same way; the district's
PostgreSQL password lives only in its settings file, never in the unit.

>>> spec = agent_spec(exe=Path("/opt/roboclass/venv/bin/roboclass"), user="pi")
>>> "Restart=on-failure" in unit_text(spec)
True
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "AGENT_GROUPS",
    "DEFAULT_DATA_DIR",
    "DEFAULT_ENV_DIR",
    "DEFAULT_UNIT_DIR",
    "SERVICES",
    "ServiceError",
    "ServiceSpec",
    "agent_spec",
    "broker_spec",
    "console_spec",
    "district_broker_spec",
    "district_spec",
    "environment_text",
    "unit_text",
]

DEFAULT_UNIT_DIR = Path("/etc/systemd/system")
DEFAULT_ENV_DIR = Path("/etc/roboclass")
DEFAULT_DATA_DIR = Path("/var/lib/roboclass")

SERVICES = ("agent", "console", "broker", "district", "district-broker")

# The groups that own a robot's devices on Raspberry Pi OS: serial boards
# (dialout), the camera (video), GPIO, I2C and SPI. Groups this computer does
# not have are left out when the unit is written (systemd refuses to start a
# unit that names an unknown group).
AGENT_GROUPS = ("dialout", "video", "gpio", "i2c", "spi")

RESTART_SEC = 3
START_LIMIT_INTERVAL_SEC = 120
START_LIMIT_BURST = 5

_UNSAFE = re.compile(r"[\s\"'\\$%;]")


class ServiceError(ValueError):
    """A setting cannot go into a unit (a path with spaces, root as the user, ...)."""


def _checked(path: Path, what: str) -> str:
    text = str(path)
    if not path.is_absolute():
        raise ServiceError(
            f"{what} must be an absolute path, not {text} / 请写绝对路径（以 / 开头）：{text}"
        )
    if _UNSAFE.search(text):
        raise ServiceError(
            f"{what} {text} has a space, quote, '$', '%' or ';', which systemd would "
            f"split or expand: choose a plain path / {text} 含空格、引号、'$'、'%' 或 ';'，"
            "systemd 会拆开或替换它：请换一个不含这些字符的路径"
        )
    return text


@dataclass(frozen=True)
class ServiceSpec:
    """What one unit says. ``unit_text`` turns it into the file."""

    name: str  # the unit is NAME.service
    description: str
    exec_start: tuple[str, ...]
    user: str
    data_dir: Path
    env_file: Path
    env_example: str  # the EnvironmentFile's first contents
    environment: tuple[tuple[str, str], ...] = ()
    supplementary_groups: tuple[str, ...] = ()
    devices: bool = False  # False: PrivateDevices=true
    after: tuple[str, ...] = ("network-online.target",)
    wants: tuple[str, ...] = ("network-online.target",)
    exec_reload: str | None = None
    stop_timeout_sec: int = 15
    #: Open files (``LimitNOFILE``): a broker needs one per connection, more than the default 1024.
    limit_nofile: int | None = None
    documentation: tuple[str, ...] = field(default=())
    #: Folders it may write besides ``data_dir`` (the console: the classroom's ACL and CRL).
    writable: tuple[Path, ...] = ()
    #: It runs students' programs in the sandbox (lessons/sandbox.py), which makes these
    #: kernel namespaces; every other kind stays forbidden (``RestrictNamespaces``).
    sandbox: bool = False

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[a-z][a-z0-9-]*", self.name):
            raise ServiceError(f"unit name {self.name!r}: lower-case letters, digits and '-'")
        if self.user in ("", "root") or not re.fullmatch(r"[a-z_][a-z0-9_.-]*", self.user):
            raise ServiceError(
                f"user {self.user!r}: run the service as an ordinary user "
                "(--user pi, or a user made with `adduser --system roboclass`) / "
                "请用 --user 指定一个普通用户（不能是 root），如 `adduser --system roboclass` 建的"
            )
        for group in self.supplementary_groups:
            if not re.fullmatch(r"[a-z_][a-z0-9_-]*", group):
                raise ServiceError(f"group {group!r} is not a valid group name")
        _checked(self.data_dir, "the data folder")
        for path in self.writable:
            _checked(path, "a folder it writes")
        _checked(self.env_file, "the settings file")
        _checked(Path(self.exec_start[0]), "the program")

    @property
    def unit_name(self) -> str:
        return f"{self.name}.service"


def unit_text(spec: ServiceSpec) -> str:
    """The ``.service`` file for ``spec``."""
    data = _checked(spec.data_dir, "the data folder")
    unit = [
        "[Unit]",
        f"Description={spec.description}",
        *(f"Documentation={d}" for d in spec.documentation),
        *(f"After={a}" for a in spec.after),
        *(f"Wants={w}" for w in spec.wants),
        # After StartLimitBurst failed starts within the interval systemd stops trying.
        f"StartLimitIntervalSec={START_LIMIT_INTERVAL_SEC}",
        f"StartLimitBurst={START_LIMIT_BURST}",
        "",
        "[Service]",
        "Type=simple",
        f"User={spec.user}",
    ]
    if spec.supplementary_groups:
        unit.append(f"SupplementaryGroups={' '.join(spec.supplementary_groups)}")
    unit += [f"Environment={key}={value}" for key, value in spec.environment]
    unit += [
        # '-': a missing settings file is not an error; the service then fails
        # with the command's own message about the setting it lacks.
        f"EnvironmentFile=-{_checked(spec.env_file, 'the settings file')}",
        f"ExecStart={' '.join(spec.exec_start)}",
    ]
    if spec.exec_reload:
        unit.append(f"ExecReload={spec.exec_reload}")
    unit += [
        "Restart=on-failure",
        f"RestartSec={RESTART_SEC}",
        f"TimeoutStopSec={spec.stop_timeout_sec}",
        *([f"LimitNOFILE={spec.limit_nofile}"] if spec.limit_nofile else []),
        "",
        "# Hardening: write only to the data folder; no new privileges.",
        "NoNewPrivileges=true",
        "ProtectSystem=strict",
        "ProtectHome=read-only",
        "PrivateTmp=true",
        f"ReadWritePaths={' '.join([data, *(str(p) for p in spec.writable)])}",
        "ProtectKernelTunables=true",
        "ProtectKernelModules=true",
        "ProtectControlGroups=true",
        "RestrictSUIDSGID=true",
        "LockPersonality=true",
        "RestrictNamespaces=" + (SANDBOX_NAMESPACES if spec.sandbox else "true"),
        "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK",
        "UMask=0027",
    ]
    if not spec.devices:
        unit.append("PrivateDevices=true")
    unit += ["", "[Install]", "WantedBy=multi-user.target", ""]
    return "\n".join(unit)


#: What bubblewrap makes for a student's program: its own user, mount, PID, network, IPC,
#: host name and cgroup namespaces (decision 0029).
SANDBOX_NAMESPACES = "user mnt pid net ipc uts cgroup"


def environment_text(spec: ServiceSpec) -> str:
    """The first contents of the unit's settings file."""
    return spec.env_example


def _environment(data_dir: Path) -> tuple[tuple[str, str], ...]:
    data = _checked(data_dir, "the data folder")
    return (
        ("ROBOCLASS_DATA_DIR", data),
        ("ROBOCLASS_CACHE_DIR", f"{data}/cache"),
        ("ROBOCLASS_CONFIG_DIR", f"{data}/config"),
        ("PYTHONUNBUFFERED", "1"),
    )


def agent_spec(
    *,
    exe: Path,
    user: str,
    data_dir: Path = DEFAULT_DATA_DIR,
    env_dir: Path = DEFAULT_ENV_DIR,
    groups: Sequence[str] = AGENT_GROUPS,
) -> ServiceSpec:
    """The fleet agent on a robot: ``roboclass agent --enrol`` with the robot's settings.

    A robot with no credentials waits to be claimed from the console (its
    claim code is in the journal and in ``agent/credentials/claim-label.txt``),
    then joins the classroom broker with what the console gave it.
    """
    env_file = env_dir / "agent.env"
    data = _checked(data_dir, "the data folder")
    return ServiceSpec(
        name="roboclass-agent",
        sandbox=True,
        description="RoboClass fleet agent (this robot's jobs, e-stop and results)",
        exec_start=(
            _checked(exe, "the program"),
            "agent",
            "--enrol",
            "--broker-folder",
            f"{data}/agent/credentials",
            "--state-dir",
            f"{data}/agent",
            # Unbraced: split into words, and nothing at all when empty.
            "$ROBOCLASS_AGENT_ARGS",
        ),
        user=user,
        data_dir=data_dir,
        env_file=env_file,
        env_example=(
            "# Settings of roboclass-agent (this robot). After a change:\n"
            "#   sudo systemctl restart roboclass-agent\n"
            "# Until the console claims it, the robot waits and shows a claim code:\n"
            "#   sudo journalctl -u roboclass-agent | grep 'claim code'\n"
            f"#   sudo cat {data}/agent/credentials/claim-label.txt\n"
            "# (and on its LED and buzzer). The teacher types it on the console's Room page.\n"
            f"# Without enrolment, copy the robot's folder from `roboclass broker config` to\n"
            f"# {data}/agent/credentials/ and the console's key (`roboclass console key`)\n"
            "# into console.pub there.\n"
            "# More options of `roboclass agent`, e.g.\n"
            "#   --backend gpio --kit pi-2wd --console-url http://hub.local:8080\n"
            "ROBOCLASS_AGENT_ARGS=\n"
        ),
        environment=_environment(data_dir),
        supplementary_groups=tuple(groups),
        devices=True,
        # A robot must end stopped: the agent closes the robot on SIGTERM.
        stop_timeout_sec=10,
    )


def console_spec(
    *,
    exe: Path,
    user: str,
    data_dir: Path = DEFAULT_DATA_DIR,
    env_dir: Path = DEFAULT_ENV_DIR,
    classroom: Path | None = None,
) -> ServiceSpec:
    """The teacher's console on the hub: ``roboclass console serve``.

    With ``classroom`` (the folder ``roboclass broker config`` made) it joins
    that broker with the folder's ``console/`` and enrols and revokes robots,
    so it may write there too (the ACL, the CRL, the robots' certificates).
    """
    env_file = env_dir / "console.env"
    broker = (
        ()
        if classroom is None
        else ("--broker-folder", f"{_checked(classroom, 'the classroom folder')}/console")
    )
    return ServiceSpec(
        name="roboclass-console",
        description="RoboClass teacher's console (web, API, results)",
        exec_start=(
            _checked(exe, "the program"),
            "console",
            "serve",
            "--data-dir",
            f"{_checked(data_dir, 'the data folder')}/console",
            *broker,
            "$ROBOCLASS_CONSOLE_ARGS",
        ),
        writable=() if classroom is None else (classroom,),
        user=user,
        data_dir=data_dir,
        env_file=env_file,
        env_example=(
            "# Settings of roboclass-console (the hub). After a change:\n"
            "#   sudo systemctl restart roboclass-console\n"
            "# Options of `roboclass console serve`. On a hub that robots reach:\n"
            "#   --host 0.0.0.0 --port 8080 --public-url http://hub.local:8080\n"
            "# (`roboclass console install --classroom DIR` joins the classroom broker\n"
            "# and lets the console enrol robots.)\n"
            "ROBOCLASS_CONSOLE_ARGS=--host 127.0.0.1 --port 8080\n"
        ),
        environment=_environment(data_dir),
        after=("network-online.target", "roboclass-broker.service"),
    )


def broker_spec(
    *,
    exe: Path,
    user: str,
    config_dir: Path,
    env_dir: Path = DEFAULT_ENV_DIR,
) -> ServiceSpec:
    """The classroom broker on the hub: ``roboclass broker up`` (Mosquitto with TLS).

    ``config_dir`` is the folder ``roboclass broker config`` made; Mosquitto
    writes only its persistence folder ``data/`` in it.
    """
    config = _checked(config_dir, "the broker's configuration folder")
    return _mosquitto_spec(
        name="roboclass-broker",
        description="RoboClass classroom MQTT broker (Mosquitto with TLS and ACLs)",
        command=(_checked(exe, "the program"), "broker", "up", "--config", config),
        user=user,
        config_dir=config_dir,
        env_file=env_dir / "broker.env",
        env_example=(
            "# Settings of roboclass-broker (the hub). The broker's own settings live in\n"
            f"# {config}: change them with `roboclass broker config`.\n"
        ),
    )


def _mosquitto_spec(
    *,
    name: str,
    description: str,
    command: tuple[str, ...],
    user: str,
    config_dir: Path,
    env_file: Path,
    env_example: str,
    limit_nofile: int | None = None,
) -> ServiceSpec:
    """A broker's unit: Mosquitto writes only its persistence folder ``data/``."""
    return ServiceSpec(
        name=name,
        description=description,
        exec_start=command,
        user=user,
        data_dir=config_dir / "data",
        env_file=env_file,
        env_example=env_example,
        environment=(("PYTHONUNBUFFERED", "1"),),
        # `roboclass broker up` passes SIGHUP on, and `roboclass district broker-up` becomes
        # Mosquitto: either way Mosquitto reads the ACL and the CRL again.
        exec_reload="/bin/kill -HUP $MAINPID",
        limit_nofile=limit_nofile,
    )


def district_broker_spec(
    *,
    exe: Path,
    user: str,
    config_dir: Path,
    env_dir: Path = DEFAULT_ENV_DIR,
) -> ServiceSpec:
    """The district's broker: ``roboclass district broker-up`` (Mosquitto with TLS).

    ``config_dir`` is the folder ``roboclass district broker-config`` made.
    ``systemctl reload`` makes it read the ACL and the CRL again, after
    ``roboclass district school-cert`` or ``revoke-school``.
    """
    config = _checked(config_dir, "the district broker's folder")
    return _mosquitto_spec(
        name="roboclass-district-broker",
        description="RoboClass district MQTT broker (Mosquitto with TLS, an ACL per school)",
        command=(_checked(exe, "the program"), "district", "broker-up", "--config", config),
        user=user,
        config_dir=config_dir,
        env_file=env_dir / "district-broker.env",
        env_example=(
            "# Settings of roboclass-district-broker. The broker's own settings live in\n"
            f"# {config}: change them with `roboclass district broker-config`.\n"
            "# After `roboclass district school-cert` or `revoke-school`:\n"
            "#   sudo systemctl reload roboclass-district-broker\n"
        ),
        # Every school's bridge is a connection (district-broker.json allows 2000).
        limit_nofile=8192,
    )


def district_spec(
    *,
    exe: Path,
    user: str,
    data_dir: Path = DEFAULT_DATA_DIR,
    env_dir: Path = DEFAULT_ENV_DIR,
    broker_config: Path | None = None,
) -> ServiceSpec:
    """The district server: ``roboclass district serve``.

    Its store's URL holds PostgreSQL's password, so it is never on the command
    line (``ps`` shows that) nor in the unit: it is ``ROBOCLASS_DISTRICT_STORE``
    in the settings file (root's, mode 0600), which ``--store`` reads. Its
    signing key is made on the first start as ``district-key.pem`` in the data
    folder (``ROBOCLASS_DATA_DIR``). With ``broker_config`` (the folder
    ``roboclass district broker-config`` made) it joins that broker with the
    folder's ``service/``. It starts after PostgreSQL without requiring it
    (the database may be on another machine).
    """
    data = _checked(data_dir, "the data folder")
    broker = (
        ()
        if broker_config is None
        else ("--broker-folder", f"{_checked(broker_config, 'the district broker folder')}/service")
    )
    local_broker = "roboclass-district-broker.service"
    return ServiceSpec(
        name="roboclass-district",
        description="RoboClass district server (ingest from the schools, JSON API, staff pages)",
        exec_start=(
            _checked(exe, "the program"),
            "district",
            "serve",
            *broker,
            "$ROBOCLASS_DISTRICT_ARGS",
        ),
        user=user,
        data_dir=data_dir,
        env_file=env_dir / "district.env",
        env_example=(
            "# Settings of roboclass-district (the district server). After a change:\n"
            "#   sudo systemctl restart roboclass-district\n"
            "# It holds the database's password: keep it root's and private\n"
            "# (sudo chmod 600 this file); systemd reads it for the service.\n"
            "# The district's PostgreSQL, with its password (percent-encode any '@', ':' or '/'):\n"
            "#   ROBOCLASS_DISTRICT_STORE=postgresql://roboclass:PASSWORD@127.0.0.1:5432/district\n"
            "ROBOCLASS_DISTRICT_STORE=\n"
            "# Options of `roboclass district serve`. Where staff reach it:\n"
            "#   --host 0.0.0.0 --port 8090\n"
            "# The district broker, unless installed with --broker-config:\n"
            "#   --broker-folder /srv/roboclass/district/service\n"
            f"# Its signing key is made on the first start: {data}/district-key.pem\n"
            "ROBOCLASS_DISTRICT_ARGS=--host 127.0.0.1 --port 8090\n"
        ),
        environment=_environment(data_dir),
        # PostgreSQL may run elsewhere: After= orders the start, it requires nothing.
        after=("network-online.target", "postgresql.service", local_broker),
        wants=("network-online.target", *(() if broker_config is None else (local_broker,))),
    )
