from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from roboclass.services import (
    ServiceError,
    ServiceSpec,
    agent_spec,
    broker_spec,
    console_spec,
    environment_text,
    unit_text,
)
from roboclass.services_cli import service

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
        f"User={spec.user}",
    ):
        assert line in body
    assert install == ["WantedBy=multi-user.target"]


def test_only_the_agent_may_make_the_sandbox_namespaces() -> None:
    """bubblewrap makes namespaces for every student's program the agent runs; systemd's
    RestrictNamespaces=true would refuse them, and every pushed lesson would fail."""
    agent = section(unit_text(agent_spec(exe=EXE, user="pi")), "Service")
    assert "RestrictNamespaces=user mnt pid net ipc uts cgroup" in agent
    for other in (
        console_spec(exe=EXE, user="teacher"),
        broker_spec(exe=EXE, user="teacher", config_dir=Path("/srv/broker")),
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
    ):
        (units / spec.unit_name).write_text(unit_text(spec))
    paths = sorted(str(p) for p in units.iterdir())
    done = subprocess.run(
        ["systemd-analyze", "verify", *paths],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    # systemd-analyze reports unknown settings on stderr without failing
    assert "Unknown key" not in done.stderr and "Unknown section" not in done.stderr, done.stderr
