from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from rcbase.paths import paths
from roboclass.services import (
    ServiceError,
    ServiceSpec,
    agent_spec,
    broker_spec,
    console_spec,
    district_broker_spec,
    district_spec,
    environment_text,
    unit_text,
)
from roboclass.services_cli import service
from tests.conftest import free_port, system_part
from tests.postgres import TempPostgres, postgres  # noqa: F401 - the session fixture

EXE = Path("/opt/roboclass/venv/bin/roboclass")
# A user every Debian has; when the tests run as root the data folder is given to it.
USER = "nobody"


def lines(text: str) -> list[str]:
    return text.splitlines()


def section(text: str, name: str) -> list[str]:
    """The lines of one ``[Section]``, without comments and blank lines."""
    out: list[str] = []
    current = None
    for line in lines(text):
        if line.startswith("["):
            current = line
        elif current == f"[{name}]" and line and not line.startswith("#"):
            out.append(line)
    return out


def test_agent_unit_exact_text() -> None:
    text = unit_text(agent_spec(exe=EXE, user="pi", groups=("dialout", "video", "gpio")))
    assert text == (
        "[Unit]\n"
        "Description=RoboClass fleet agent (this robot's jobs, e-stop and results)\n"
        "After=network-online.target\n"
        "Wants=network-online.target\n"
        "StartLimitIntervalSec=120\n"
        "StartLimitBurst=5\n"
        "\n"
        "[Service]\n"
        "Type=simple\n"
        "User=pi\n"
        "SupplementaryGroups=dialout video gpio\n"
        "Environment=ROBOCLASS_DATA_DIR=/var/lib/roboclass\n"
        "Environment=ROBOCLASS_CACHE_DIR=/var/lib/roboclass/cache\n"
        "Environment=ROBOCLASS_CONFIG_DIR=/var/lib/roboclass/config\n"
        "Environment=PYTHONUNBUFFERED=1\n"
        "EnvironmentFile=-/etc/roboclass/agent.env\n"
        "ExecStart=/opt/roboclass/venv/bin/roboclass agent --enrol "
        "--broker-folder /var/lib/roboclass/agent/credentials "
        "--state-dir /var/lib/roboclass/agent $ROBOCLASS_AGENT_ARGS\n"
        "Restart=on-failure\n"
        "RestartSec=3\n"
        "TimeoutStopSec=10\n"
        "\n"
        "# Hardening: write only to the data folder; no new privileges.\n"
        "NoNewPrivileges=true\n"
        "ProtectSystem=strict\n"
        "ProtectHome=read-only\n"
        "PrivateTmp=true\n"
        "ReadWritePaths=/var/lib/roboclass\n"
        "ProtectKernelTunables=true\n"
        "ProtectKernelModules=true\n"
        "ProtectControlGroups=true\n"
        "RestrictSUIDSGID=true\n"
        "LockPersonality=true\n"
        "RestrictNamespaces=user mnt pid net ipc uts cgroup\n"
        "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK\n"
        "UMask=0027\n"
        "\n"
        "[Install]\n"
        "WantedBy=multi-user.target\n"
    )


def test_agent_keeps_devices_console_and_broker_do_not() -> None:
    agent = unit_text(agent_spec(exe=EXE, user="pi"))
    console = unit_text(console_spec(exe=EXE, user="teacher"))
    broker = unit_text(broker_spec(exe=EXE, user="teacher", config_dir=Path("/srv/broker")))
    assert "PrivateDevices=true" not in agent
    assert "PrivateDevices=true" in section(console, "Service")
    assert "PrivateDevices=true" in section(broker, "Service")
    assert "SupplementaryGroups" not in console + broker


