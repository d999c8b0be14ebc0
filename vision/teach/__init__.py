"""Teach your robot: show it examples, train a model in seconds, use it like any model.

::

    from hardware import Robot
    from vision import Classifier
    from vision.teach import Dataset, capture, train

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

Errors: :class:`TeachError` (a :class:`vision.VisionError`), with
:class:`DatasetError` and :class:`ExportError` under it.
"""

from __future__ import annotations

from vision.teach.capture import capture, capture_on_button
from vision.teach.dataset import Dataset, datasets, datasets_dir
from vision.teach.errors import DatasetError, ExportError, TeachError
from vision.teach.evaluate import Evaluation, evaluate
from vision.teach.features import DEFAULT_FEATURES, Embedder
from vision.teach.head import Head, Report
from vision.teach.model import MIN_PER_LABEL, Timing, TrainedModel, train
from vision.teach.picture import confusion_picture, save_confusion

__all__ = [
    "DEFAULT_FEATURES",
    "MIN_PER_LABEL",
    "Dataset",
    "DatasetError",
    "Embedder",
    "Evaluation",
    "ExportError",
    "Head",
    "Report",
    "TeachError",
    "Timing",
    "TrainedModel",
    "capture",
    "capture_on_button",
    "confusion_picture",
    "datasets",
    "datasets_dir",
    "evaluate",
    "save_confusion",
    "train",
]
