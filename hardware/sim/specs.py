"""What a simulated robot is made of: plain, frozen values (SI units, degrees).

The ``sim`` backend fills these from the kit profile; tests write them by hand::

    spec = BodySpec(wheel_base=0.12, max_wheel_speed=0.5, acceleration=None)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import NamedTuple

from hardware.sim.colour import check_colour
from hardware.sim.errors import SimValueError

__all__ = [
    "BatterySpec",
    "BodySpec",
    "CameraSpec",
    "CheckpointEvent",
    "Collision",
    "Mount",
    "Pose",
    "ZoneEvent",
    "wrap_deg",
]


def wrap_deg(angle: float) -> float:
    """An angle in degrees -> (-180, 180]."""
    a = math.fmod(angle, 360.0)
    if a <= -180.0:
        a += 360.0
    elif a > 180.0:
        a -= 360.0
    return a


def _positive(owner: object, *names: str) -> None:
    for name in names:
        value = getattr(owner, name)
        if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
            raise SimValueError(
                f"{type(owner).__name__}.{name} must be a positive number, not {value!r}"
            )


class Pose(NamedTuple):
    """Where a robot is: metres on the floor and heading in degrees (counter-clockwise from +x)."""

    x: float
    y: float
    heading: float


class Collision(NamedTuple):
    """The robot touched something at sim time ``time`` (seconds)."""

    time: float
    pose: Pose
    obstacle: str  # the name from the world file, e.g. "wall 3", "border", "robot 2"


class CheckpointEvent(NamedTuple):
    """The robot's centre crossed a checkpoint gate."""

    time: float
    checkpoint: str


class ZoneEvent(NamedTuple):
    """The robot's centre entered or left a zone."""

    time: float
    zone: str
    entered: bool


@dataclass(frozen=True)
class Mount:
    """Where a sensor sits on the robot, in metres from the wheel axle's centre (as in kit profiles)."""

    x: float = 0.0  # forward
    y: float = 0.0  # left
    z: float = 0.05  # up
    angle: float = 0.0  # degrees, where it points: counter-clockwise from straight ahead


@dataclass(frozen=True)
class BatterySpec:
    """A battery whose voltage falls linearly from ``full_v`` to ``empty_v`` as energy is used."""

    full_v: float = 8.4
    empty_v: float = 6.4
    capacity_wh: float = 10.0
    idle_w: float = 2.0  # computer and sensors
    motor_w: float = 4.0  # each motor at full power
    charge: float = 1.0  # at the start, 0..1

    def __post_init__(self) -> None:
        _positive(self, "full_v", "empty_v", "capacity_wh")
        if self.idle_w < 0 or self.motor_w < 0:
            raise SimValueError("BatterySpec idle_w and motor_w cannot be negative")
        if not self.empty_v < self.full_v or not 0 <= self.charge <= 1:
            raise SimValueError("BatterySpec needs empty_v < full_v and 0 <= charge <= 1")


@dataclass(frozen=True)
class BodySpec:
    """A differential-drive robot.

    ``max_wheel_speed`` is the wheel speed (m/s) at motor value 1.0; ``acceleration`` limits
    how fast each wheel's speed changes (m/s^2, ``None`` = at once);
    ``mismatch`` makes the left wheel faster than the right by that fraction
    (negative: slower), as real motors differ; motor values smaller than
    ``deadband`` do not turn the wheel.
    """

    wheel_base: float = 0.12  # metres between the wheels
    wheel_radius: float = 0.033
    ticks_per_rev: int = 360  # encoder counts per wheel turn
    radius: float = 0.08  # footprint circle for collisions (and how other robots see it)
    footprint: tuple[float, float] | None = None  # (length, width): a box instead of the circle
    footprint_offset: float = 0.0  # the box's centre is this far ahead of the wheel axle
    height: float = 0.1  # how tall other robots' cameras see it
    max_wheel_speed: float = 0.5
    acceleration: float | None = None
    mismatch: float = 0.0
    deadband: float = 0.0
    speed_follows_battery: bool = False  # slower as the battery drains
    colour: str = "#2060d0"
    battery: BatterySpec = field(default_factory=BatterySpec)

    def __post_init__(self) -> None:
        _positive(
            self,
            "wheel_base",
            "wheel_radius",
            "ticks_per_rev",
            "radius",
            "height",
            "max_wheel_speed",
        )
        if self.acceleration is not None:
            _positive(self, "acceleration")
        if self.footprint is not None and not (
            len(self.footprint) == 2 and all(v > 0 for v in self.footprint)
        ):
            raise SimValueError("BodySpec.footprint must be (length, width) in metres, both > 0")
        if not -1 < self.mismatch < 1 or not 0 <= self.deadband < 1:
            raise SimValueError("BodySpec needs -1 < mismatch < 1 and 0 <= deadband < 1")
        check_colour(self.colour)


@dataclass(frozen=True)
class CameraSpec:
    """A forward camera: pinhole model plus what makes frames look real.

    ``fov_deg`` is the horizontal field of view; a negative ``tilt_deg`` looks
    down (as in kit profiles). ``x``, ``y``, ``angle`` place it on the robot
    like a :class:`Mount`, ``height_m`` above the floor.
    ``light_variation`` changes brightness by up to that fraction per frame,
    ``blur_px`` is a Gaussian blur sigma, ``noise`` a pixel noise sigma (0..255),
    ``vignette`` darkens the corners, ``exposure_s`` smears the image while the
    robot turns, ``jpeg_quality`` adds compression artefacts. All are seeded by ``seed``.
    """

    width: int = 320
    height: int = 240
    fov_deg: float = 62.2  # Raspberry Pi camera v2
    height_m: float = 0.1
    tilt_deg: float = -15.0
    x: float = 0.05
    y: float = 0.0
    angle: float = 0.0
    brightness: float = 1.0
    light_variation: float = 0.0
    blur_px: float = 0.0
    noise: float = 0.0
    vignette: float = 0.0  # corners this fraction darker than the centre
    exposure_s: float = 0.0  # smears the image sideways while the robot turns
    jpeg_quality: int | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        _positive(self, "width", "height", "fov_deg", "height_m", "brightness")
        if not self.fov_deg < 170 or not -89 < self.tilt_deg < 89:
            raise SimValueError("CameraSpec needs fov_deg < 170 and -89 < tilt_deg < 89")
        if min(self.light_variation, self.blur_px, self.noise, self.exposure_s) < 0:
            raise SimValueError(
                "CameraSpec light_variation, blur_px, noise and exposure_s cannot be negative"
            )
        if not 0 <= self.vignette < 1:
            raise SimValueError("CameraSpec.vignette must be 0..1")
        if self.jpeg_quality is not None and not 1 <= self.jpeg_quality <= 100:
            raise SimValueError("CameraSpec.jpeg_quality must be 1..100")
