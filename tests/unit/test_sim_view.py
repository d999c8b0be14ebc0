"""The body moves, its sensors read: both through a narrow, read-only view of the world."""

from __future__ import annotations

import ast
import threading
from pathlib import Path

import numpy as np

import hardware.sim
from hardware.sim import Mount, World, WorldView

SIM = Path(hardware.sim.__file__).parent


def test_body_sensors_and_camera_see_only_the_view() -> None:
    for name in ("body.py", "sensors.py", "camera.py"):
        tree = ast.parse((SIM / name).read_text(encoding="utf-8"))
        reached = {
            node.attr
            for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and node.attr in ("lock", "obstacles", "robots")
        }
        assert not reached, (name, reached)
        imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        assert "hardware.sim.world" not in imported, name


def test_the_view_answers_what_the_world_would() -> None:
    world = World.empty(2.0, 2.0, zones=[{"name": "goal", "rect": (0.0, 0.0, 0.5, 0.5)}])
    robot = world.add_robot()
    view = world.view
    assert isinstance(view, WorldView)
    assert view.zones_at(0.2, 0.2) == world.zones_at(0.2, 0.2) == {"goal"}
    dirs = np.array([[1.0, 0.0]])
    hits, _ = view.beam((1.0, 1.0), dirs, 4.0, exclude=robot)
    assert 0.9 < hits[0] <= 1.0  # the border wall, from the floor's centre
    assert robot.sensors.distance(Mount(x=0.0), beam_width_deg=0) == hits[0]
    assert view.others(robot) == []


def test_held_keeps_the_world_still() -> None:
    world = World.empty(2.0, 2.0)
    robot = world.add_robot()
    robot.set_motors(1.0, 1.0)
    stepped = threading.Event()

    def step() -> None:
        world.step(0.1)
        stepped.set()

    with world.view.held():
        before = robot.pose
        mover = threading.Thread(target=step)
        mover.start()
        assert not stepped.wait(0.2)
        assert robot.pose == before
    mover.join(timeout=5)
    assert stepped.is_set() and robot.pose != before
