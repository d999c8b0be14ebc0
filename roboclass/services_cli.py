"""``roboclass service install agent|console|broker|district|district-broker``: write units.

``roboclass agent install`` and ``roboclass console install`` are the same
commands (:data:`roboclass.cli.ALIASES` sends them here).
"""

from __future__ import annotations

import grp
import json
import os
import pwd
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import click

from rcbase.files import write_atomic
from roboclass.services import (
    AGENT_GROUPS,
    DEFAULT_DATA_DIR,
    DEFAULT_ENV_DIR,
    DEFAULT_UNIT_DIR,
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

__all__ = ["service"]


def _default_user() -> str:
    """Who ran the command (through sudo: who ran sudo)."""
    return os.environ.get("SUDO_USER") or pwd.getpwuid(os.getuid()).pw_name


def _this_roboclass() -> Path:
    """The ``roboclass`` of the venv this command runs from."""
    return Path(sys.prefix) / "bin" / "roboclass"


def _existing_groups(wanted: tuple[str, ...]) -> tuple[list[str], list[str]]:
    have, missing = [], []
    for name in wanted:
        try:
            grp.getgrnam(name)
        except KeyError:
            missing.append(name)
        else:
            have.append(name)
    return have, missing


@click.group()
def service() -> None:
    """Install the agent, console, broker and district as systemd services."""


def _options(func: click.decorators.FC) -> click.decorators.FC:
    """The options every ``install`` command has."""
    for decorator in reversed(
        [
            click.option(
                "--user",
                default=None,
                help="Who the service runs as (default: who ran the command; never root).",
            ),
            click.option(
                "--unit-dir",
                type=click.Path(file_okay=False, path_type=Path),
                default=DEFAULT_UNIT_DIR,
                show_default=True,
            ),
            click.option(
                "--env-dir",
                type=click.Path(file_okay=False, path_type=Path),
                default=DEFAULT_ENV_DIR,
                show_default=True,
                help="Where the settings files go (made once, never overwritten).",
            ),
            click.option(
                "--exe",
                type=click.Path(dir_okay=False, path_type=Path),
                default=None,
                help="The roboclass program (default: this venv's).",
            ),
            click.option(
                "--dry-run", is_flag=True, help="Print the files instead of writing them."
            ),
            click.option("--json", "as_json", is_flag=True, help="Print what was done as JSON."),
        ]
    ):
        func = decorator(func)
    return func


_DATA_DIR = click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_DATA_DIR,
    show_default=True,
    help="The only folder the service may write.",
)


@service.group()
def install() -> None:
    """Write a service's systemd unit and its settings file."""


