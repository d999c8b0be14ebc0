"""rcbase.resize: the one resize for model inputs and training pictures."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from hardware.sim import BodySpec, CameraSpec, load_world, world_path
from rcbase.resize import resize


@pytest.fixture(scope="module")
def frame() -> np.ndarray:
    world = load_world(world_path("sign-road"))
    robot = world.add_robot(BodySpec())
    robot.set_motors(0.5, 0.35)
    world.step(1.0)
    return robot.camera(CameraSpec(width=320, height=240)).read()


def test_an_exact_halving_is_the_mean_of_each_two_by_two_block(frame: np.ndarray) -> None:
    half = resize(frame, (160, 120))
    blocks = frame.reshape(120, 2, 160, 2, 3).astype(np.float32).mean(axis=(1, 3))
    assert half.shape == (120, 160, 3) and half.dtype == np.uint8
    assert np.abs(half.astype(np.float32) - blocks).max() <= 0.5 + 1e-6  # rounding only


def test_a_big_shrink_stays_close_to_inter_area_and_closer_than_linear(frame: np.ndarray) -> None:
    for size in ((64, 64), (96, 96), (64, 48)):
        area = cv2.resize(frame, size, interpolation=cv2.INTER_AREA).astype(np.float32)
        ours = np.abs(resize(frame, size).astype(np.float32) - area).mean()
        linear = cv2.resize(frame, size, interpolation=cv2.INTER_LINEAR).astype(np.float32)
        assert ours < 1.2, size  # grey levels, on average
        assert ours < np.abs(linear - area).mean(), size


def test_any_size_in_and_out(frame: np.ndarray) -> None:
    for w, h in ((75, 75), (131, 99), (33, 240), (320, 240), (400, 300), (1, 1)):
        assert resize(frame, (w, h)).shape == (h, w, 3)
    odd = frame[:199, :131]
    assert resize(odd, (64, 64)).shape == (64, 64, 3)
    grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    assert resize(grey, (64, 48)).shape == (48, 64)
    same = resize(frame, (320, 240))
    assert np.array_equal(same, frame)


def test_a_size_below_one_pixel_is_refused(frame: np.ndarray) -> None:
    with pytest.raises(ValueError, match="at least 1 x 1"):
        resize(frame, (0, 10))
