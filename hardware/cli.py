"""``roboclass hw ...``: kit profiles and pre-flight checks."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from hardware.errors import HardwareError, KitError
from hardware.kit import kit_search_path, list_kits, load_kit
from rcbase import ConfigError, Lang, load_yaml

__all__ = ["hw"]

_STYLE = {"ok": "green", "warn": "yellow", "fail": "bold red"}


def _lang(ctx: click.Context) -> Lang:
    lang: Lang = (ctx.obj or {}).get("lang", "en")
    return lang


@click.group()
def hw() -> None:
    """Robot hardware: kit profiles and pre-flight checks."""


@hw.command()
@click.option("--json", "as_json", is_flag=True, help="Print the kits as JSON.")
@click.pass_context
def kits(ctx: click.Context, as_json: bool) -> None:
    """List the kit profiles (shipped and your own)."""
    from hardware.kit import KitProfile  # noqa: PLC0415

    lang = _lang(ctx)
    found = list_kits()
    broken = []
    for folder in kit_search_path():
        for path in sorted(folder.glob("*.yaml")):
            try:
                load_yaml(path, KitProfile)
            except ConfigError as exc:
                broken.append({"file": str(path), "error": exc.text(lang)})
    if as_json:
        rows = [
            {
                "name": k.name,
                "title": k.title.text()(lang),
                "backend": k.backend,
                "parts": {name: spec.kind for name, spec in k.parts.items()},
                "source": k.source,
            }
            for k in found
        ]
        click.echo(json.dumps({"kits": rows, "broken": broken}, ensure_ascii=False, indent=2))
        return
    table = Table("kit", "backend", "title", "parts")
    for k in found:
        table.add_row(k.name, k.backend, k.title.text()(lang), ", ".join(k.parts))
    console = Console()
    console.print(table)
    for b in broken:
        console.print(f"[red]broken kit file[/] {b['file']}:\n{b['error']}")


@hw.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.pass_context
def validate(ctx: click.Context, path: Path) -> None:
    """Check a kit profile file and point at every line that is wrong."""
    try:
        kit = load_kit(path)
    except KitError as exc:
        cause = exc.__cause__
        message = cause.text(_lang(ctx)) if isinstance(cause, ConfigError) else str(exc)
        raise click.ClickException(message) from exc
    click.echo(f"{path}: ok ({kit.name}, {kit.backend}, parts: {', '.join(kit.parts) or 'none'})")


@hw.command()
@click.option(
    "--kit",
    "kit_name",
    default=None,
    help="Kit profile name or file (default: the robot's settings).",
)
@click.option(
    "--backend",
    default=None,
    type=click.Choice(["gpio", "bridge", "sim"]),
    help="Override the kit's backend.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@click.pass_context
def check(ctx: click.Context, kit_name: str | None, backend: str | None, as_json: bool) -> None:
    """Pre-flight: exercise every part of the robot and say what to fix.

    Exits with status 1 when any part fails.
    """
    from hardware.preflight import run_preflight  # noqa: PLC0415 - opens hardware
    from hardware.robot import Robot  # noqa: PLC0415

    lang = _lang(ctx)
    try:
        with Robot(kit_name, backend=backend) as robot:
            results = run_preflight(robot)
            header = {"kit": robot.kit.name, "backend": robot.backend.name}
    except HardwareError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(
            json.dumps(
                {**header, "checks": [r.as_dict(lang) for r in results]},
                ensure_ascii=False,
                indent=2,
            )
        )
    else:
        table = Table(
            "part", "status", "seen", "advice", title=f"{header['kit']} ({header['backend']})"
        )
        for r in results:
            table.add_row(
                r.part, f"[{_STYLE[r.status]}]{r.status}[/]", r.detail(lang), r.advice(lang)
            )
        Console().print(table)
    if any(r.status == "fail" for r in results):
        ctx.exit(1)
