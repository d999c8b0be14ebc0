"""The pinhole camera: floor, signs, markers, solid things, image effects, top-down view."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from hardware.sim import (
    BodySpec,
    CameraSpec,
    Pose,
    Recorder,
    SimValueError,
    World,
    compose_view,
    load_world,
    sign_views,
    world_path,
)
from hardware.sim.camera import SKY
from hardware.sim.colour import bgr

SPEC = BodySpec(acceleration=None)


def red_mask(img: np.ndarray) -> np.ndarray:
    b, g, r = (img[:, :, i].astype(int) for i in range(3))
    return (r > 150) & (g < 90) & (b < 90)


def test_stop_sign_is_red_where_it_should_be() -> None:
    world = World.empty(
        3.0, 2.0, signs=[{"kind": "stop", "at": (1.5, 1.0), "facing": 180, "size": 0.12}]
    )
    robot = world.add_robot(SPEC, Pose(0.9, 1.0, 0.0))
    cam = robot.sensors.camera(CameraSpec(width=320, height=240, tilt_deg=0, height_m=0.1))
    frame = cam.read()
    assert frame.shape == (240, 320, 3) and frame.dtype == np.uint8
    mask = red_mask(frame)
    assert mask.sum() > 300
    rows, cols = np.nonzero(mask)
    # the plate's centre is 0.11 m up, 0.55 m ahead of the camera (0.014 m in front of the pole)
    uv, depth = cam.project(np.array([[1.5 - 0.014, 1.0, 0.05 + 0.06]]))
    u, v = uv[0]
    assert depth[0] == pytest.approx(1.5 - 0.014 - 0.95)
    assert cols.mean() == pytest.approx(u, abs=2)
    assert rows.mean() == pytest.approx(v, abs=3)
    assert u == pytest.approx(159.5) and v < 119.5  # straight ahead, a little above the camera
    # nothing red in the top-left and bottom-right corners
    assert not mask[:40, :40].any() and not mask[-40:, -40:].any()


def test_a_sign_seen_from_behind_is_grey() -> None:
    world = World.empty(
        3.0, 2.0, signs=[{"kind": "stop", "at": (1.5, 1.0), "facing": 0, "size": 0.12}]
    )
    robot = world.add_robot(SPEC, Pose(0.9, 1.0, 0.0))
    assert not red_mask(robot.sensors.camera(CameraSpec(tilt_deg=0)).read()).any()


def test_aruco_markers_in_sim_frames_are_detected() -> None:
    world = load_world(world_path("aruco-arena"))
    robot = world.add_robot(SPEC, Pose(1.25, 1.0, 90.0))
    cam = robot.sensors.camera(
        CameraSpec(width=640, height=480, tilt_deg=-5, noise=2.0, blur_px=0.6)
    )
    detector = cv2.aruco.ArucoDetector(cv2.aruco.getPredefinedDictionary(cv2.aruco.DICT_4X4_50))
    _, ids, _ = detector.detectMarkers(cv2.cvtColor(cam.read(), cv2.COLOR_BGR2GRAY))
    assert ids is not None and {0, 1} <= set(ids.ravel().tolist())
    # the marker printed on the floor, seen from a camera on a mast, looking down
    robot.teleport(Pose(1.25, 0.9, 90.0))
    cam = robot.sensors.camera(CameraSpec(width=320, height=240, tilt_deg=-30, height_m=0.15))
    _, ids, _ = detector.detectMarkers(cv2.cvtColor(cam.read(), cv2.COLOR_BGR2GRAY))
    assert ids is not None and 10 in ids.ravel().tolist()


def test_floor_line_ahead_is_dark_in_the_middle_of_the_image() -> None:
    world = World.empty(
        3.0, 2.0, lines=[{"shape": "polyline", "points": [(0.5, 1.0), (2.5, 1.0)], "width": 0.03}]
    )
    robot = world.add_robot(SPEC, Pose(0.8, 1.0, 0.0))
    frame = robot.sensors.camera(CameraSpec(width=160, height=120, tilt_deg=-30)).read()
    bottom = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)[-10:].mean(axis=0)
    dark = np.nonzero(bottom < 100)[0]
    assert len(dark) > 3
    assert dark.mean() == pytest.approx(79.5, abs=2)
    assert bottom[:40].min() > 180 and bottom[-40:].min() > 180


def test_horizon_and_walls() -> None:
    open_world = World.empty(20.0, 20.0, border=False, resolution_mm=50)
    robot = open_world.add_robot(SPEC, Pose(10.0, 10.0, 0.0))
    frame = robot.sensors.camera(CameraSpec(width=160, height=120, tilt_deg=0)).read()
    assert (frame[:59] == SKY).all()  # the top half looks above the horizon
    assert tuple(frame[-1, 80]) == bgr("#dcdcd2")  # the bottom row sees the floor
    walled = World.empty(2.0, 2.0, border={"height": 1.0})
    robot = walled.add_robot(SPEC, Pose(1.0, 1.0, 0.0))
    frame = robot.sensors.camera(CameraSpec(width=160, height=120, tilt_deg=0)).read()
    assert (
        not (frame[:59] == SKY).all(axis=2).any()
    )  # a wall 0.9 m away fills the view above the floor


def test_boxes_and_other_robots_are_drawn() -> None:
    world = World.empty(
        3.0, 2.0, boxes=[{"at": (1.6, 1.0), "size": (0.2, 0.3), "colour": "#00ff00"}]
    )
    robot = world.add_robot(SPEC, Pose(1.0, 1.0, 0.0))
    frame = robot.sensors.camera(CameraSpec(width=160, height=120, tilt_deg=0)).read()
    green = (frame[:, :, 1] > 150) & (frame[:, :, 0] < 60) & (frame[:, :, 2] < 60)
    assert green[:, 60:100].mean() > 0.2
    world.add_robot(BodySpec(colour="#ff0000", height=0.15), Pose(1.3, 1.0, 180.0))
    frame = robot.sensors.camera(CameraSpec(width=160, height=120, tilt_deg=0)).read()
    red = red_mask(frame)
    assert red[70:, 70:90].all()  # the other robot hides the box
    assert not red[:15].any()


def test_effects_are_seeded_and_change_the_frame() -> None:
    world = load_world(world_path("sign-road"))
    robot = world.add_robot(SPEC)
    clean = robot.sensors.camera(CameraSpec()).read()
    spec = CameraSpec(light_variation=0.3, blur_px=1.0, noise=4.0, jpeg_quality=70, seed=5)
    a = robot.sensors.camera(spec).read()
    assert not np.array_equal(a, clean)
    assert np.array_equal(a, robot.sensors.camera(spec).read())
    cam = robot.sensors.camera(spec)
    first, second = cam.read(), cam.read()
    assert not np.array_equal(first, second)  # lighting and noise differ frame to frame
    assert cam.frames == 2
    assert abs(float(clean.mean()) - float(first.mean())) < 60
    darker = robot.sensors.camera(CameraSpec(brightness=0.5)).read()
    assert float(darker.mean()) == pytest.approx(float(clean.mean()) * 0.5, rel=0.02)


def test_camera_follows_the_robot() -> None:
    world = load_world(world_path("obstacle-room"))
    robot = world.add_robot(SPEC)
    cam = robot.sensors.camera(CameraSpec(width=160, height=120))
    before = cam.read()
    assert np.array_equal(before, cam.read())  # same time, same pose: same frame
    robot.set_motors(-0.5, 0.5)
    world.run(0.5)
    assert not np.array_equal(before, cam.read())


def test_bad_camera_specs_are_refused() -> None:
    with pytest.raises(SimValueError):
        CameraSpec(width=0)
    with pytest.raises(SimValueError):
        CameraSpec(fov_deg=180)
    with pytest.raises(ValueError, match="jpeg"):
        CameraSpec(jpeg_quality=0)


def test_topdown_shows_the_robot_trail_and_rays() -> None:
    world = load_world(world_path("oval-track"))
    robot = world.add_robot(BodySpec(colour="#ff0000"))
    robot.set_motors(0.5, 0.5)
    world.run(1.0)
    robot.sensors.distance()
    img = world.render_topdown(max_px=600)
    assert img.shape == (400, 600, 3)
    p = robot.pose
    u, v = round(p.x * 200 - 0.5), round((2.0 - p.y) * 200 - 0.5)
    assert tuple(img[v + 5, u - 5]) == (0, 0, 255)  # inside the robot's disc
    trail = (img[:, :, 2] > 200) & (img[:, :, 1] > 100) & (img[:, :, 1] < 180) & (img[:, :, 0] < 60)
    assert trail[v - 3 : v + 4, 310 : u - 20].any()  # the orange trail behind it
    ray = (img[:, :, 2] > 200) & (img[:, :, 1] > 170) & (img[:, :, 0] < 60)
    assert ray[v - 20 : v + 20, u + 20 :].any()  # the yellow beam ahead


def test_sign_views_for_training_are_labelled_varied_and_repeatable() -> None:
    views = list(sign_views(4, size=32, seed=2, kinds=["stop", "left"]))
    assert [label for label, _ in views] == ["stop"] * 4 + ["left"] * 4
    assert all(img.shape == (32, 32, 3) and img.dtype == np.uint8 for _, img in views)
    again = list(sign_views(4, size=32, seed=2, kinds=["stop", "left"]))
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(views, again, strict=True))
    for label, img in views:
        b, g, r = (img[:, :, i].astype(int) for i in range(3))
        if label == "stop":
            assert ((r > g + 60) & (r > b + 60)).mean() > 0.15
        else:
            assert ((b > r + 60) & (b > g + 20)).mean() > 0.15
    # the background changes from picture to picture
    corners = {tuple(img[0, 0]) for _, img in views}
    assert len(corners) >= 6
    with pytest.raises(SimValueError):
        next(sign_views(0))


def test_far_floor_is_filtered_not_aliased() -> None:
    world = World.empty(
        8.0,
        1.0,
        border=False,
        lines=[{"shape": "polyline", "points": [(0.5, 0.5), (7.9, 0.5)], "width": 0.019}],
    )
    robot = world.add_robot(SPEC, Pose(0.3, 0.5, 0.0))
    cam = robot.sensors.camera(CameraSpec(width=320, height=240, tilt_deg=0))
    grey = cv2.cvtColor(cam.read(), cv2.COLOR_BGR2GRAY).astype(int)
    floor = int(grey[-1, 10])
    uv, _ = cam.project(np.array([[7.0, 0.5, 0.0]]))
    darkest = [int(grey[v, 140:180].min()) for v in range(round(uv[0][1]), 240)]
    assert all(d < floor - 15 for d in darkest)  # the line is seen all the way to 7 m
    # a line narrower than a pixel blends with the floor, as in a real camera
    assert darkest[0] > darkest[-1] + 50


@pytest.mark.parametrize("suffix", [".mp4", ".gif"])
def test_recorder_writes_a_video_of_the_view(tmp_path: Path, suffix: str) -> None:
    world = load_world(world_path("oval-track"))
    robot = world.add_robot(SPEC)
    cam = robot.sensors.camera(CameraSpec(width=160, height=120))
    robot.set_motors(0.4, 0.5)
    path = tmp_path / f"run{suffix}"
    with Recorder(path, fps=10) as video:
        for _ in range(12):
            world.step(0.1)
            view = compose_view(world, [cam.read()], height=240)
            video.add(view)
    assert video.closed and video.frames == 12
    assert view.shape == (240 + 28, 360 + 320, 3)  # 3 x 2 m floor at 240 px, camera 320 x 240
    if suffix == ".mp4":
        reader = cv2.VideoCapture(str(path))
        assert reader.get(cv2.CAP_PROP_FRAME_COUNT) == 12
        ok, first = reader.read()
        reader.release()
        assert ok and first.shape == view.shape
    else:
        ok, animation = cv2.imreadanimation(str(path))
        assert ok and len(animation.frames) == 12
    with pytest.raises(SimValueError):
        video.add(view)
    with pytest.raises(SimValueError, match=r"mp4 or \.gif"):
        Recorder(tmp_path / "run.avi")


def test_vignette_and_turning_smear() -> None:
    world = load_world(world_path("sign-road"))
    robot = world.add_robot(SPEC)
    clean = robot.sensors.camera(CameraSpec()).read().astype(int)
    vignetted = robot.sensors.camera(CameraSpec(vignette=0.4)).read().astype(int)
    assert np.array_equal(vignetted[120, 160], clean[120, 160])
    assert vignetted[0, 0].sum() == pytest.approx(clean[0, 0].sum() * 0.6, rel=0.02)
    # standing still: no smear; turning: vertical edges smear sideways
    still = robot.sensors.camera(CameraSpec(exposure_s=0.03)).read()
    assert np.array_equal(still, clean.astype(np.uint8))
    robot.set_motors(-0.5, 0.5)
    world.step(0.01)
    sharp = cv2.Sobel(
        cv2.cvtColor(robot.sensors.camera(CameraSpec()).read(), cv2.COLOR_BGR2GRAY),
        cv2.CV_32F,
        1,
        0,
    )
    smeared = robot.sensors.camera(CameraSpec(exposure_s=0.03)).read()
    soft = cv2.Sobel(cv2.cvtColor(smeared, cv2.COLOR_BGR2GRAY), cv2.CV_32F, 1, 0)
    assert np.abs(soft).max() < 0.3 * np.abs(sharp).max()
