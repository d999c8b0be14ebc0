"""``roboclass doctor [--json]``."""

from __future__ import annotations

import json

import click
from rich.console import Console
from rich.table import Table

from rcbase.i18n import Lang
from roboclass.doctor import Status, System, run_checks
from roboclass.doctor_base import detect_setup
from roboclass.doctor_roles import Role

__all__ = ["doctor"]

_STYLE = {Status.OK: "green", Status.WARN: "yellow", Status.FAIL: "bold red"}
_HEAD = {
    "en": ("check", "status", "what was seen", "what to do"),
    "zh": ("检查项", "状态", "检查结果", "建议"),
}


@click.command()
@click.option(
    "--role",
    type=click.Choice([r.value for r in Role]),
    default=None,
    help="What this computer is (default: what the offline bundle's install.sh wrote, "
    "else a guess). A robot is not asked for Mosquitto or simavr.",
)
@click.option(
    "--kit",
    default=None,
    help="The robot's kit (default: install.sh's, else the robot's settings); "
    "picamera2 is needed only for a kit with the Pi camera.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@click.pass_context
def doctor(ctx: click.Context, role: str | None, kit: str | None, as_json: bool) -> None:
    """Check this computer and say how to fix what is wrong.

    Looks at Python, installed extras, onnxruntime, the camera, serial-port
    permissions, brltty, Mosquitto, simavr, the sandbox, free disk and the
    clock: those this computer's role needs (robot, hub or maintainer's PC).
    Exits with status 1 when any check fails.
    """
    lang: Lang = (ctx.obj or {}).get("lang", "en")
    results = run_checks(System(setup=detect_setup(role, kit)))
    if as_json:
        click.echo(json.dumps([r.as_dict(lang) for r in results], ensure_ascii=False, indent=2))
    else:
        table = Table(*_HEAD[lang], show_lines=False)
        for r in results:
            table.add_row(
                r.check, f"[{_STYLE[r.status]}]{r.status.value}[/]", r.detail(lang), r.advice(lang)
            )
        Console().print(table)
    if any(r.status is Status.FAIL for r in results):
        ctx.exit(1)
