"""``roboclass teach ...``: collect pictures, train, export and evaluate your own model.

::

    roboclass teach collect my-signs stop --count 20          # from the robot's camera
    roboclass teach collect my-signs go --images ~/photos/go  # or from picture files
    roboclass teach train my-signs --confusion mix-ups.png    # train, report, export
    roboclass teach export my-signs --name my-signs --zh 我的标志
    roboclass teach evaluate my-signs my-signs-test           # on pictures taken separately

Every command takes ``--json`` (one JSON document on stdout, nothing else).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import click
import cv2
import numpy as np

from models import ModelEntry, ModelError
from rcbase import Lang, Text
from vision.preprocess import Frame
from vision.teach.capture import capture, capture_on_button
from vision.teach.dataset import Dataset, datasets
from vision.teach.errors import DatasetError, TeachError
from vision.teach.evaluate import evaluate as evaluate_model
from vision.teach.model import TrainedModel
from vision.teach.model import train as train_model
from vision.teach.picture import save_confusion

__all__ = ["teach"]

_IMAGES = (".jpg", ".jpeg", ".png", ".bmp")
JSON = click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")


def _lang(ctx: click.Context) -> Lang:
    lang: Lang = (ctx.obj or {}).get("lang", "en")
    return lang


def _dump(doc: Any) -> None:
    click.echo(json.dumps(doc, ensure_ascii=False, indent=2))


@click.group()
def teach() -> None:
    """Teach the robot: collect pictures, train, export, evaluate."""


@teach.command("datasets")
@JSON
def list_datasets(as_json: bool) -> None:
    """The datasets on this robot and how many pictures each label has."""
    found = {name: Dataset(name).counts() for name in datasets()}
    if as_json:
        _dump(found)
        return
    for name, counts in found.items():
        click.echo(f"{name}: " + ", ".join(f"{k} {n}" for k, n in counts.items()))


def _from_files(data: Dataset, label: str, folder: Path, count: int | None, zh: str | None) -> int:
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in _IMAGES)[:count]
    if not files:
        raise DatasetError(
            Text(f"no pictures (.jpg, .png) in {folder}", f"{folder} 里没有图片（.jpg、.png）")
        )
    for path in files:
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            raise DatasetError(Text(f"{path} is not a picture", f"{path} 不是图片"))
        data.add(label, np.asarray(image, np.uint8), zh=zh)
    return len(files)


def _from_camera(
    data: Dataset,
    label: str,
    count: int,
    every: float,
    zh: str | None,
    button: bool,
    timeout: float | None,
    robot_options: dict[str, Any],
    progress: bool,
) -> int:
    from hardware import Robot  # noqa: PLC0415 - only when the camera is used

    def show(label: str, _frame: Frame, counts: dict[str, int]) -> None:
        if progress:
            click.echo(f"{label}: {counts[label]}", err=True)

    before = data.counts().get(label, 0)
    with Robot(**robot_options) as robot:
        if "camera" not in robot.parts:
            raise DatasetError(
                Text(
                    f"the kit {robot.kit.name!r} has no camera",
                    f"套件 {robot.kit.name!r} 没有摄像头",
                )
            )
        if button:
            after = capture_on_button(
                data, robot, label, count, zh=zh, timeout=timeout, on_picture=show
            )
        else:
            after = capture(data, robot.camera, label, count, every, zh=zh, on_picture=show)
    return after - before


@teach.command()
@click.argument("dataset")
@click.argument("label")
@click.option("--count", type=click.IntRange(1, 1000), default=None, help="Pictures (default 20).")
@click.option("--every", type=click.FloatRange(0), default=0.2, show_default=True, help="Seconds.")
@click.option("--zh", default=None, help="The label's Chinese name.")
@click.option("--button", is_flag=True, help="One picture per press of the robot's button.")
@click.option("--timeout", type=float, default=None, help="With --button: give up after s.")
@click.option(
    "--images",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Take the pictures from this folder instead of the camera.",
)
@click.option("--world", default=None, help="Simulator: the world (name or file).")
@click.option("--start", default=None, help="Simulator: a start pose of the world.")
@JSON
@click.pass_context
def collect(
    ctx: click.Context,
    dataset: str,
    label: str,
    count: int | None,
    every: float,
    zh: str | None,
    button: bool,
    timeout: float | None,
    images: Path | None,
    world: str | None,
    start: str | None,
    as_json: bool,
) -> None:
    """Add pictures of LABEL to DATASET: from the robot's camera, or from --images."""
    lang = _lang(ctx)
    sim: dict[str, Any] = {"kit": "sim", "backend": "sim", "realtime": False}
    robot_options = (sim | {"world": world, "start": start}) if world else {}
    try:
        data = Dataset(dataset)
        if images is not None:
            added = _from_files(data, label, images, count, zh)
        else:
            added = _from_camera(
                data,
                label,
                count or 20,
                every,
                zh,
                button,
                timeout,
                robot_options,
                progress=not as_json,
            )
    except TeachError as exc:
        raise click.ClickException(exc.text(lang)) from exc
    doc = {"dataset": dataset, "label": label, "added": added, "counts": data.counts()}
    if as_json:
        _dump(doc | {"folder": str(data.folder)})
        return
    click.echo(f"{dataset}: " + ", ".join(f"{k} {n}" for k, n in data.counts().items()))


