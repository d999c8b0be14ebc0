"""Train a model on a dataset in seconds, check it, and export it.

::

    from vision.teach import Dataset, train

    data = Dataset("my-signs")
    model = train(data)                    # features, then a small head: a few seconds
    print(model.report)                    # accuracy 95% on 15 pictures (go 100%, stop 90%)
    model.save_confusion("mix-ups.png")    # which labels it mixes up, as a picture
    label, score = model.predict(frame)    # try it straight away
    model.export()                         # now vision.Classifier("my-signs") works too

A quarter of each label's pictures (at least one) is kept back to check the
model; the model that is returned and exported then learns from all of them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from models import Bilingual, Label, MadeBy, Metric, ModelEntry, Registry
from models.manifest import Task
from rcbase import Lang, Text, detect_lang
from rcbase.closeable import Closeable
from vision.errors import RunnerClosedError
from vision.preprocess import Frame
from vision.results import Prediction
from vision.teach.dataset import NAME, Dataset
from vision.teach.errors import DatasetError, ExportError
from vision.teach.export import attach_head, write_model
from vision.teach.features import DEFAULT_FEATURES, Embedder
from vision.teach.head import Head, Report, fit_head, score, split
from vision.teach.picture import confusion_picture, save_confusion

__all__ = ["MIN_PER_LABEL", "OnProgress", "Timing", "TrainedModel", "train"]

logger = logging.getLogger(__name__)
MIN_PER_LABEL = 3
#: ``on_progress(stage, done)``: stage is "read", "features" or "head"; done is 0..1.
OnProgress = Callable[[str, float], None]


@dataclass(frozen=True)
class Timing:
    """Seconds spent: reading pictures, computing features, fitting the head."""

    read: float
    features: float
    head: float

    @property
    def total(self) -> float:
        return self.read + self.features + self.head


@dataclass
class TrainedModel(Closeable):
    """A head trained on one dataset, with the extractor it needs to run.

    Closing it frees the extractor; it then refuses to predict (it can still
    export, report and draw its confusion matrix).
    """

    dataset: str
    labels: list[Label]
    head: Head
    report: Report
    timing: Timing
    counts: dict[str, int]
    features: str = DEFAULT_FEATURES
    registry: Registry | None = None
    #: Held-out pictures it got wrong: (row in ``dataset.files()``, the label it said).
    mistakes: list[tuple[int, str]] = field(default_factory=list)
    _embedder: Embedder | None = field(default=None, repr=False)

    @property
    def label_ids(self) -> list[str]:
        return [label.id for label in self.labels]

    def _embed(self) -> Embedder:
        if self.closed:
            raise RunnerClosedError(f"the model trained on {self.dataset} was closed")
        if self._embedder is None:
            self._embedder = Embedder(self.features, threads=1, registry=self.registry)
        return self._embedder

    def probabilities(self, frame: Frame) -> NDArray[np.float32]:
        """One probability per label for ``frame`` (extractor, then the numpy head)."""
        probs: NDArray[np.float32] = self.head.probabilities(self._embed()(frame))[0]
        return probs

    def predict(self, frame: Frame, lang: Lang | None = None) -> Prediction:
        """The most likely label for ``frame``, like :class:`vision.Classifier` says it."""
        probs = self.probabilities(frame)
        order = np.argsort(-probs)[:3]
        best = int(order[0])
        return Prediction(
            label=self.labels[best].id,
            score=float(probs[best]),
            name=self.labels[best].name(lang or detect_lang()),
            top=tuple((self.labels[int(i)].id, float(probs[int(i)])) for i in order),
        )

    def confusion_picture(self, lang: Lang | None = None) -> Frame:
        """The validation confusion matrix as a BGR picture."""
        language = lang or detect_lang()
        return confusion_picture(self.report, [x.name(language) for x in self.labels], language)

    def save_confusion(self, path: str | Path, lang: Lang | None = None) -> Path:
        """Save :meth:`confusion_picture` as a PNG (or JPEG) file."""
        language = lang or detect_lang()
        names = [x.name(language) for x in self.labels]
        return save_confusion(self.report, names, path, language)

    def export(
        self, name: str | None = None, *, zh: str | None = None, folder: Path | None = None
    ) -> ModelEntry:
        """Save extractor + head as one ONNX model called ``name`` (default: the dataset's)."""
        model_name = name or self.dataset
        if not NAME.match(model_name):
            raise ExportError(
                Text(
                    f"{model_name!r} cannot be a model name: use small letters, digits and '-'",
                    f"{model_name!r} 不能作为模型名称：请用小写字母、数字和 '-'",
                )
            )
        entry = (self.registry or Registry()).find(self.features, task=Task.EMBED)
        data = attach_head(entry.read_verified(), self.head)
        counts = ", ".join(f"{k} {n}" for k, n in self.counts.items())
        return write_model(
            data,
            name=model_name,
            title=Bilingual(en=model_name, zh=zh or model_name),
            base=entry.manifest,
            labels=self.labels,
            made_by=MadeBy(
                script="vision.teach.train",
                data=f"dataset {self.dataset} on this robot ({counts}); features {entry.name} "
                f"{entry.manifest.version}; head: softmax regression in numpy",
            ),
            accuracy=[
                Metric(
                    metric="top1",
                    value=round(self.report.accuracy, 4),
                    dataset=f"validation split of dataset {self.dataset}",
                    samples=max(1, self.report.checked_on),
                )
            ],
            folder=folder,
        )

    def _close(self) -> None:
        if self._embedder is not None:
            self._embedder.close()
            self._embedder = None


def _check(dataset: Dataset) -> dict[str, int]:
    counts = dataset.counts()
    if not dataset.exists or not counts:
        raise DatasetError(
            Text(
                f"dataset {dataset.name!r} has no pictures yet: add some with "
                "dataset.add(label, frame) or capture(...)",
                f"数据集 {dataset.name!r} 还没有图片：请用 dataset.add(标签, 画面) 或 capture(...) 添加",
            )
        )
    if len(counts) < 2:
        raise DatasetError(
            Text(
                f"dataset {dataset.name!r} has only the label {next(iter(counts))!r}: "
                "a model needs at least two labels to tell apart",
                f"数据集 {dataset.name!r} 只有一个标签 {next(iter(counts))!r}：至少需要两个标签才能区分",
            )
        )
    few = {k: n for k, n in counts.items() if n < MIN_PER_LABEL}
    if few:
        listed = ", ".join(f"{k} ({n})" for k, n in few.items())
        raise DatasetError(
            Text(
                f"too few pictures of {listed}: take at least {MIN_PER_LABEL} of each label "
                "(20 or more works best)",
                f"这些标签的图片太少：{listed}；每个标签至少 {MIN_PER_LABEL} 张（20 张以上效果最好）",
            )
        )
    return counts


def train(
    dataset: Dataset,
    *,
    validation: float = 0.25,
    seed: int = 0,
    features: str = DEFAULT_FEATURES,
    registry: Registry | None = None,
    on_progress: OnProgress | None = None,
) -> TrainedModel:
    """Learn ``dataset``'s labels: features of every picture, then a small head.

    Returns a :class:`TrainedModel` whose ``report`` says how well it did on the
    ``validation`` share of each label it did not learn from. ``on_progress(stage,
    done)`` is called as it goes (a progress bar), from the calling thread.
    """

    def progress(stage: str, done: float) -> None:
        if on_progress is not None:
            on_progress(stage, done)

    if not 0 < validation < 1:
        raise DatasetError(
            Text("validation must be between 0 and 1", "validation 必须在 0 和 1 之间")
        )
    counts = _check(dataset)
    t0 = time.perf_counter()
    progress("read", 0.0)
    pictures = list(dataset.pictures())
    t1 = time.perf_counter()
    labels = dataset.labels
    y = np.array([labels.index(label) for label, _ in pictures])
    embedder = Embedder(features, threads=1, registry=registry)
    rows = []
    for n, (_, frame) in enumerate(pictures):
        rows.append(embedder(frame))
        if n % 5 == 4 or n == len(pictures) - 1:
            progress("features", (n + 1) / len(pictures))
    x = np.stack(rows)
    t2 = time.perf_counter()
    progress("head", 0.0)
    train_rows, val_rows = split(y, validation, seed)
    checker = fit_head(x[train_rows], y[train_rows], len(labels))
    said = checker.probabilities(x[val_rows]).argmax(axis=1) if len(val_rows) else []
    wrong = [(int(r), labels[int(s)]) for r, s in zip(val_rows, said, strict=True) if y[r] != s]
    report = Report(
        labels=tuple(labels),
        confusion=score(checker, x[val_rows], y[val_rows], labels),
        trained_on=len(train_rows),
        checked_on=len(val_rows),
    )
    head = fit_head(x, y, len(labels))
    t3 = time.perf_counter()
    progress("head", 1.0)
    timing = Timing(read=t1 - t0, features=t2 - t1, head=t3 - t2)
    logger.info("trained %s: %s in %.1f s", dataset.name, report, timing.total)
    names = [dataset.names(label) for label in labels]
    return TrainedModel(
        dataset=dataset.name,
        labels=[Label(id=k, en=n.en, zh=n.zh) for k, n in zip(labels, names, strict=True)],
        head=head,
        report=report,
        timing=timing,
        counts=counts,
        features=features,
        registry=registry,
        mistakes=wrong,
        _embedder=embedder,
    )
