"""``roboclass teach ...``: the datasets on this robot, and training a model from one."""

from __future__ import annotations

import json
from pathlib import Path

import click

from models import ModelError
from rcbase import Lang
from vision.teach.dataset import Dataset, datasets
from vision.teach.errors import TeachError
from vision.teach.model import train as train_model

__all__ = ["teach"]


@click.group()
def teach() -> None:
    """Teach the robot from your own pictures: datasets, train, export."""


@teach.command("datasets")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
def list_datasets(as_json: bool) -> None:
    """The datasets on this robot and how many pictures each label has."""
    found = {name: Dataset(name).counts() for name in datasets()}
    if as_json:
        click.echo(json.dumps(found, ensure_ascii=False, indent=2))
        return
    for name, counts in found.items():
        click.echo(f"{name}: " + ", ".join(f"{k} {n}" for k, n in counts.items()))


@teach.command()
@click.argument("dataset")
@click.option("--name", help="Model name (default: the dataset's name).")
@click.option("--confusion", type=click.Path(path_type=Path), help="Save the confusion picture.")
@click.option("--no-export", is_flag=True, help="Only train and report; write no model.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.pass_context
def train(
    ctx: click.Context,
    dataset: str,
    name: str | None,
    confusion: Path | None,
    no_export: bool,
    as_json: bool,
) -> None:
    """Train a model on DATASET, report its accuracy, and export it for Classifier."""
    lang: Lang = (ctx.obj or {}).get("lang", "en")
    try:
        with train_model(Dataset(dataset)) as model:
            if confusion is not None:
                model.save_confusion(confusion, lang=lang)
            entry = None if no_export else model.export(name)
    except (TeachError, ModelError) as exc:
        raise click.ClickException(exc.text(lang)) from exc
    result = {
        "dataset": dataset,
        "model": entry.name if entry else None,
        "path": str(entry.model_path) if entry else None,
        "accuracy": model.report.accuracy,
        "per_label": model.report.per_label(),
        "confusion": model.report.confusion,
        "labels": list(model.report.labels),
        "seconds": round(model.timing.total, 3),
    }
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    click.echo(str(model.report))
    if entry is not None:
        click.echo(f"model {entry.name}: {entry.model_path}")