def _install(
    spec: ServiceSpec, unit_dir: Path, dry_run: bool, as_json: bool, notes: list[str]
) -> None:
    unit_path = unit_dir / spec.unit_name
    unit = unit_text(spec)
    env_new = not spec.env_file.exists()
    facts = {
        "unit": str(unit_path),
        "settings": str(spec.env_file),
        "settings_written": env_new and not dry_run,
        "data_dir": str(spec.data_dir),
        "dry_run": dry_run,
        "notes": notes,
        "next": [
            f"edit {spec.env_file}",
            "systemctl daemon-reload",
            f"systemctl enable --now {spec.unit_name}",
        ],
    }
    if dry_run:
        if as_json:
            click.echo(
                json.dumps({**facts, "unit_text": unit, "settings_text": environment_text(spec)})
            )
            return
        click.echo(f"# {unit_path}")
        click.echo(unit, nl=False)
        click.echo(f"\n# {spec.env_file}" + ("" if env_new else " (exists: kept as it is)"))
        click.echo(environment_text(spec), nl=False)
        for note in notes:
            click.echo(f"note: {note}", err=True)
        return
    try:
        unit_dir.mkdir(parents=True, exist_ok=True)
        unit_path.write_text(unit, encoding="utf-8")
        if env_new:
            spec.env_file.parent.mkdir(parents=True, exist_ok=True)
            # The settings may hold a key or a password: readable by root (systemd reads
            # it) only, from the first byte.
            write_atomic(spec.env_file, environment_text(spec).encode(), 0o600)
        spec.data_dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            user = pwd.getpwnam(spec.user)
            shutil.chown(spec.data_dir, user.pw_uid, user.pw_gid)
    except PermissionError as exc:
        raise click.ClickException(
            f"cannot write {exc.filename}: run it with sudo, or use --dry-run to see the files"
            f" / 无法写入 {exc.filename}：请用 sudo 运行，或加 --dry-run 只看文件内容"
        ) from exc
    except KeyError as exc:
        raise click.ClickException(
            f"there is no user {spec.user} on this computer: make one "
            f"(sudo adduser --system --group {spec.user}) or choose --user"
            f" / 本机没有用户 {spec.user}：先建一个（sudo adduser --system --group "
            f"{spec.user}）或用 --user 换一个"
        ) from exc
    if as_json:
        click.echo(json.dumps(facts))
        return
    click.echo(f"wrote {unit_path}")
    click.echo(f"settings: {spec.env_file}" + (" (new)" if env_new else " (kept as it was)"))
    for note in notes:
        click.echo(f"note: {note}")
    click.echo("next: " + "; ".join(facts["next"]))  # type: ignore[arg-type]


def _spec_or_fail(make: Callable[[], ServiceSpec]) -> ServiceSpec:
    try:
        return make()
    except ServiceError as exc:
        raise click.ClickException(str(exc)) from exc


@install.command("agent")
@_options
@_DATA_DIR
def install_agent(
    user: str | None,
    unit_dir: Path,
    env_dir: Path,
    data_dir: Path,
    exe: Path | None,
    dry_run: bool,
    as_json: bool,
) -> None:
    """The fleet agent on a robot (joins the dialout, video and gpio groups).

    It starts unclaimed and waits for the console (--enrol) until it has credentials.
    """
    groups, missing = _existing_groups(AGENT_GROUPS)
    notes = []
    if missing:
        notes.append(
            f"this computer has no group {', '.join(missing)}: left out of SupplementaryGroups"
        )
    spec = _spec_or_fail(
        lambda: agent_spec(
            exe=exe or _this_roboclass(),
            user=user or _default_user(),
            data_dir=data_dir,
            env_dir=env_dir,
            groups=groups,
        )
    )
    _install(spec, unit_dir, dry_run, as_json, notes)


@install.command("console")
@click.option(
    "--classroom",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The folder `roboclass broker config` made: join that broker and enrol robots.",
)
@_options
@_DATA_DIR
def install_console(
    classroom: Path | None,
    user: str | None,
    unit_dir: Path,
    env_dir: Path,
    data_dir: Path,
    exe: Path | None,
    dry_run: bool,
    as_json: bool,
) -> None:
    """The teacher's console on the hub (or the teacher's PC)."""
    spec = _spec_or_fail(
        lambda: console_spec(
            exe=exe or _this_roboclass(),
            user=user or _default_user(),
            data_dir=data_dir,
            env_dir=env_dir,
            classroom=None if classroom is None else classroom.absolute(),
        )
    )
    _install(spec, unit_dir, dry_run, as_json, [])


@install.command("broker")
@click.option(
    "--config",
    "config_dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="The folder `roboclass broker config` made.",
)
@_options
def install_broker(
    config_dir: Path,
    user: str | None,
    unit_dir: Path,
    env_dir: Path,
    exe: Path | None,
    dry_run: bool,
    as_json: bool,
) -> None:
    """The classroom broker (Mosquitto with TLS) on the hub."""
    spec = _spec_or_fail(
        lambda: broker_spec(
            exe=exe or _this_roboclass(),
            user=user or _default_user(),
            config_dir=config_dir.absolute(),
            env_dir=env_dir,
        )
    )
    _install(spec, unit_dir, dry_run, as_json, [])


