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

Errors: :mod:`vision.errors`; problems with model files are :class:`models.ModelError`.
"""

from __future__ import annotations

from vision.classic import COLOURS, Blob, LineReading, find_blobs, find_line
from vision.errors import FrameError, RunnerClosedError, StaleFrameError, VisionError
from vision.faces import Face, FaceDetector
from vision.markers import ArucoReader, Marker, QRCode, read_qr
from vision.nms import decode_yolo
from vision.overlay import (
    cjk_font_available,
    draw_detections,
    draw_prediction,
    draw_text,
    encode_jpeg,
    mjpeg_part,
)
from vision.pipeline import LatestSlot, Pipeline, Result
from vision.preprocess import Letterbox, Preprocessor
from vision.results import Box, Detection, Prediction
from vision.runners import Classifier, Detector, Runner
from vision.session import default_threads, make_session
from vision.signs import SignReader, SignSeen

__all__ = [
    "COLOURS",
    "ArucoReader",
    "Blob",
    "Box",
    "Classifier",
    "Detection",
    "Detector",
    "Face",
    "FaceDetector",
    "FrameError",
    "LatestSlot",
    "Letterbox",
    "LineReading",
    "Marker",
    "Pipeline",
    "Prediction",
    "Preprocessor",
    "QRCode",
    "Result",
    "Runner",
    "RunnerClosedError",
    "SignReader",
    "SignSeen",
    "StaleFrameError",
    "VisionError",
    "cjk_font_available",
    "decode_yolo",
    "default_threads",
    "draw_detections",
    "draw_prediction",
    "draw_text",
    "encode_jpeg",
    "find_blobs",
    "find_line",
    "make_session",
    "mjpeg_part",
    "read_qr",
]