@pytest.mark.parametrize(
    ("spec", "exec_start", "writable"),
    [
        (
            console_spec(exe=EXE, user="teacher", data_dir=Path("/srv/rc")),
            f"ExecStart={EXE} console serve --data-dir /srv/rc/console $ROBOCLASS_CONSOLE_ARGS",
            "ReadWritePaths=/srv/rc",
        ),
        (
            broker_spec(exe=EXE, user="teacher", config_dir=Path("/srv/broker")),
            f"ExecStart={EXE} broker up --config /srv/broker",
            "ReadWritePaths=/srv/broker/data",
        ),
        (
            district_spec(exe=EXE, user="roboclass", data_dir=Path("/srv/rc")),
            f"ExecStart={EXE} district serve $ROBOCLASS_DISTRICT_ARGS",
            "ReadWritePaths=/srv/rc",
        ),
        (
            district_broker_spec(exe=EXE, user="roboclass", config_dir=Path("/srv/district")),
            f"ExecStart={EXE} district broker-up --config /srv/district",
            "ReadWritePaths=/srv/district/data",
        ),
    ],
)
def test_every_unit_restarts_and_is_hardened(
    spec: ServiceSpec, exec_start: str, writable: str
) -> None:
    text = unit_text(spec)
    unit, body, install = section(text, "Unit"), section(text, "Service"), section(text, "Install")
    assert {"StartLimitIntervalSec=120", "StartLimitBurst=5"} <= set(unit)
    assert exec_start in body
    assert writable in body
    assert f"EnvironmentFile=-/etc/roboclass/{spec.name.removeprefix('roboclass-')}.env" in body
    for line in (
        "Restart=on-failure",
        "RestartSec=3",
        "NoNewPrivileges=true",
        "ProtectSystem=strict",
        "PrivateTmp=true",
        "ProtectHome=read-only",
        f"User={spec.user}",
    ):
        assert line in body
    assert [line for line in body if line.startswith("ReadWritePaths=")] == [writable]
    assert ("PrivateDevices=true" in body) is (spec.name != "roboclass-agent")
    assert install == ["WantedBy=multi-user.target"]


def test_only_the_agent_may_make_the_sandbox_namespaces() -> None:
    """bubblewrap makes namespaces for every student's program the agent runs; systemd's
    RestrictNamespaces=true would refuse them, and every pushed lesson would fail."""
    agent = section(unit_text(agent_spec(exe=EXE, user="pi")), "Service")
    assert "RestrictNamespaces=user mnt pid net ipc uts cgroup" in agent
    for other in (
        console_spec(exe=EXE, user="teacher"),
        broker_spec(exe=EXE, user="teacher", config_dir=Path("/srv/broker")),
        district_spec(exe=EXE, user="roboclass"),
        district_broker_spec(exe=EXE, user="roboclass", config_dir=Path("/srv/district")),
    ):
        assert "RestrictNamespaces=true" in section(unit_text(other), "Service")


def test_broker_reloads_with_sighup_and_console_starts_after_it() -> None:
    broker = unit_text(broker_spec(exe=EXE, user="teacher", config_dir=Path("/srv/broker")))
    assert "ExecReload=/bin/kill -HUP $MAINPID" in broker
    console = unit_text(console_spec(exe=EXE, user="teacher"))
    assert "After=roboclass-broker.service" in section(console, "Unit")


def test_settings_files_name_every_variable_the_unit_uses() -> None:
    for spec in (
        agent_spec(exe=EXE, user="pi"),
        console_spec(exe=EXE, user="pi"),
        district_spec(exe=EXE, user="roboclass"),
    ):
        text = unit_text(spec)
        env = environment_text(spec)
        for word in text.split():
            if word.startswith("$ROBOCLASS") or word.startswith("${ROBOCLASS"):
                assert f"\n{word.strip('${}')}=" in "\n" + env


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"user": "root"}, "ordinary user"),
        ({"user": ""}, "ordinary user"),
        ({"exe": Path("venv/bin/roboclass")}, "absolute path"),
        ({"data_dir": Path("/srv/my data")}, "plain path"),
        ({"data_dir": Path("/srv/100%")}, "plain path"),
        ({"groups": ("video; rm",)}, "not a valid group"),
    ],
)
def test_bad_settings_are_refused_with_advice(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"exe": EXE, "user": "pi", **kwargs}
    with pytest.raises(ServiceError, match=message):
        agent_spec(**args)  # type: ignore[arg-type]
    assert issubclass(ServiceError, ValueError)


