"""Camera sources that run anywhere: image files, folders and videos."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from gpiozero.pins.mock import MockFactory, MockPWMPin

from hardware import Robot, SensorError, load_kit
from hardware.camera import FileCamera, open_camera_port
from hardware.kit import CameraSpec


def spec(**fields: object) -> CameraSpec:
    return CameraSpec.model_validate(
        {"kind": "camera", "source": "file", "width": 64, "height": 48, **fields}
    )


def test_image_file_is_resized_and_copied(tmp_path: Path) -> None:
    image = np.zeros((100, 200, 3), np.uint8)
    image[:, :100] = (0, 0, 255)  # left half red (BGR)
    cv2.imwrite(str(tmp_path / "a.png"), image)
    cam = open_camera_port(spec(device=str(tmp_path / "a.png")))
    frame = cam.read()
    assert frame.shape == (48, 64, 3)
    assert tuple(frame[24, 10]) == (0, 0, 255) and tuple(frame[24, 54]) == (0, 0, 0)
    frame[:] = 0
    assert tuple(cam.read()[24, 10]) == (0, 0, 255)  # the caller's changes do not leak back
    cam.close()


def test_folder_cycles_through_images(tmp_path: Path) -> None:
    for i, value in enumerate((10, 20, 30)):
        cv2.imwrite(str(tmp_path / f"{i}.png"), np.full((48, 64, 3), value, np.uint8))
    cam = FileCamera(tmp_path, 64, 48)
    assert [int(cam.read()[0, 0, 0]) for _ in range(4)] == [10, 20, 30, 10]


def test_video_file_loops(tmp_path: Path) -> None:
    path = tmp_path / "v.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 10, (64, 48))
    for value in (0, 250):
        writer.write(np.full((48, 64, 3), value, np.uint8))
    writer.release()
    cam = FileCamera(path, 64, 48)
    means = [float(cam.read().mean()) for _ in range(3)]
    assert means[0] < 20 and means[1] > 230 and means[2] < 20  # looped back to the start
    cam.close()


def test_bad_sources_say_what_is_wrong(tmp_path: Path) -> None:
    with pytest.raises(SensorError, match="does not exist"):
        FileCamera(tmp_path / "nope.png", 64, 48)
    (tmp_path / "empty").mkdir()
    with pytest.raises(SensorError, match="no images"):
        FileCamera(tmp_path / "empty", 64, 48)
    (tmp_path / "bad.png").write_bytes(b"not a png")
    with pytest.raises(SensorError, match="cannot read image"):
        FileCamera(tmp_path / "bad.png", 64, 48)


def test_robot_camera_from_a_file(tmp_path: Path) -> None:
    cv2.imwrite(str(tmp_path / "a.png"), np.full((48, 64, 3), 99, np.uint8))
    kit = load_kit("camjam-edukit3")
    kit = kit.model_copy(update={"parts": {"camera": spec(device=str(tmp_path / "a.png"))}})
    with Robot(kit, backend="gpio", pin_factory=MockFactory(pin_class=MockPWMPin)) as robot:
        frames = list(robot.camera.frames(limit=3))
        assert len(frames) == 3 and all(int(f[0, 0, 0]) == 99 for f in frames)
        assert robot.camera.resolution == (64, 48) and robot.camera.frames_read == 3
