"""Take pictures for a dataset from the robot's camera: on a timer, or on a button press.

::

    from hardware import Robot
    from vision.teach import Dataset, capture, capture_on_button

    with Robot() as robot:
        data = Dataset("my-signs")
        capture(data, robot.camera, "stop", count=20, every=0.2)    # 20 pictures, 0.2 s apart
        capture_on_button(data, robot, "go", count=10)              # one picture per press

``on_picture(label, frame, counts)`` is called after every picture, for a live
preview or a progress line.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

from rcbase import Text
from vision.preprocess import Frame
from vision.teach.dataset import Dataset
from vision.teach.errors import DatasetError

__all__ = ["OnPicture", "capture", "capture_on_button"]

OnPicture = Callable[[str, Frame, dict[str, int]], None]


class _Camera(Protocol):
    def read(self) -> Frame: ...


def _frame_from(camera: _Camera | Callable[[], Frame]) -> Frame:
    read = getattr(camera, "read", None)
    frame: Frame = read() if read is not None else camera()  # type: ignore[operator]
    return frame


def capture(
    dataset: Dataset,
    camera: _Camera | Callable[[], Frame],
    label: str,
    count: int = 20,
    every: float = 0.2,
    *,
    zh: str | None = None,
    on_picture: OnPicture | None = None,
) -> int:
    """Add ``count`` pictures of ``label`` from ``camera``, one every ``every`` seconds.

    ``camera`` is anything with ``read()`` (``robot.camera``) or a function that
    returns a frame. Returns how many pictures ``label`` has now.
    """
    if count < 1 or every < 0:
        raise DatasetError(
            Text("capture needs count >= 1 and every >= 0", "capture 需要 count >= 1、every >= 0")
        )
    for n in range(count):
        if n and every:
            time.sleep(every)  # the student's clock: the simulator may run it faster
        frame = _frame_from(camera)
        dataset.add(label, frame, zh=zh)
        if on_picture is not None:
            on_picture(label, frame, dataset.counts())
    return dataset.counts()[label]


def capture_on_button(
    dataset: Dataset,
    robot: Any,
    label: str,
    count: int = 10,
    *,
    zh: str | None = None,
    timeout: float | None = None,
    on_picture: OnPicture | None = None,
) -> int:
    """Add one picture of ``label`` each time ``robot.button`` is pressed, ``count`` times.

    Stops early when no press comes within ``timeout`` seconds. Returns how many
    pictures ``label`` has now.
    """
    for _ in range(count):
        if not robot.button.wait_for_press(timeout=timeout):
            break
        frame = robot.camera.read()
        dataset.add(label, frame, zh=zh)
        if on_picture is not None:
            on_picture(label, frame, dataset.counts())
        robot.button.wait_for_release(timeout=timeout)
    return dataset.counts().get(label, 0)
