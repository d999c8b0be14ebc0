"""A view a teacher can show: the world from above beside the camera, and a video of it.

::

    with Recorder("run.mp4", fps=15) as video:       # or "run.gif"
        for _ in range(150):
            world.step(1 / 15)
            video.add(compose_view(world, [cam.read()]))
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np
from numpy.typing import NDArray

from hardware.sim.errors import SimValueError
from rcbase.closeable import Closeable

if TYPE_CHECKING:
    from hardware.sim.world import World

__all__ = ["Recorder", "compose_view"]

log = logging.getLogger(__name__)
Image = NDArray[np.uint8]
_BAR = 28  # pixels of caption under the view


def _fit_height(img: Image, height: int) -> Image:
    h, w = img.shape[:2]
    width = max(1, round(w * height / h))
    return np.asarray(cv2.resize(img, (width, height), interpolation=cv2.INTER_AREA), np.uint8)


def compose_view(world: World, camera_frames: Sequence[Image] = (), height: int = 480) -> Image:
    """Top-down view on the left, camera frames stacked on the right, sim time underneath."""
    parts = [_fit_height(world.render_topdown(max_px=max(height * 2, 200)), height)]
    if camera_frames:
        each = height // len(camera_frames)
        column = [_fit_height(f, each) for f in camera_frames]
        width = max(c.shape[1] for c in column)
        stacked = np.zeros((height, width, 3), np.uint8)
        y = 0
        for c in column:
            stacked[y : y + c.shape[0], : c.shape[1]] = c
            y += c.shape[0]
        parts.append(stacked)
    view = np.hstack(parts)
    bar = np.full((_BAR, view.shape[1], 3), 32, np.uint8)
    text = f"{world.model.name}   t = {world.time:7.2f} s"
    cv2.putText(
        bar, text, (8, _BAR - 9), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (235, 235, 235), 1, cv2.LINE_AA
    )
    return np.vstack([view, bar])


class Recorder(Closeable):
    """Writes frames to ``.mp4`` (OpenCV's mp4v codec) or ``.gif`` (OpenCV's animation writer).

    Frames of another size are scaled to the first one. A GIF is kept in memory
    until ``close()``, so at most ``max_gif_frames`` are kept (later ones are dropped).
    """

    def __init__(self, path: str | Path, fps: float = 15.0, max_gif_frames: int = 900) -> None:
        self.path = Path(path)
        suffix = self.path.suffix.lower()
        if suffix not in (".mp4", ".gif"):
            raise SimValueError(f"can record .mp4 or .gif, not {self.path.name!r}")
        if not fps > 0:
            raise SimValueError(f"fps must be > 0, not {fps!r}")
        self.fps = fps
        self.frames = 0
        self._gif = suffix == ".gif"
        self._max_gif = max_gif_frames
        self._size: tuple[int, int] | None = None
        self._writer: cv2.VideoWriter | None = None
        self._gif_frames: list[Image] = []

    def add(self, frame: Image) -> None:
        """Append one BGR frame."""
        if self.closed:
            raise SimValueError(f"the recording {self.path.name} is closed")
        if self._size is None:
            self._size = (frame.shape[1], frame.shape[0])
            if not self._gif:
                fourcc = cv2.VideoWriter.fourcc(*"mp4v")
                self._writer = cv2.VideoWriter(str(self.path), fourcc, self.fps, self._size)
                if not self._writer.isOpened():
                    raise SimValueError(f"OpenCV cannot write {self.path}")
        if (frame.shape[1], frame.shape[0]) != self._size:
            frame = np.asarray(
                cv2.resize(frame, self._size, interpolation=cv2.INTER_AREA), np.uint8
            )
        if self._writer is not None:
            self._writer.write(frame)
        elif len(self._gif_frames) < self._max_gif:
            self._gif_frames.append(frame.copy())
        else:
            return
        self.frames += 1

    def _close(self) -> None:
        """Finish the file."""
        if self._writer is not None:
            self._writer.release()
        elif self._gif_frames:
            animation = cv2.Animation()
            animation.frames = self._gif_frames
            animation.durations = [round(1000 / self.fps)] * len(self._gif_frames)
            if not cv2.imwriteanimation(str(self.path), animation):
                raise SimValueError(f"OpenCV cannot write {self.path}")
            self._gif_frames = []
        log.debug("recorded %d frames to %s", self.frames, self.path)