def _broker_folder(config_dir: Path, inside: str = "") -> Path:
    """The folder `roboclass district broker-config` made, absolute; refused if it is not one."""
    folder = config_dir.absolute()
    missing = [
        name
        for name, there in (("mosquitto.conf", (folder / "mosquitto.conf").is_file()),
                            (f"{inside}/", not inside or (folder / inside).is_dir()))
        if not there
    ]  # fmt: skip
    if missing:
        raise click.ClickException(
            f"{folder} is not a district broker's folder (no {' or '.join(missing)}): make it "
            f"first with `roboclass district broker-config --out {folder} --host NAME` / "
            f"{folder} 不是区级 broker 的配置文件夹（没有 {'、'.join(missing)}）：先运行 "
            f"`roboclass district broker-config --out {folder} --host 域名`"
        )
    return folder


def _owner_note(folder: Path, user: str) -> list[str]:
    """A note when the service's user does not own the broker's folder (its keys are private)."""
    try:
        owner = pwd.getpwuid(folder.stat().st_uid).pw_name
    except (KeyError, OSError):
        return []
    if owner == user:
        return []
    return [
        f"{folder} belongs to {owner}; the service runs as {user} and must read it: "
        f"sudo chown -R {user}: {folder} / 该文件夹属于 {owner}，服务以 {user} 运行，"
        f"需要能读它：sudo chown -R {user}: {folder}"
    ]


def _private_settings(spec: ServiceSpec) -> list[str]:
    """A note when an existing settings file (it holds a password) is readable by others."""
    try:
        mode = spec.env_file.stat().st_mode & 0o777
    except OSError:
        return []
    if not mode & 0o077:
        return []
    return [
        f"{spec.env_file} (mode {mode:o}) holds the database's password: sudo chmod 600 "
        f"{spec.env_file} / 该文件含数据库密码，请执行 sudo chmod 600 {spec.env_file}"
    ]


@install.command("district")
@click.option(
    "--broker-config",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The folder `roboclass district broker-config` made: join that broker (DIR/service).",
)
@_options
@_DATA_DIR
def install_district(
    broker_config: Path | None,
    user: str | None,
    unit_dir: Path,
    env_dir: Path,
    data_dir: Path,
    exe: Path | None,
    dry_run: bool,
    as_json: bool,
) -> None:
    """The district server (`roboclass district serve`).

    Its PostgreSQL URL and password go in ENV_DIR/district.env
    (ROBOCLASS_DISTRICT_STORE=), never on a command line or in the unit.
    """
    folder = None if broker_config is None else _broker_folder(broker_config, "service")
    who = user or _default_user()
    spec = _spec_or_fail(
        lambda: district_spec(
            exe=exe or _this_roboclass(),
            user=who,
            data_dir=data_dir,
            env_dir=env_dir,
            broker_config=folder,
        )
    )
    notes = [] if folder is None else _owner_note(folder / "service", who)
    _install(spec, unit_dir, dry_run, as_json, notes + _private_settings(spec))


@install.command("district-broker")
@click.option(
    "--config",
    "config_dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="The folder `roboclass district broker-config` made.",
)
@_options
def install_district_broker(
    config_dir: Path,
    user: str | None,
    unit_dir: Path,
    env_dir: Path,
    exe: Path | None,
    dry_run: bool,
    as_json: bool,
) -> None:
    """The district's broker (Mosquitto with TLS); `systemctl reload` reads its ACL again."""
    folder = _broker_folder(config_dir)
    who = user or _default_user()
    spec = _spec_or_fail(
        lambda: district_broker_spec(
            exe=exe or _this_roboclass(), user=who, config_dir=folder, env_dir=env_dir
        )
    )
    _install(spec, unit_dir, dry_run, as_json, _owner_note(folder, who))
