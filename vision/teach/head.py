"""The part that learns: a small linear head on the picture features, in numpy.

Softmax (multinomial logistic) regression on standardised features, trained by
full-batch gradient descent with a little L2 regularisation. The
standardisation is folded into the weights at the end, so using the head is
one matrix product: ``probabilities = softmax(features @ weights + bias)``,
which is exactly what the exported ONNX graph computes (MatMul, Add, Softmax).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["Head", "Report", "fit_head", "score", "softmax", "split"]

Array = NDArray[np.float32]


def softmax(logits: NDArray[np.floating]) -> Array:
    """Rows of scores -> rows of probabilities that add up to 1."""
    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return np.asarray(e / e.sum(axis=-1, keepdims=True), np.float32)


@dataclass(frozen=True)
class Head:
    """``softmax(features @ weights + bias)``: weights (features x labels), bias (labels)."""

    weights: Array
    bias: Array

    def probabilities(self, features: NDArray[np.floating]) -> Array:
        """One row of label probabilities per row of features."""
        x = np.atleast_2d(np.asarray(features, np.float32))
        return softmax(x @ self.weights + self.bias)


def fit_head(
    features: NDArray[np.floating],
    labels: NDArray[np.integer],
    classes: int,
    *,
    l2: float = 1e-2,
    steps: int = 400,
    rate: float = 0.5,
) -> Head:
    """Learn a :class:`Head` from rows of features and their label numbers (0..classes-1)."""
    x = np.asarray(features, np.float64)
    mean = x.mean(axis=0)
    std = x.std(axis=0) + 1e-3
    z = (x - mean) / std
    target = np.eye(classes)[np.asarray(labels)]
    w = np.zeros((x.shape[1], classes))
    b = np.zeros(classes)
    n = len(x)
    for _ in range(steps):
        p = softmax(z @ w + b).astype(np.float64)
        g = (p - target) / n
        w -= rate * (z.T @ g + l2 * w)
        b -= rate * g.sum(axis=0)
    folded = w / std[:, None]
    return Head(np.asarray(folded, np.float32), np.asarray(b - mean @ folded, np.float32))


def split(
    labels: NDArray[np.integer], fraction: float, seed: int = 0
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Training and validation row numbers: ``fraction`` of each label held back (at least 1)."""
    rng = np.random.default_rng(seed)
    train: list[int] = []
    val: list[int] = []
    for k in np.unique(labels):
        rows = rng.permutation(np.flatnonzero(labels == k))
        n_val = min(len(rows) - 1, max(1, round(len(rows) * fraction)))
        val += rows[:n_val].tolist()
        train += rows[n_val:].tolist()
    return np.array(sorted(train), np.intp), np.array(sorted(val), np.intp)


@dataclass(frozen=True)
class Report:
    """How well the model did on pictures it did not learn from (the validation split).

    ``confusion[i][j]`` counts pictures of ``labels[i]`` that the model called ``labels[j]``.
    """

    labels: tuple[str, ...]
    confusion: tuple[tuple[int, ...], ...]
    trained_on: int
    checked_on: int

    @property
    def accuracy(self) -> float:
        """The share of validation pictures it got right (0..1)."""
        right = sum(self.confusion[i][i] for i in range(len(self.labels)))
        return right / max(1, self.checked_on)

    def per_label(self) -> dict[str, float]:
        """For each label, the share of its validation pictures it got right."""
        return {
            label: row[i] / max(1, sum(row))
            for i, (label, row) in enumerate(zip(self.labels, self.confusion, strict=True))
        }

    def __str__(self) -> str:
        parts = ", ".join(f"{k} {v:.0%}" for k, v in self.per_label().items())
        return f"accuracy {self.accuracy:.0%} on {self.checked_on} pictures ({parts})"


def score(
    head: Head, features: NDArray[np.floating], truth: NDArray[np.integer], labels: list[str]
) -> tuple[tuple[int, ...], ...]:
    """The confusion matrix of ``head`` on these rows."""
    k = len(labels)
    matrix = np.zeros((k, k), np.int64)
    if len(truth):
        guess = head.probabilities(features).argmax(axis=1)
        np.add.at(matrix, (np.asarray(truth), guess), 1)
    return tuple(tuple(int(v) for v in row) for row in matrix)
