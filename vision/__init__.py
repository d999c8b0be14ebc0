"""Vision on the robot: models on camera frames, and classic helpers.

Camera frames never leave the robot. Everything here runs locally with
onnxruntime and OpenCV::

    from hardware import Robot
    from vision import Classifier

    with Robot() as robot:
        sign = Classifier("traffic-signs")
        label, score = sign(robot.camera.read())
        print(label, score, sign(robot.camera.read()).name)   # name: 'Stop' or '停车'

- models: :class:`Classifier`, :class:`Detector` (YOLOv8/YOLO11 output layout),
  :class:`FaceDetector` (faces with eyes, nose and mouth corners),
  :class:`SignReader` (finds every sign in a frame and reads it)
- camera -> model in threads, newest frame only: :class:`Pipeline`
- no model needed: :func:`find_line`, :func:`find_blobs`, :class:`ArucoReader`, :func:`read_qr`
- pictures: :func:`draw_detections`, :func:`draw_prediction`, :func:`encode_jpeg`
- teach the robot your own pictures: :mod:`vision.teach`

What they give back lives in the module that makes it (``vision.results``:
``Prediction``, ``Detection``, ``Box``; ``vision.classic``: ``LineReading``,
``Blob``; ...), and so do the parts a pipeline or a benchmark is built of.

Errors: :mod:`vision.errors`; problems with model files are :class:`models.ModelError`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rcbase.deprecation import moved_names as _moved_names
from vision.classic import find_blobs, find_line
from vision.errors import FrameError, RunnerClosedError, StaleFrameError, VisionError
from vision.faces import FaceDetector
from vision.markers import ArucoReader, read_qr
from vision.overlay import draw_detections, draw_prediction, encode_jpeg
from vision.pipeline import Pipeline
from vision.runners import Classifier, Detector
from vision.signs import SignReader

__all__ = [
    "ArucoReader",
    "Classifier",
    "Detector",
    "FaceDetector",
    "FrameError",
    "Pipeline",
    "RunnerClosedError",
    "SignReader",
    "StaleFrameError",
    "VisionError",
    "draw_detections",
    "draw_prediction",
    "encode_jpeg",
    "find_blobs",
    "find_line",
    "read_qr",
]

# Names this package exported before, and the module each one lives in: they import
# for one more release, with a warning (editors and mypy see only ``__all__``).
_MOVED = {
    "COLOURS": "vision.classic",
    "Blob": "vision.classic",
    "LineReading": "vision.classic",
    "Face": "vision.faces",
    "Marker": "vision.markers",
    "QRCode": "vision.markers",
    "decode_yolo": "vision.nms",
    "cjk_font_available": "vision.overlay",
    "draw_text": "vision.overlay",
    "mjpeg_part": "vision.overlay",
    "LatestSlot": "vision.pipeline",
    "Result": "vision.pipeline",
    "Letterbox": "vision.preprocess",
    "Preprocessor": "vision.preprocess",
    "Box": "vision.results",
    "Detection": "vision.results",
    "Prediction": "vision.results",
    "Runner": "vision.runners",
    "default_threads": "vision.session",
    "make_session": "vision.session",
    "SignSeen": "vision.signs",
}

if not TYPE_CHECKING:
    __getattr__ = _moved_names(__name__, _MOVED)
