"""The camera: frames as numpy arrays (height x width x 3, BGR, uint8).

::

    frame = robot.camera.read()
    for frame in robot.camera.frames(limit=10):
        ...

Frames stay on the robot: the recorder notes only that a frame was taken.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from hardware.device import Controls, Device
from hardware.errors import BackendError, SensorError
from hardware.kit import CameraSpec
from hardware.ports import CameraPort

__all__ = ["Camera", "FileCamera", "OpenCVCamera", "Picamera2Camera", "open_camera_port"]

logger = logging.getLogger(__name__)
Frame = npt.NDArray[np.uint8]


class Camera(Device):
    """A camera of the robot (real or simulated)."""

    def __init__(
        self, name: str, port: CameraPort, spec: CameraSpec, controls: Controls | None = None
    ) -> None:
        super().__init__(name, port, controls)
        self._camera = port
        self.spec = spec
        self.frames_read = 0

    @property
    def resolution(self) -> tuple[int, int]:
        """(width, height) asked of the camera."""
        return (self.spec.width, self.spec.height)

    def read(self) -> Frame:
        """The newest frame."""
        self._check_open()
        frame = self._camera.read()
        self.frames_read += 1
        self._controls.record(self.name, "reading", f"frame {frame.shape[1]}x{frame.shape[0]}")
        return frame

    def frames(self, limit: int | None = None) -> Iterator[Frame]:
        """Frames one after another, ``limit`` of them or for ever."""
        n = 0
        while limit is None or n < limit:
            yield self.read()
            n += 1

    def __iter__(self) -> Iterator[Frame]:
        return self.frames()


class OpenCVCamera:
    """A USB camera (or any source cv2.VideoCapture opens)."""

    def __init__(self, device: int | str, width: int, height: int, fps: float) -> None:
        import cv2  # noqa: PLC0415 - only robots with a camera pay for OpenCV

        from rcbase.resize import resize  # noqa: PLC0415 - it loads OpenCV too

        self._resize = resize
        self._cap = cv2.VideoCapture(device)
        if not self._cap.isOpened():
            raise SensorError(
                f"cannot open camera {device!r}: is it plugged in? `ls /dev/video*` lists cameras"
            )
        self._cap.set(cv2.CAP_PROP_FRAME_WIDTH, width)
        self._cap.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
        self._cap.set(cv2.CAP_PROP_FPS, fps)
        self._size = (width, height)

    def read(self) -> Frame:
        ok, frame = self._cap.read()
        if not ok or frame is None:
            raise SensorError(
                "the camera gave no frame: check its cable, or whether another program uses it"
            )
        if (frame.shape[1], frame.shape[0]) != self._size:
            frame = self._resize(frame, self._size)
        return np.ascontiguousarray(frame, dtype=np.uint8)

    def close(self) -> None:
        self._cap.release()


class FileCamera:
    """Frames from an image, a folder of images, or a video file (looped)."""

    IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")

    def __init__(self, path: str | Path, width: int, height: int) -> None:
        import cv2  # noqa: PLC0415 - only robots with a camera pay for OpenCV

        from rcbase.resize import resize  # noqa: PLC0415 - it loads OpenCV too

        self._cv2 = cv2
        self._resize = resize
        self._size = (width, height)
        p = Path(path)
        if not p.exists():
            raise SensorError(f"camera file {p} does not exist")
        self._images: list[Frame] = []
        self._video = None
        self._next = 0
        files = (
            sorted(f for f in p.iterdir() if f.suffix.lower() in self.IMAGE_SUFFIXES)
            if p.is_dir()
            else [p]
        )
        if p.is_file() and p.suffix.lower() not in self.IMAGE_SUFFIXES:
            self._video = cv2.VideoCapture(str(p))
            if not self._video.isOpened():
                raise SensorError(f"cannot read video {p}: is it an .mp4/.avi file?")
            return
        for f in files:
            image = cv2.imread(str(f), cv2.IMREAD_COLOR)
            if image is None:
                raise SensorError(f"cannot read image {f}")
            self._images.append(self._fit(np.asarray(image, dtype=np.uint8)))
        if not self._images:
            raise SensorError(f"no images (.png, .jpg) in {p}")

    def _fit(self, image: Any) -> Frame:
        if (image.shape[1], image.shape[0]) != self._size:
            image = self._resize(image, self._size)
        return np.ascontiguousarray(image, dtype=np.uint8)

    def read(self) -> Frame:
        if self._video is not None:
            ok, frame = self._video.read()
            if not ok:  # loop the video
                self._video.set(self._cv2.CAP_PROP_POS_FRAMES, 0)
                ok, frame = self._video.read()
            if not ok:
                raise SensorError("the video file has no frames")
            return self._fit(frame)
        image = self._images[self._next % len(self._images)]
        self._next += 1
        return image.copy()

    def close(self) -> None:
        if self._video is not None:
            self._video.release()


class Picamera2Camera:
    """The Raspberry Pi camera through picamera2, reading the small 'lores' stream."""

    def __init__(self, width: int, height: int, fps: float) -> None:
        try:
            from picamera2 import Picamera2  # type: ignore[import-not-found]  # noqa: PLC0415
        except ImportError as exc:
            raise BackendError(
                "picamera2 is not available: sudo apt install python3-picamera2 and make the "
                "venv with --system-site-packages (`roboclass doctor` checks this)"
            ) from exc
        import cv2  # noqa: PLC0415

        self._cv2 = cv2
        self._cam = Picamera2()
        # lores must be YUV420 and no larger than main; inference reads lores.
        main = (max(width, 640), max(height, 480))
        config = self._cam.create_video_configuration(
            main={"size": main, "format": "RGB888"},
            lores={"size": (width, height), "format": "YUV420"},
            controls={"FrameRate": fps},
            buffer_count=4,
        )
        self._cam.configure(config)
        self._cam.start()

    def read(self) -> Frame:
        yuv = self._cam.capture_array("lores")
        return np.ascontiguousarray(
            self._cv2.cvtColor(yuv, self._cv2.COLOR_YUV2BGR_I420), dtype=np.uint8
        )

    def close(self) -> None:
        self._cam.stop()
        self._cam.close()


def open_camera_port(spec: CameraSpec) -> CameraPort:
    """A camera port for a real source (``picamera2``, ``usb``, ``file``)."""
    if spec.source == "picamera2":
        return Picamera2Camera(spec.width, spec.height, spec.fps)
    if spec.source == "usb":
        return OpenCVCamera(
            spec.device if spec.device is not None else 0, spec.width, spec.height, spec.fps
        )
    if spec.source == "file":
        if spec.device is None:
            raise BackendError(
                "a file camera needs `device: path/to/image-or-video` in the kit profile"
            )
        return FileCamera(str(spec.device), spec.width, spec.height)
    raise BackendError(f"camera source {spec.source!r} needs the {spec.source} backend")
