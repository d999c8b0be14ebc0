"""Camera frame -> model input tensor, into buffers made once.

Frames are BGR uint8 (``height x width x 3``) like every RoboClass camera;
picamera2's "RGB888" format is BGR in memory too. Pass ``colour="RGB"`` for a
source that gives RGB.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import cv2
import numpy as np
from numpy.typing import NDArray

from models.manifest import ColourOrder, DType, InputSpec, Layout, Resize
from rcbase.resize import resize
from vision.errors import FrameError

__all__ = ["Frame", "Letterbox", "Preprocessor", "check_frame"]

Frame = NDArray[np.uint8]
Tensor = NDArray[Any]
SourceColour = Literal["BGR", "RGB"]
PAD = 114  # grey, as YOLO pads


@dataclass(frozen=True)
class Letterbox:
    """How a frame was fitted into the model's input: ``model = frame * scale + pad``."""

    scale_x: float
    scale_y: float
    pad_x: float
    pad_y: float

    def to_frame(self, boxes: NDArray[np.float32]) -> NDArray[np.float32]:
        """Boxes (N, 4: x, y, w, h) in model pixels -> frame pixels, in place."""
        boxes[:, 0] = (boxes[:, 0] - self.pad_x) / self.scale_x
        boxes[:, 1] = (boxes[:, 1] - self.pad_y) / self.scale_y
        boxes[:, 2] /= self.scale_x
        boxes[:, 3] /= self.scale_y
        return boxes

    def points_to_frame(self, points: NDArray[np.float32]) -> NDArray[np.float32]:
        """Points (..., 2: x, y) in model pixels -> frame pixels, in place."""
        points[..., 0] = (points[..., 0] - self.pad_x) / self.scale_x
        points[..., 1] = (points[..., 1] - self.pad_y) / self.scale_y
        return points


def check_frame(frame: object) -> Frame:
    """The frame if it is an image (H x W x 3 or H x W, uint8); else :class:`FrameError`."""
    if not isinstance(frame, np.ndarray):
        raise FrameError(f"a frame is a numpy image, not {type(frame).__name__}")
    if frame.dtype != np.uint8 or not (
        frame.ndim == 2 or (frame.ndim == 3 and frame.shape[2] == 3)
    ):
        raise FrameError(
            f"a frame is height x width x 3 uint8 (BGR); this one is {frame.shape} {frame.dtype}"
        )
    if frame.shape[0] < 2 or frame.shape[1] < 2:
        raise FrameError(f"the frame is empty ({frame.shape})")
    return frame


class Preprocessor:
    """Turns frames into the input tensor of one model, reusing its buffers."""

    def __init__(self, spec: InputSpec, colour: SourceColour = "BGR") -> None:
        self.spec = spec
        self.colour = colour
        w, h, c = spec.width, spec.height, spec.channels
        self._image = np.full((h, w, c), PAD, np.uint8)  # resized, model colour, HWC
        self._geometry: (
            tuple[tuple[int, int], Letterbox, tuple[int, int], tuple[int, int]] | None
        ) = None
        self._tensor: Tensor
        if spec.dtype == DType.UINT8 and spec.layout == Layout.NHWC:
            self._tensor = self._image[None]  # the image *is* the tensor
        else:
            dtype = np.float32 if spec.dtype == DType.FLOAT32 else np.uint8
            self._tensor = np.zeros(spec.shape, dtype)
        norm = spec.normalise
        if norm == "in-graph":
            self._scale, self._mean, self._std = 1.0, None, None
        else:
            shape = (c, 1, 1) if spec.layout == Layout.NCHW else (1, 1, c)
            self._scale = norm.scale
            self._mean = np.array(norm.mean[:c], np.float32).reshape(shape)
            self._std = np.array(norm.std[:c], np.float32).reshape(shape)
        self._convert = self._conversion()

    def _conversion(self) -> int | None:
        want = self.spec.colour
        if want == ColourOrder.GRAY:
            return cv2.COLOR_BGR2GRAY if self.colour == "BGR" else cv2.COLOR_RGB2GRAY
        return None if want == self.colour else cv2.COLOR_BGR2RGB

    @property
    def tensor(self) -> Tensor:
        """The input buffer (filled by the last call)."""
        return self._tensor

    def _fit(
        self, size: tuple[int, int]
    ) -> tuple[tuple[int, int], Letterbox, tuple[int, int], tuple[int, int]]:
        if self._geometry is not None and self._geometry[0] == size:
            return self._geometry
        fw, fh = size
        w, h = self.spec.width, self.spec.height
        if self.spec.resize == Resize.STRETCH:
            box = Letterbox(w / fw, h / fh, 0.0, 0.0)
            inner, at = (w, h), (0, 0)
        else:
            s = min(w / fw, h / fh)
            nw, nh = max(1, round(fw * s)), max(1, round(fh * s))
            px, py = (w - nw) // 2, (h - nh) // 2
            box = Letterbox(nw / fw, nh / fh, float(px), float(py))
            inner, at = (nw, nh), (px, py)
            self._image[:] = PAD
        self._geometry = (size, box, inner, at)
        return self._geometry

    def __call__(self, frame: Frame) -> tuple[Tensor, Letterbox]:
        """Fill the input tensor from ``frame``; return it and how the frame was fitted."""
        img: NDArray[Any] = check_frame(frame)
        if img.ndim == 2:
            img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
        fh, fw = img.shape[:2]
        _, box, (sw, sh), (px, py) = self._fit((fw, fh))
        resized: NDArray[Any] = resize(img, (sw, sh))  # as the shipped models were trained
        if self._convert is not None:  # after resizing: fewer pixels to convert
            resized = cv2.cvtColor(resized, self._convert)
        self._image[py : py + sh, px : px + sw] = resized.reshape(sh, sw, -1)
        return self._finish(), box

    def _finish(self) -> Tensor:
        spec = self.spec
        if spec.dtype == DType.UINT8 and spec.layout == Layout.NHWC:
            return self._tensor
        out = self._tensor[0]
        src = self._image.transpose(2, 0, 1) if spec.layout == Layout.NCHW else self._image
        np.copyto(out, src, casting="unsafe")
        if self._mean is not None and self._std is not None:
            out *= self._scale
            out -= self._mean
            out /= self._std
        return self._tensor
