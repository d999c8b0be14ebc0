"""Teach your robot: show it examples, train a model in seconds, use it like any model.

::

    from hardware import Robot
    from vision import Classifier
    from vision.teach import Dataset, capture, evaluate, train

    with Robot() as robot:
        data = Dataset("my-signs")
        capture(data, robot.camera, "stop", count=20)   # point the camera at a stop sign
        capture(data, robot.camera, "go", count=20)     # ... then at a green light
        model = train(data)                             # a few seconds
        print(model.report)                             # how well it did on pictures it kept back
        model.save_confusion("mix-ups.png")
        model.export()                                  # one ONNX file + manifest, on this robot
        sign = Classifier("my-signs")                   # like any shipped model
        print(evaluate("my-signs", Dataset("test-signs")).report)  # on other pictures

How it works: a small network RoboClass trained and ships (``features-96``)
turns each picture into 384 numbers; a linear head learns your labels from
those numbers (numpy, no GPU, no internet). Your pictures and your model stay
on the robot.

What ``train`` and ``evaluate`` give back, and the parts they are made of
(the extractor, the head, the confusion picture), live in their modules:
:mod:`vision.teach.model`, :mod:`~vision.teach.evaluate`,
:mod:`~vision.teach.features`, :mod:`~vision.teach.head`, :mod:`~vision.teach.picture`.

Errors: :class:`TeachError` (a :class:`vision.VisionError`), with
:class:`DatasetError` and :class:`ExportError` under it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rcbase.deprecation import moved_names as _moved_names
from vision.teach.capture import capture, capture_on_button
from vision.teach.dataset import Dataset, datasets
from vision.teach.errors import DatasetError, ExportError, TeachError
from vision.teach.evaluate import evaluate
from vision.teach.model import train

__all__ = [
    "Dataset",
    "DatasetError",
    "ExportError",
    "TeachError",
    "capture",
    "capture_on_button",
    "datasets",
    "evaluate",
    "train",
]

# Names this package exported before, and the module each one lives in: they import
# for one more release, with a warning (editors and mypy see only ``__all__``).
_MOVED = {
    "datasets_dir": "vision.teach.dataset",
    "Evaluation": "vision.teach.evaluate",
    "DEFAULT_FEATURES": "vision.teach.features",
    "Embedder": "vision.teach.features",
    "Head": "vision.teach.head",
    "Report": "vision.teach.head",
    "MIN_PER_LABEL": "vision.teach.model",
    "Timing": "vision.teach.model",
    "TrainedModel": "vision.teach.model",
    "confusion_picture": "vision.teach.picture",
    "save_confusion": "vision.teach.picture",
}

if not TYPE_CHECKING:
    __getattr__ = _moved_names(__name__, _MOVED)
