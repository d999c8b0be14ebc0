"""``roboclass vision ...``: measure models on this computer."""

from __future__ import annotations

import json

import click
from rich.console import Console
from rich.table import Table

from models import ModelError, Registry
from rcbase import Lang
from vision.bench import BenchResult, bench_model, sample_frames
from vision.session import default_threads

__all__ = ["vision"]


@click.group()
def vision() -> None:
    """Vision on the robot: benchmark models on this computer."""


def bench_table(results: list[BenchResult]) -> Table:
    table = Table(
        "model", "threads", "raw fps", "pipeline fps", "pipeline/raw", "pinned fps",
        "serial fps", "pre ms", "post ms", "latency p50/p95 ms", "RSS MB",
    )  # fmt: skip
    for r in results:
        table.add_row(
            r.model, str(r.threads), f"{r.raw_fps:.0f}", f"{r.pipeline_fps:.0f}",
            f"{r.ratio:.2f}", f"{r.pinned_fps:.0f}", f"{r.serial_fps:.0f}",
            f"{r.pre_ms:.3f}", f"{r.post_ms:.3f}",
            f"{r.latency_ms_p50:.2f}/{r.latency_ms_p95:.2f}", f"{r.rss_mb:.0f}",
        )  # fmt: skip
    return table


@vision.command()
@click.argument("model")
@click.option("--threads", type=int, multiple=True, help="Inference threads (repeat to compare).")
@click.option("--seconds", type=float, default=2.0, show_default=True, help="Per measurement.")
@click.option(
    "--frames",
    type=click.IntRange(min=1),
    default=16,
    show_default=True,
    help="Camera frames taken from the simulator and shown to the model in turn.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.pass_context
def bench(
    ctx: click.Context,
    model: str,
    threads: tuple[int, ...],
    seconds: float,
    frames: int,
    as_json: bool,
) -> None:
    """Raw onnxruntime speed against the whole pipeline (camera -> result) for MODEL."""
    lang: Lang = (ctx.obj or {}).get("lang", "en")
    try:
        registry = Registry()
        registry.find(model)  # a wrong name is said at once, before the frames are made
        shown = sample_frames(frames)
        results = [
            bench_model(model, n, seconds, frames=shown, registry=registry)
            for n in threads or (default_threads(),)
        ]
    except ModelError as exc:
        raise click.ClickException(exc.text(lang)) from exc
    if as_json:
        click.echo(json.dumps([r.as_dict() for r in results], indent=2))
        return
    Console().print(bench_table(results))
