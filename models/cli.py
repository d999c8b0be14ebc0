"""``roboclass models ...``: list, check and add ONNX models."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from models.add import NORMALISE_PRESETS, OUTPUT_FORMAT, add_model
from models.errors import ModelError
from models.manifest import ColourOrder, Resize, Task
from models.registry import ModelEntry, Registry, verify
from rcbase import Lang

__all__ = ["models"]


def _lang(ctx: click.Context) -> Lang:
    lang: Lang = (ctx.obj or {}).get("lang", "en")
    return lang


def _row(e: ModelEntry, lang: Lang) -> dict[str, Any]:
    m = e.manifest
    return {
        "name": m.name,
        "version": m.version,
        "task": m.task,
        "title": m.title.text()(lang),
        "origin": e.origin,
        "manifest": str(e.manifest_path),
        "file": str(e.model_path),
        "sha256": m.sha256,
        "labels": [{"id": lb.id, "en": lb.en, "zh": lb.zh} for lb in m.labels],
        "accuracy": [a.model_dump() for a in m.accuracy],
    }


@click.group()
def models() -> None:
    """Vision models: list, check and add ONNX models."""


@models.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.pass_context
def list_(ctx: click.Context, as_json: bool) -> None:
    """List the models on this computer (and manifests that are broken)."""
    lang = _lang(ctx)
    registry = Registry()
    broken = registry.scan()[1]
    entries = registry.entries()
    bad = [{"manifest": str(b.path), "error": b.error.text(lang)} for b in broken]
    if as_json:
        doc = {"models": [_row(e, lang) for e in entries], "broken": bad}
        click.echo(json.dumps(doc, ensure_ascii=False, indent=2))
        return
    table = Table("name", "version", "task", "title", "labels", "from")
    for e in entries:
        m = e.manifest
        labels = ", ".join(lb.name(lang) for lb in m.labels)
        table.add_row(m.name, m.version, m.task, m.title.text()(lang), labels, e.origin)
    console = Console()
    console.print(table)
    for b in bad:
        console.print(f"[red]broken manifest[/] {b['manifest']}:\n{b['error']}")


@models.command()
@click.argument("model")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.pass_context
def info(ctx: click.Context, model: str, as_json: bool) -> None:
    """Show everything a model's manifest says."""
    lang = _lang(ctx)
    try:
        entry = Registry().find(model)
    except ModelError as exc:
        raise click.ClickException(exc.text(lang)) from exc
    doc = _row(entry, lang) | {"manifest_fields": entry.manifest.model_dump(mode="json")}
    if as_json:
        click.echo(json.dumps(doc, ensure_ascii=False, indent=2))
        return
    m = entry.manifest
    console = Console()
    console.print(f"[bold]{m.name}[/] {m.version} — {m.title.text()(lang)} ({m.task})")
    console.print(f"file: {entry.model_path}  ({entry.origin})")
    i = m.input
    norm = i.normalise if isinstance(i.normalise, str) else i.normalise.model_dump()
    console.print(
        f"input: {i.width}x{i.height} {i.layout} {i.colour} {i.dtype} {i.resize}, normalise {norm}"
    )
    console.print("labels: " + ", ".join(f"{lb.id} ({lb.name(lang)})" for lb in m.labels))
    console.print(f"licence: {m.licence}; source: {m.source}")
    if m.made_by.script:
        console.print(f"made by: {m.made_by.script} from {m.made_by.data}")
    for a in m.accuracy:
        console.print(f"accuracy: {a.metric} = {a.value:.3f} on {a.dataset} ({a.samples} samples)")


@models.command("verify")
@click.argument("model", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.pass_context
def verify_(ctx: click.Context, model: str | None, as_json: bool) -> None:
    """Check sha256, input shape and labels of one model or of all (exit 1 if any is wrong)."""
    lang = _lang(ctx)
    registry = Registry()
    results: list[dict[str, Any]] = []
    try:
        entries = [registry.find(model)] if model else registry.entries()
    except ModelError as exc:
        raise click.ClickException(exc.text(lang)) from exc
    for e in entries:
        problems = [p(lang) for p in verify(e)]
        results.append({"name": e.name, "manifest": str(e.manifest_path), "problems": problems})
    if not model:
        for b in registry.scan()[1]:
            results.append(
                {"name": b.path.stem, "manifest": str(b.path), "problems": [b.error.text(lang)]}
            )
    ok = all(not r["problems"] for r in results)
    if as_json:
        click.echo(json.dumps({"ok": ok, "models": results}, ensure_ascii=False, indent=2))
    else:
        for r in results:
            status = "ok" if not r["problems"] else "FAIL"
            click.echo(f"{r['name']}: {status}")
            for p in r["problems"]:
                click.echo(f"  {p}")
    ctx.exit(0 if ok else 1)


@models.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--task", type=click.Choice([t.value for t in OUTPUT_FORMAT]), required=True)
@click.option(
    "--labels", required=True, help='"stop=停车,left=左转" or a file with one id=中文 per line.'
)
@click.option("--name", default=None, help="Model name (default: from the file name).")
@click.option(
    "--colour",
    type=click.Choice([ColourOrder.RGB.value, ColourOrder.BGR.value]),
    default=ColourOrder.RGB.value,
    show_default=True,
)
@click.option(
    "--normalise", type=click.Choice(sorted(NORMALISE_PRESETS)), default="0-1", show_default=True
)
@click.option(
    "--resize",
    type=click.Choice([r.value for r in Resize]),
    default=Resize.STRETCH.value,
    show_default=True,
)
@click.option("--licence", default="the teacher's own model", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.pass_context
def add(
    ctx: click.Context,
    path: Path,
    task: str,
    labels: str,
    name: str | None,
    colour: str,
    normalise: str,
    resize: str,
    licence: str,
    as_json: bool,
) -> None:
    """Add your own .onnx model (with a manifest) to this computer's models."""
    lang = _lang(ctx)
    try:
        entry = add_model(
            path,
            Task(task),
            labels,
            name=name,
            colour=ColourOrder(colour),
            normalise=normalise,
            resize=Resize(resize),
            licence=licence,
        )
    except (ModelError, ValueError) as exc:
        message = exc.text(lang) if isinstance(exc, ModelError) else str(exc)
        raise click.ClickException(message) from exc
    if as_json:
        click.echo(json.dumps(_row(entry, lang), ensure_ascii=False, indent=2))
    else:
        click.echo(f"added {entry.name}: {entry.model_path} + {entry.manifest_path.name}")