def _trained(
    model: TrainedModel, dataset: str, entry: ModelEntry | None, export_s: float
) -> dict[str, Any]:
    t = model.timing
    doc: dict[str, Any] = {
        "dataset": dataset,
        "model": entry.name if entry else None,
        "path": str(entry.model_path) if entry else None,
        "accuracy": model.report.accuracy,
        "per_label": model.report.per_label(),
        "confusion": model.report.confusion,
        "labels": list(model.report.labels),
        "seconds": round(t.total, 3),  # reading pictures + features + the head
        "timing": {
            "read": round(t.read, 3),
            "features": round(t.features, 3),
            "head": round(t.head, 3),
            "export": round(export_s, 3),
        },
    }
    if entry is not None:
        doc["manifest"] = str(entry.manifest_path)
        doc["sha256"] = entry.manifest.sha256
        doc["size"] = entry.model_path.stat().st_size
    return doc


def _train(
    ctx: click.Context,
    dataset: str,
    confusion: Path | None,
    export: dict[str, Any] | None,
) -> dict[str, Any]:
    """Train on ``dataset``; with ``export`` (name, zh, folder), write the model too."""
    lang = _lang(ctx)
    try:
        with train_model(Dataset(dataset)) as model:
            if confusion is not None:
                model.save_confusion(confusion, lang=lang)
            started = time.perf_counter()
            entry = None if export is None else model.export(**export)
            export_s = time.perf_counter() - started
    except (TeachError, ModelError) as exc:
        raise click.ClickException(exc.text(lang)) from exc
    doc = _trained(model, dataset, entry, export_s)
    doc["report"] = str(model.report)
    return doc


def _say(doc: dict[str, Any], as_json: bool) -> None:
    if as_json:
        _dump({k: v for k, v in doc.items() if k != "report"})
        return
    click.echo(doc["report"])
    if doc["model"] is not None:
        click.echo(f"model {doc['model']}: {doc['path']} (sha256 {doc['sha256'][:12]})")


@teach.command()
@click.argument("dataset")
@click.option("--name", help="Model name (default: the dataset's name).")
@click.option("--confusion", type=click.Path(path_type=Path), help="Save the confusion picture.")
@click.option("--no-export", is_flag=True, help="Only train and report; write no model.")
@JSON
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
    _say(_train(ctx, dataset, confusion, None if no_export else {"name": name}), as_json)


@teach.command()
@click.argument("dataset")
@click.option("--name", help="Model name (default: the dataset's name).")
@click.option("--zh", default=None, help="The model's Chinese title.")
@click.option(
    "--folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Write it here (default: this robot's model folder, where Classifier finds it).",
)
@click.option("--confusion", type=click.Path(path_type=Path), help="Save the confusion picture.")
@JSON
@click.pass_context
def export(
    ctx: click.Context,
    dataset: str,
    name: str | None,
    zh: str | None,
    folder: Path | None,
    confusion: Path | None,
    as_json: bool,
) -> None:
    """Train on DATASET and save the model as one ONNX file with its manifest.

    `roboclass fleet push-model NAME` then sends it to other robots.
    """
    _say(_train(ctx, dataset, confusion, {"name": name, "zh": zh, "folder": folder}), as_json)


@teach.command()
@click.argument("model")
@click.argument("dataset")
@click.option("--confusion", type=click.Path(path_type=Path), help="Save the confusion picture.")
@JSON
@click.pass_context
def evaluate(
    ctx: click.Context, model: str, dataset: str, confusion: Path | None, as_json: bool
) -> None:
    """Run MODEL on every picture of DATASET (taken separately) and say how it did."""
    lang = _lang(ctx)
    try:
        data = Dataset(dataset)
        if not len(data):
            raise DatasetError(
                Text(f"dataset {dataset!r} has no pictures", f"数据集 {dataset!r} 没有图片")
            )
        found = evaluate_model(model, data)
        report = found.report
        if confusion is not None:
            save_confusion(report, [x.name(lang) for x in found.labels], confusion, lang)
    except (TeachError, ModelError) as exc:
        raise click.ClickException(exc.text(lang)) from exc
    doc = {
        "model": found.model,
        "dataset": dataset,
        "accuracy": report.accuracy,
        "per_label": report.per_label(),
        "confusion": report.confusion,
        "labels": list(report.labels),
        "pictures": report.checked_on,
        "skipped": found.skipped,
    }
    if as_json:
        _dump(doc)
        return
    click.echo(f"{found.model} on {dataset}: {report}")
    for label, n in found.skipped.items():
        click.echo(f"skipped {n} pictures of {label!r}: the model does not know it", err=True)
