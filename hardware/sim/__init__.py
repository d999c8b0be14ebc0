"""The simulator core: a 2-D world, differential-drive robots, sensors and a camera.

It imports only numpy, OpenCV, PyYAML, pydantic and :mod:`rcbase`, so the
``sim`` backend of :mod:`hardware` is a thin adapter on top of it::

    from hardware.sim import BodySpec, CameraSpec, Mount, load_world, world_path

    world = load_world(world_path("oval-track"))
    robot = world.add_robot(BodySpec(max_wheel_speed=0.4))
    cam = robot.sensors.camera(CameraSpec(width=320, height=240))
    robot.set_motors(0.5, 0.5)
    world.step(0.01)
    robot.pose, robot.sensors.distance(Mount(x=0.08)), robot.sensors.line_reflectance([(0.06, 0.0)])
    frame = cam.read()
    overview = world.render_topdown()

The parts: a :class:`World` (floor, obstacles, robots, clock) steps its
bodies; a :class:`Body` only moves (motors, wheels, pose, collisions, zones,
laps); its :class:`Sensors` (``body.sensors``) and cameras read the world
through a narrow, read-only :class:`WorldView`; :func:`truth_of` records what
the world saw of a body as a :class:`SimTruth` (what lesson graders read).

Units are SI (metres, seconds); headings are degrees counter-clockwise from
the world's +x axis. Errors: :mod:`hardware.sim.errors`; world files raise
:class:`rcbase.ConfigError`.
"""

from __future__ import annotations

from hardware.sim.body import Body
from hardware.sim.buttons import Buttons
from hardware.sim.camera import SimCamera
from hardware.sim.catalog import WORLDS_DIR, list_worlds, world_path
from hardware.sim.clock import Pacer, SimClock
from hardware.sim.errors import (
    SimError,
    SimValueError,
    TruthFormatError,
    UnknownStartError,
    UnknownWorldError,
)
from hardware.sim.model import WorldModel
from hardware.sim.record import Recorder, compose_view
from hardware.sim.sensors import Sensors
from hardware.sim.signset import sign_views
from hardware.sim.specs import (
    BatterySpec,
    BodySpec,
    CameraSpec,
    CheckpointEvent,
    Collision,
    Mount,
    Pose,
    ZoneEvent,
)
from hardware.sim.textures import SIGN_KINDS, marker_texture, sign_texture
from hardware.sim.truth import SimTruth, truth_of
from hardware.sim.view import WorldView
from hardware.sim.world import World, load_world

__all__ = [
    "SIGN_KINDS",
    "WORLDS_DIR",
    "BatterySpec",
    "Body",
    "BodySpec",
    "Buttons",
    "CameraSpec",
    "CheckpointEvent",
    "Collision",
    "Mount",
    "Pacer",
    "Pose",
    "Recorder",
    "Sensors",
    "SimCamera",
    "SimClock",
    "SimError",
    "SimTruth",
    "SimValueError",
    "TruthFormatError",
    "UnknownStartError",
    "UnknownWorldError",
    "World",
    "WorldModel",
    "WorldView",
    "ZoneEvent",
    "compose_view",
    "list_worlds",
    "load_world",
    "marker_texture",
    "sign_texture",
    "sign_views",
    "truth_of",
    "world_path",
]
