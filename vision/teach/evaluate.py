"""Check a model on pictures it has never seen: accuracy per label and a confusion matrix.

::

    from vision.teach import Dataset, evaluate

    check = evaluate("my-signs", Dataset("my-signs-test"))   # pictures taken another day
    print(check.report)              # accuracy 93% on 30 pictures (stop 100%, ...)
    check.skipped                    # pictures of labels the model does not know

The model is run as an exported ONNX model, with :class:`vision.Classifier`,
exactly as a lesson would run it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from models import Label, Registry
from vision.runners import Classifier
from vision.teach.dataset import Dataset
from vision.teach.head import Report

__all__ = ["Evaluation", "evaluate"]


@dataclass(frozen=True)
class Evaluation:
    """What :func:`evaluate` found: a :class:`Report` over the model's labels."""

    model: str
    dataset: str
    report: Report
    labels: list[Label]  # the model's, with their English and Chinese names
    skipped: dict[str, int]  # pictures per label the model does not know


def evaluate(
    model: str | Path, dataset: Dataset, *, registry: Registry | None = None
) -> Evaluation:
    """Run ``model`` (a name, or a path to its .onnx/.yaml) on every picture of ``dataset``."""
    with Classifier(model, threads=1, registry=registry) as classifier:
        labels = classifier.labels
        matrix = np.zeros((len(labels), len(labels)), np.int64)
        skipped: dict[str, int] = {}
        for label, frame in dataset.pictures():
            if label not in labels:
                skipped[label] = skipped.get(label, 0) + 1
                continue
            matrix[labels.index(label), labels.index(classifier(frame).label)] += 1
        name, known = classifier.manifest.name, list(classifier.manifest.labels)
    checked = int(matrix.sum())
    report = Report(
        labels=tuple(labels),
        confusion=tuple(tuple(int(v) for v in row) for row in matrix),
        trained_on=0,
        checked_on=checked,
    )
    return Evaluation(name, dataset.name, report, known, skipped)
