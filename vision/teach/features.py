"""The frozen feature extractor: a frame in, a short list of numbers out.

::

    from vision.teach.features import Embedder
    with Embedder() as embed:
        numbers = embed(frame)          # 384 numbers (float32) that describe the picture

The network is RoboClass's own ``features-96`` model (trained by
``scripts/models/train_features.py`` on pictures the simulator renders);
any model with ``task: embed`` in its manifest works.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from models.manifest import Task
from vision.preprocess import Frame, Letterbox
from vision.runners import Runner

__all__ = ["DEFAULT_FEATURES", "Embedder"]

DEFAULT_FEATURES = "features-96"


class Embedder(Runner[NDArray[np.float32]]):
    """Turns a frame into its feature vector (the model's ``embed`` output)."""

    task = Task.EMBED
    default_model = DEFAULT_FEATURES

    def _read(
        self, outputs: list[NDArray[Any]], letterbox: Letterbox, frame_size: tuple[int, int]
    ) -> NDArray[np.float32]:
        return np.asarray(outputs[0], np.float32).reshape(-1).copy()

    @property
    def output_name(self) -> str:
        """The name of the graph output that carries the features."""
        return str(self.session.get_outputs()[0].name)

    def many(self, frames: list[Frame]) -> NDArray[np.float32]:
        """The features of every frame, one row each."""
        return np.stack([self(f) for f in frames]) if frames else np.zeros((0, 0), np.float32)
