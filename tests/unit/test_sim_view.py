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


def test_what_owns_a_thread_or_file_closes_once(tmp_path: Path) -> None:
    from hardware.backends.sim import SimBackend  # noqa: PLC0415
    from hardware.kit import load_kit  # noqa: PLC0415
    from hardware.sim import Pacer, Recorder  # noqa: PLC0415
    from rcbase.closeable import Closeable  # noqa: PLC0415

    world = World.empty(1.0, 1.0)
    with Pacer(world.clock) as pacer, Recorder(tmp_path / "run.gif", fps=5) as video:
        assert isinstance(pacer, Closeable) and isinstance(video, Closeable)
        video.add(world.render_topdown(max_px=64))
        assert pacer.wait() >= 0.0  # the sim clock stands still: never ahead
    assert pacer.closed and video.closed and (tmp_path / "run.gif").is_file()
    pacer.close()
    video.close()  # twice is fine
    backend = SimBackend(load_kit("sim"), world="oval-track", realtime=True)
    backend.motor("left").set(0.5)
    backend.close()
    backend.close()
    assert backend.closed and backend.body.motors == (0.0, 0.0)
