"""``roboclass offline bundle``: everything a classroom installs, for a LAN with no internet."""

from __future__ import annotations

import json
from pathlib import Path

import click

from roboclass.offline import DEFAULT_ROBOT_PYTHON, SIDES, OfflineError, Target, build_bundle

__all__ = ["offline"]


def _split(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


@click.group()
def offline() -> None:
    """Install with no internet: wheel bundles for the robots and the hub."""


@offline.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="A new folder for the bundle.",
)
@click.option(
    "--robot-python",
    default=DEFAULT_ROBOT_PYTHON,
    show_default=True,
    help="The robots' Python (Raspberry Pi OS 12: 3.11; 13: 3.13).",
)
@click.option(
    "--platform",
    "platforms",
    multiple=True,
    help="A pip platform tag of the robots (repeat it); default: manylinux_2_36 down to "
    "manylinux2014, aarch64.",
)
@click.option("--robot-extras", default="pi", show_default=True, help="Extras for the robots.")
@click.option("--console-extras", default="console", show_default=True, help="Extras for the hub.")
@click.option(
    "--robot-pin",
    "robot_pins",
    multiple=True,
    help="Another pin for the robots only, e.g. numpy==1.26.4 (see docs/offline-install.md).",
)
@click.option(
    "--constraints",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="Pinned versions (default: the checkout's constraints.txt).",
)
@click.option(
    "--wheel",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="Use this roboclass wheel instead of building one from the checkout.",
)
@click.option(
    "--extra-wheels",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=None,
    help="A folder of wheels you built on a robot (for packages with no wheel on the index).",
)
@click.option(
    "--robot-only",
    is_flag=True,
    help="Only the robots' wheelhouse (robot/): no console side to build or copy.",
)
@click.option("--hub-only", is_flag=True, help="Only the hub's wheelhouse (console/).")
@click.option("--json", "as_json", is_flag=True, help="Print what was made as JSON.")
def bundle(
    out: Path,
    robot_python: str,
    platforms: tuple[str, ...],
    robot_extras: str,
    console_extras: str,
    robot_pins: tuple[str, ...],
    constraints: Path | None,
    wheel: Path | None,
    extra_wheels: Path | None,
    robot_only: bool,
    hub_only: bool,
    as_json: bool,
) -> None:
    """Build wheelhouses for the robots (aarch64) and the hub, install scripts and a manifest.

    Runs on a PC with internet; copy the folder to the robots and the hub.
    """
    if robot_only and hub_only:
        raise click.UsageError("--robot-only and --hub-only: choose one (neither: both sides)")
    sides = ("robot",) if robot_only else ("console",) if hub_only else SIDES
    try:
        made = build_bundle(
            out,
            robot=Target.robot(robot_python, platforms),
            robot_extras=_split(robot_extras),
            console_extras=_split(console_extras),
            robot_pins=robot_pins,
            constraints=constraints,
            wheel=wheel,
            extra_wheels=extra_wheels,
            sides=sides,
        )
    except OfflineError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        facts = {
            "root": str(out),
            "version": made.version,
            "complete": made.complete,
            "sides": {side.name: side.as_dict() for side in made.sides},
        }
        click.echo(json.dumps(facts))
    else:
        for side in made.sides:
            target = side.target
            click.echo(
                f"{side.name}: {len(side.wheels)} wheels for Python {target.python} on "
                f"{target.machine} in {out / side.name}/wheels; install with "
                f"{out / side.name}/install.sh"
            )
        click.echo(f"Debian packages: {out}/debian-packages.txt; checksums: {out}/manifest.json")
        for missing in made.missing:
            click.echo(f"NO WHEEL: {missing.advice}", err=True)
    if not made.complete:
        raise click.ClickException(
            "the bundle is incomplete: a package has neither a wheel nor a source (above)"
        )
