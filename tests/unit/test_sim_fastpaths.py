"""The simulator's quick paths give the answers of the plain, slow ones.

The collision grid, the few-point floor sampler and the camera's unclipped
faces exist only for speed (see bench/bench_sim.py); each is checked here
against the straightforward computation it replaces.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import hardware.sim.camera as sim_camera
import hardware.sim.obstacles as obstacles
from hardware.sim import BodySpec, CameraSpec, Pose, World, load_world, world_path
from hardware.sim.obstacles import Obstacles


def answers(
    obs: Obstacles, queries: list[tuple[float, float, float, float, float]]
) -> list[int | None]:
    """hit_by_circle and hit_by_box for every (x, y, r, heading, half_width) query."""
    out: list[int | None] = []
    for x, y, r, heading, half_w in queries:
        out.append(obs.hit_by_circle(x, y, r))
        out.append(obs.hit_by_box(x, y, heading, half_length=r, half_width=half_w))
    return out


@pytest.mark.parametrize("name", ["obstacle-room", "sign-road", "aruco-arena"])
def test_collision_grid_finds_what_checking_every_edge_finds(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = load_world(world_path(name))
    rng = np.random.default_rng(5)
    w, h = world.model.size
    n = 3000
    queries = list(
        zip(
            rng.uniform(-0.2, w + 0.2, n).tolist(),
            rng.uniform(-0.2, h + 0.2, n).tolist(),
            rng.uniform(0.01, 0.3, n).tolist(),  # some reach past the grid: both paths
            rng.uniform(-3.2, 3.2, n).tolist(),
            rng.uniform(0.01, 0.1, n).tolist(),
            strict=True,
        )
    )
    quick = answers(Obstacles.from_model(world.model), queries)
    monkeypatch.setattr(obstacles, "_REACH", -1.0)  # no query fits the grid: every edge
    slow = answers(Obstacles.from_model(world.model), queries)
    assert quick == slow
    hits = sum(a is not None for a in slow)
    assert 0.1 * len(slow) < hits < 0.9 * len(slow)  # both answers are tested
    assert len({a for a in slow if a is not None}) > 3  # and many different things hit


def test_few_point_floor_sampling_is_bit_for_bit_the_array_sampling() -> None:
    floor = load_world(world_path("oval-track")).floor
    rng = np.random.default_rng(1)
    points = np.column_stack([rng.uniform(-0.1, 3.1, 40), rng.uniform(-0.1, 2.1, 40)])
    assert len(points) > 16  # sample() takes the array path for these
    for spot in (0.0, 0.008, 0.02):
        slow = floor.sample(points, spot)
        fast = floor.sample_few(points.tolist(), spot)
        assert slow.tolist() == fast
        assert 0.0 in fast and max(fast) > 0.5  # off the floor and on it both seen


@pytest.mark.parametrize("name", ["oval-track", "obstacle-room", "sign-road"])
def test_unclipped_faces_draw_what_clipped_faces_draw(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Faces inside the view go straight to OpenCV; clipping them first gives the same picture."""
    world = load_world(world_path(name))
    robot = world.add_robot(BodySpec(acceleration=None))
    world.add_robot(BodySpec(), pose=Pose(world.model.size[0] / 2, 0.6, 0.0))
    cam = robot.sensors.camera(CameraSpec(width=160, height=120))
    robot.set_motors(-0.3, 0.3)
    frames = []
    for _ in range(36):
        world.step(0.1)
        frames.append(cam.render())
    monkeypatch.setattr(sim_camera, "_SAFE_PX", -1.0)  # every face counts as far off: clipped
    clipped = []
    world2 = load_world(world_path(name))
    robot2 = world2.add_robot(BodySpec(acceleration=None))
    world2.add_robot(BodySpec(), pose=Pose(world2.model.size[0] / 2, 0.6, 0.0))
    cam2 = robot2.camera(CameraSpec(width=160, height=120))
    robot2.set_motors(-0.3, 0.3)
    for _ in range(36):
        world2.step(0.1)
        clipped.append(cam2.render())
    a = np.array(frames, np.int16)
    b = np.array(clipped, np.int16)
    differ = np.abs(a - b).max(axis=-1) > 8
    # only anti-aliased edge pixels where a face leaves the picture may differ
    assert differ.mean() < 0.002
    assert not np.array_equal(a[0], a[9])  # the robot turned: different views were compared


def test_the_empty_world_renders() -> None:
    frame = World.empty(1.0, 1.0, border=False).add_robot().camera().read()
    assert frame.shape == (240, 320, 3)


@pytest.mark.parametrize("name", ["oval-track", "obstacle-room", "sign-road", "aruco-arena"])
def test_a_beam_from_one_point_hits_what_the_general_ray_cast_hits(name: str) -> None:
    world = load_world(world_path(name))
    obs = world.obstacles
    rng = np.random.default_rng(11)
    w, h = world.model.size
    others = np.array([[w / 2, h / 2, 0.08], [w / 3, h / 3, 0.1]])
    hits = 0
    for _ in range(400):
        origin = (float(rng.uniform(0, w)), float(rng.uniform(0, h)))
        width = float(rng.choice([0.0, 15.0, 40.0]))
        n = 1 if width == 0 else 7
        angles = rng.uniform(-math.pi, math.pi) + np.linspace(-width / 2, width / 2, n) * (
            math.pi / 180
        )
        dirs = np.column_stack([np.cos(angles), np.sin(angles)])
        extra = others if rng.uniform() < 0.3 else np.zeros((0, 3))
        quick = obs.beam_hits(origin, dirs, 4.0, extra)
        slow = obs.ray_hits(np.tile(origin, (n, 1)), dirs, 4.0, extra)
        assert quick[0].tolist() == slow[0].tolist()  # bit for bit
        assert quick[1].tolist() == slow[1].tolist()
        hits += int((slow[0] < 4.0).sum())
    assert hits > 200  # the beams really hit things
