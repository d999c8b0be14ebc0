"""``roboclass sim ...``: run student code in the simulator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

__all__ = ["sim"]


@click.group()
def sim() -> None:
    """The simulator: run a student's script, list the worlds."""


@sim.command()
@click.option("--json", "as_json", is_flag=True, help="Print the worlds as JSON.")
def worlds(as_json: bool) -> None:
    """List the simulator's worlds."""
    from hardware.sim import list_worlds, load_world, world_path  # noqa: PLC0415

    rows: list[dict[str, Any]] = []
    for name in list_worlds():
        model = load_world(world_path(name)).model
        rows.append(
            {"name": name, "size_m": list(model.size), "starts": [s.name for s in model.start]}
        )
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table("world", "size (m)", "starts")
    for r in rows:
        table.add_row(r["name"], " x ".join(f"{v:g}" for v in r["size_m"]), ", ".join(r["starts"]))
    Console().print(table)


@sim.command()
@click.argument("script", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--world", default=None, help="World name or file (default: the kit's world).")
@click.option("--kit", default="sim", show_default=True, help="Kit profile of the simulated robot.")
@click.option(
    "--fast/--realtime", default=True, help="Simulated time (fast, default) or wall-clock time."
)
@click.option(
    "--duration", type=float, default=None, help="Stop after this many simulated seconds."
)
@click.option(
    "--timeout",
    type=float,
    default=300.0,
    show_default=True,
    help="Stop after this many wall seconds.",
)
@click.option(
    "--record",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the top-down and camera views to a video: .mp4 or .gif.",
)
@click.option("--view", is_flag=True, help="Watch the run live in a browser (implies --realtime).")
@click.option(
    "--view-port",
    type=int,
    default=8765,
    show_default=True,
    help="Port of the --view page on 127.0.0.1.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the run summary as JSON.")
@click.pass_context
def run(
    ctx: click.Context,
    script: Path,
    world: str | None,
    kit: str,
    fast: bool,
    duration: float | None,
    timeout: float,
    record: Path | None,
    view: bool,
    view_port: int,
    as_json: bool,
) -> None:
    """Run SCRIPT (unchanged student code) with a simulated robot.

    Exits with the script's exit status.
    """
    from hardware.simrun import ScriptStatus, run_script  # noqa: PLC0415

    if record is not None and record.suffix.lower() not in (".mp4", ".gif"):
        raise click.BadParameter("use a .mp4 or .gif file", param_hint="--record")
    if view:
        fast = False
        click.echo(f"view: http://127.0.0.1:{view_port}/", err=as_json)
    summary = run_script(
        script,
        world=world,
        kit=kit,
        fast=fast,
        duration=duration,
        timeout=timeout,
        record=record,
        view_port=view_port if view else None,
    )
    if as_json:
        data = summary.as_dict()
        data.pop("output")
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        click.echo(summary.output, nl=False)
        console = Console()
        console.print(
            f"[bold]{summary.status}[/] in world {summary.world}: {summary.sim_seconds:.1f} sim s in "
            f"{summary.wall_seconds:.2f} wall s ({summary.real_time_factor:.1f}x real time)"
        )
        for r in summary.robots:
            laps = ", ".join(f"{t:.1f} s" for t in r["laps"]) or "none"
            console.print(
                f"  drove {r['distance_m']:.2f} m, collisions {len(r['collisions'])}, laps {laps}"
            )
        if summary.error:
            console.print(f"[red]{summary.error}[/]")
        if summary.recording:
            console.print(f"recording: {summary.recording}")
    ctx.exit(summary.exit_code if summary.status is not ScriptStatus.TIMEOUT else 124)