def test_install_writes_unit_and_keeps_existing_settings(tmp_path: Path) -> None:
    env_dir = tmp_path / "etc"
    env_dir.mkdir()
    (env_dir / "console.env").write_text("ROBOCLASS_CONSOLE_ARGS=--port 9000\n")
    args = [
        "install",
        "console",
        "--user",
        USER,
        "--unit-dir",
        str(tmp_path / "units"),
        "--env-dir",
        str(env_dir),
        "--data-dir",
        str(tmp_path / "data"),
        "--exe",
        str(EXE),
        "--json",
    ]
    result = CliRunner().invoke(service, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    facts = json.loads(result.output)
    unit = (tmp_path / "units" / "roboclass-console.service").read_text()
    assert unit == unit_text(
        console_spec(exe=EXE, user=USER, data_dir=tmp_path / "data", env_dir=env_dir)
    )
    assert (env_dir / "console.env").read_text() == "ROBOCLASS_CONSOLE_ARGS=--port 9000\n"
    assert facts["settings_written"] is False
    assert (tmp_path / "data").is_dir()
    assert "systemctl enable --now roboclass-console.service" in facts["next"]


def test_install_agent_new_settings_file_is_private(tmp_path: Path) -> None:
    args = ["install", "agent", "--user", USER, "--exe", str(EXE)]
    args += ["--unit-dir", str(tmp_path / "u"), "--env-dir", str(tmp_path / "e")]
    args += ["--data-dir", str(tmp_path / "d")]
    result = CliRunner().invoke(service, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    env = tmp_path / "e" / "agent.env"
    assert env.stat().st_mode & 0o777 == 0o600
    assert "claim code" in env.read_text()
    assert "ROBOCLASS_AGENT_ARGS=" in env.read_text()


@pytest.mark.parametrize("name", ["agent", "console"])
def test_agent_install_and_console_install_are_service_install(name: str, tmp_path: Path) -> None:
    """`roboclass agent install` runs the very command `roboclass service install agent` does."""
    from roboclass.cli import cli  # noqa: PLC0415

    args = ["--user", USER, "--exe", str(EXE), "--env-dir", str(tmp_path / "e"), "--dry-run"]
    args += ["--json", "--data-dir", str(tmp_path / "d")]
    alias = CliRunner().invoke(cli, [name, "install", *args], catch_exceptions=False)
    plain = CliRunner().invoke(cli, ["service", "install", name, *args], catch_exceptions=False)
    assert alias.exit_code == 0, alias.output
    assert json.loads(alias.output) == json.loads(plain.output)
    assert f"roboclass-{name}.service" in json.loads(alias.output)["unit"]


def test_console_with_a_classroom_joins_it_and_may_write_it() -> None:
    text = unit_text(console_spec(exe=EXE, user="teacher", classroom=Path("/srv/broker")))
    body = section(text, "Service")
    assert (
        f"ExecStart={EXE} console serve --data-dir /var/lib/roboclass/console "
        "--broker-folder /srv/broker/console $ROBOCLASS_CONSOLE_ARGS"
    ) in body
    assert "ReadWritePaths=/var/lib/roboclass /srv/broker" in body


def test_dry_run_writes_nothing(tmp_path: Path) -> None:
    args = ["install", "broker", "--config", str(tmp_path / "broker"), "--user", "teacher"]
    args += ["--unit-dir", str(tmp_path / "u"), "--env-dir", str(tmp_path / "e"), "--dry-run"]
    result = CliRunner().invoke(service, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "broker up --config" in result.output
    assert not (tmp_path / "u").exists() and not (tmp_path / "e").exists()


def test_root_user_is_a_clear_error(tmp_path: Path) -> None:
    args = ["install", "console", "--user", "root", "--dry-run"]
    result = CliRunner().invoke(service, args)
    assert result.exit_code == 1
    assert "ordinary user" in result.output


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not here")
def test_systemd_analyze_verify_accepts_every_unit(tmp_path: Path) -> None:
    exe = tmp_path / "bin" / "roboclass"
    exe.parent.mkdir()
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    units = tmp_path / "units"
    units.mkdir()
    for spec in (
        agent_spec(exe=exe, user="roboclass", groups=("dialout", "video")),
        console_spec(exe=exe, user="roboclass"),
        broker_spec(exe=exe, user="roboclass", config_dir=tmp_path / "broker"),
        district_spec(exe=exe, user="roboclass", broker_config=tmp_path / "district"),
        district_broker_spec(exe=exe, user="roboclass", config_dir=tmp_path / "district"),
    ):
        (units / spec.unit_name).write_text(unit_text(spec))
    files = sorted(str(p) for p in units.iterdir())
    assert len(files) == 5
    done = subprocess.run(
        ["systemd-analyze", "verify", *files],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    # systemd-analyze reports unknown settings on stderr without failing
    assert "Unknown key" not in done.stderr and "Unknown section" not in done.stderr, done.stderr


# -- the district ------------------------------------------------------------------------

SECRET = "postgresql://roboclass:s3cret-pw@db.district.example:5432/district"


def district_folder(tmp_path: Path) -> Path:
    """What `roboclass district broker-config` leaves: mosquitto.conf and service/."""
    folder = tmp_path / "district"
    (folder / "service").mkdir(parents=True)
    (folder / "mosquitto.conf").write_text("# a district broker\n")
    return folder


def test_district_unit_exact_text() -> None:
    spec = district_spec(exe=EXE, user="roboclass", broker_config=Path("/srv/district"))
    assert unit_text(spec) == (
        "[Unit]\n"
        "Description=RoboClass district server (ingest from the schools, JSON API, staff pages)\n"
        "After=network-online.target\n"
        "After=postgresql.service\n"
        "After=roboclass-district-broker.service\n"
        "Wants=network-online.target\n"
        "Wants=roboclass-district-broker.service\n"
        "StartLimitIntervalSec=120\n"
        "StartLimitBurst=5\n"
        "\n"
        "[Service]\n"
        "Type=simple\n"
        "User=roboclass\n"
        "Environment=ROBOCLASS_DATA_DIR=/var/lib/roboclass\n"
        "Environment=ROBOCLASS_CACHE_DIR=/var/lib/roboclass/cache\n"
        "Environment=ROBOCLASS_CONFIG_DIR=/var/lib/roboclass/config\n"
        "Environment=PYTHONUNBUFFERED=1\n"
        "EnvironmentFile=-/etc/roboclass/district.env\n"
        "ExecStart=/opt/roboclass/venv/bin/roboclass district serve "
        "--broker-folder /srv/district/service $ROBOCLASS_DISTRICT_ARGS\n"
        "Restart=on-failure\n"
        "RestartSec=3\n"
        "TimeoutStopSec=15\n"
        "\n"
        "# Hardening: write only to the data folder; no new privileges.\n"
        "NoNewPrivileges=true\n"
        "ProtectSystem=strict\n"
        "ProtectHome=read-only\n"
        "PrivateTmp=true\n"
        "ReadWritePaths=/var/lib/roboclass\n"
        "ProtectKernelTunables=true\n"
        "ProtectKernelModules=true\n"
        "ProtectControlGroups=true\n"
        "RestrictSUIDSGID=true\n"
        "LockPersonality=true\n"
        "RestrictNamespaces=true\n"
        "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK\n"
        "UMask=0027\n"
        "PrivateDevices=true\n"
        "\n"
        "[Install]\n"
        "WantedBy=multi-user.target\n"
    )
    assert environment_text(spec) == (
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
        "# Its signing key is made on the first start: /var/lib/roboclass/district-key.pem\n"
        "ROBOCLASS_DISTRICT_ARGS=--host 127.0.0.1 --port 8090\n"
    )


def test_district_broker_unit_exact_text() -> None:
    spec = district_broker_spec(exe=EXE, user="roboclass", config_dir=Path("/srv/district"))
    assert unit_text(spec) == (
        "[Unit]\n"
        "Description=RoboClass district MQTT broker (Mosquitto with TLS, an ACL per school)\n"
        "After=network-online.target\n"
        "Wants=network-online.target\n"
        "StartLimitIntervalSec=120\n"
        "StartLimitBurst=5\n"
        "\n"
        "[Service]\n"
        "Type=simple\n"
        "User=roboclass\n"
        "Environment=PYTHONUNBUFFERED=1\n"
        "EnvironmentFile=-/etc/roboclass/district-broker.env\n"
        "ExecStart=/opt/roboclass/venv/bin/roboclass district broker-up --config /srv/district\n"
        "ExecReload=/bin/kill -HUP $MAINPID\n"
        "Restart=on-failure\n"
        "RestartSec=3\n"
        "TimeoutStopSec=15\n"
        "LimitNOFILE=8192\n"
        "\n"
        "# Hardening: write only to the data folder; no new privileges.\n"
        "NoNewPrivileges=true\n"
        "ProtectSystem=strict\n"
        "ProtectHome=read-only\n"
        "PrivateTmp=true\n"
        "ReadWritePaths=/srv/district/data\n"
        "ProtectKernelTunables=true\n"
        "ProtectKernelModules=true\n"
        "ProtectControlGroups=true\n"
        "RestrictSUIDSGID=true\n"
        "LockPersonality=true\n"
        "RestrictNamespaces=true\n"
        "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK\n"
        "UMask=0027\n"
        "PrivateDevices=true\n"
        "\n"
        "[Install]\n"
        "WantedBy=multi-user.target\n"
    )
    assert "systemctl reload roboclass-district-broker" in environment_text(spec)


def test_district_without_a_broker_folder_still_starts_after_postgresql_and_the_broker() -> None:
    """PostgreSQL (and the broker) may be on another machine: ordered after, never required."""
    unit = section(unit_text(district_spec(exe=EXE, user="roboclass")), "Unit")
    assert "After=postgresql.service" in unit and "After=roboclass-district-broker.service" in unit
    assert [line for line in unit if line.startswith("Wants=")] == ["Wants=network-online.target"]
    assert not [line for line in unit if line.startswith(("Requires=", "BindsTo=", "Requisite="))]


def test_district_key_lands_in_the_units_writable_data_folder() -> None:
    """`district serve` makes district-key.pem in RoboClass's data folder: the unit's own."""
    spec = district_spec(exe=EXE, user="roboclass", data_dir=Path("/srv/rc"))
    body = section(unit_text(spec), "Service")
    environ = dict(
        line.removeprefix("Environment=").split("=", 1)
        for line in body
        if line.startswith("Environment=")
    )
    key = paths(environ).data / "district-key.pem"
    assert key == Path("/srv/rc/district-key.pem")
    assert f"ReadWritePaths={key.parent}" in body
    assert str(key) in environment_text(spec)


def test_the_store_password_is_never_in_the_unit_nor_on_a_command_line(tmp_path: Path) -> None:
    """The maintainer may have ROBOCLASS_DISTRICT_STORE exported (docs/district.md does):
    install writes none of it; the store is read from the private settings file."""
    args = ["install", "district", "--user", USER, "--exe", str(EXE)]
    args += ["--unit-dir", str(tmp_path / "u"), "--env-dir", str(tmp_path / "e")]
    args += ["--data-dir", str(tmp_path / "d")]
    runner = CliRunner(env={"ROBOCLASS_DISTRICT_STORE": SECRET})
    result = runner.invoke(service, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    unit = (tmp_path / "u" / "roboclass-district.service").read_text()
    assert "s3cret" not in unit + result.output
    assert "postgresql://" not in unit and "--store" not in unit
    assert "ROBOCLASS_DISTRICT_STORE" not in unit  # only the settings file names it
    env = tmp_path / "e" / "district.env"
    assert env.stat().st_mode & 0o777 == 0o600
    assert "\nROBOCLASS_DISTRICT_STORE=\n" in env.read_text()
    assert "s3cret" not in env.read_text()
    dry = runner.invoke(service, [*args, "--dry-run", "--json"], catch_exceptions=False)
    assert "s3cret" not in dry.output


def test_dry_run_prints_both_district_units_and_writes_nothing(tmp_path: Path) -> None:
    folder = district_folder(tmp_path)
    common = ["--user", "roboclass", "--exe", str(EXE), "--dry-run"]
    common += ["--unit-dir", str(tmp_path / "u"), "--env-dir", str(tmp_path / "e")]
    serve = CliRunner().invoke(
        service,
        ["install", "district", "--broker-config", str(folder), "--data-dir", "/srv/rc", *common],
        catch_exceptions=False,
    )
    broker = CliRunner().invoke(
        service,
        ["install", "district-broker", "--config", str(folder), *common],
        catch_exceptions=False,
    )
    assert serve.exit_code == 0 and broker.exit_code == 0, serve.output + broker.output
    env_dir = tmp_path / "e"
    spec = district_spec(
        exe=EXE, user="roboclass", data_dir=Path("/srv/rc"), env_dir=env_dir, broker_config=folder
    )
    bspec = district_broker_spec(exe=EXE, user="roboclass", config_dir=folder, env_dir=env_dir)
    assert serve.stdout == (
        f"# {tmp_path}/u/roboclass-district.service\n{unit_text(spec)}"
        f"\n# {env_dir}/district.env\n{environment_text(spec)}"
    )
    assert broker.stdout == (
        f"# {tmp_path}/u/roboclass-district-broker.service\n{unit_text(bspec)}"
        f"\n# {env_dir}/district-broker.env\n{environment_text(bspec)}"
    )
    assert not (tmp_path / "u").exists() and not env_dir.exists()


@pytest.mark.parametrize(
    ("extra", "en", "zh"),
    [
        (["--user", "root"], "ordinary user", "普通用户"),
        (["--data-dir", "/srv/my data"], "plain path", "路径"),
        (["--exe", "venv/bin/roboclass"], "absolute path", "绝对路径"),
        (["--broker-config", "/nowhere/district"], "broker-config --out", "先运行"),
    ],
)
def test_bad_district_settings_are_refused_in_en_and_zh(
    extra: list[str], en: str, zh: str, tmp_path: Path
) -> None:
    args = ["install", "district", "--user", "roboclass", "--exe", str(EXE), "--dry-run", *extra]
    result = CliRunner().invoke(service, args)
    assert result.exit_code == 1, result.output
    assert en in result.output and zh in result.output


def test_district_broker_needs_the_folder_broker_config_made(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    for folder in (tmp_path / "missing", empty):
        args = ["install", "district-broker", "--config", str(folder), "--dry-run"]
        result = CliRunner().invoke(service, [*args, "--user", "roboclass"])
        assert result.exit_code == 1, result.output
        assert "no mosquitto.conf" in result.output and "没有 mosquitto.conf" in result.output
        assert f"roboclass district broker-config --out {folder}" in result.output
    no_service = district_folder(tmp_path)
    (no_service / "service").rmdir()
    args = ["install", "district", "--broker-config", str(no_service), "--dry-run"]
    result = CliRunner().invoke(service, [*args, "--user", "roboclass"])
    assert result.exit_code == 1 and "no service/" in result.output, result.output


def test_district_install_notes_loose_settings_and_a_folder_it_cannot_read(
    tmp_path: Path,
) -> None:
    folder = district_folder(tmp_path)
    env_dir = tmp_path / "e"
    env_dir.mkdir()
    (env_dir / "district.env").write_text(f"ROBOCLASS_DISTRICT_STORE={SECRET}\n")
    (env_dir / "district.env").chmod(0o644)
    args = ["install", "district", "--broker-config", str(folder), "--user", "roboclass"]
    args += ["--exe", str(EXE), "--env-dir", str(env_dir), "--dry-run"]
    result = CliRunner().invoke(service, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert f"sudo chmod 600 {env_dir}/district.env" in result.stderr
    # The folder is this test's user's, not roboclass's: the service could not read its key.
    assert f"sudo chown -R roboclass: {folder}/service" in result.stderr
    assert "s3cret" not in result.output  # an existing file is named, never printed


def test_district_broker_up_is_mosquitto_so_reload_reaches_it(tmp_path: Path) -> None:
    """The unit's ExecReload sends SIGHUP to the main process: `district broker-up` must be
    Mosquitto itself (it reads its ACL and CRL again) and stop cleanly on SIGTERM."""
    from district.broker import DistrictBroker, write_district_broker  # noqa: PLC0415

    system_part("mosquitto")
    port = free_port()
    layout = write_district_broker(
        DistrictBroker(("localhost",), port, "127.0.0.1"), tmp_path / "district"
    )
    roboclass = str(Path(sys.executable).with_name("roboclass"))
    proc = subprocess.Popen(
        [roboclass, "district", "broker-up", "--config", str(layout.root)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    said = b""

    def read_until(marker: bytes) -> None:
        nonlocal said
        assert proc.stderr is not None
        for line in proc.stderr:  # Mosquitto's own log (log_dest stderr)
            said += line
            if marker in line:
                return
        raise AssertionError(f"mosquitto never said {marker!r}: {said.decode()}")

    try:
        read_until(b" running")
        assert Path(f"/proc/{proc.pid}/exe").resolve().name == "mosquitto"
        proc.send_signal(signal.SIGHUP)  # what `systemctl reload` does
        read_until(b"Reloading config")
        assert proc.poll() is None
    finally:
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, (said + err).decode()
    assert b"terminating" in err


def _as_systemd_would(unit: str) -> tuple[list[str], dict[str, str]]:
    """The command line and environment systemd makes from ``unit`` (what this test needs)."""
    env: dict[str, str] = {}
    command: list[str] = []
    for line in section(unit, "Service"):
        key, _, value = line.partition("=")
        if key == "Environment":
            env.update([value.split("=", 1)])
        elif key == "EnvironmentFile":
            for setting in Path(value.removeprefix("-")).read_text().splitlines():
                if setting and not setting.startswith("#"):
                    env.update([setting.split("=", 1)])
        elif key == "ExecStart":
            command = value.split()
    # An unbraced $VAR is split into words (and is nothing when empty).
    words = [
        w for part in command for w in (env.get(part[1:], "").split() if part[0] == "$" else [part])
    ]
    return words, env


def test_the_units_command_and_settings_start_the_district_and_make_its_key_in_the_data_folder(
    tmp_path: Path,
    postgres: TempPostgres,  # noqa: F811
) -> None:
    """The unit as written, run as systemd would run it: the store comes from the settings
    file (with a password in its URL), never from the command line; the key lands in the
    unit's data folder."""
    from fleet.broker.mosquitto import Mosquitto  # noqa: PLC0415

    system_part("mosquitto")
    roboclass = Path(sys.executable).with_name("roboclass")
    args = ["install", "district", "--user", USER, "--exe", str(roboclass)]
    args += ["--unit-dir", str(tmp_path / "u"), "--env-dir", str(tmp_path / "e")]
    args += ["--data-dir", str(tmp_path / "d"), "--json"]
    result = CliRunner().invoke(service, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    # trust on loopback: the password is sent only if asked, but it is in the URL all the same
    store = postgres.fresh_database().replace("@", ":s3cret-pw@", 1)
    settings = tmp_path / "e" / "district.env"
    with Mosquitto.loopback() as broker:
        text = settings.read_text()
        text = text.replace(
            "\nROBOCLASS_DISTRICT_STORE=\n", f"\nROBOCLASS_DISTRICT_STORE={store}\n"
        )
        text = text.replace(
            "ROBOCLASS_DISTRICT_ARGS=--host 127.0.0.1 --port 8090",
            f"ROBOCLASS_DISTRICT_ARGS=--port 0 --broker 127.0.0.1:{broker.port} --duration 1 --json",
        )
        settings.write_text(text)
        command, env = _as_systemd_would(
            (tmp_path / "u" / "roboclass-district.service").read_text()
        )
        assert "s3cret" not in " ".join(command)  # what `ps` would show
        done = subprocess.run(
            command,
            # systemd's environment is the unit's; PYTHONPATH only finds this checkout
            env={**{k: v for k, v in os.environ.items() if k in ("PATH", "PYTHONPATH")}, **env},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["api"].startswith("http://127.0.0.1:")
    assert (tmp_path / "d" / "district-key.pem").is_file()
