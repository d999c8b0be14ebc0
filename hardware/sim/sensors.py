"""A simulated robot's sensors: they read the body's pose and the world through a view.

Every robot has one :class:`Sensors`, ``body.sensors``::

    world = World.empty(2.0, 2.0)
    robot = world.add_robot()
    robot.sensors.distance(Mount(x=0.08))          # 0.92: the wall ahead
    robot.sensors.line_reflectance([(0.06, 0.0)])  # array([1.]): white floor
    robot.sensors.heading_deg                     # 0.0

Sensors never move the robot and never touch the world: they ask the body
where it is and the :class:`~hardware.sim.view.WorldView` what is there. Each
noisy sensor draws from its own seeded generator, so reading one more sensor
never changes another's noise, nor the motors'.
"""

from __future__ import annotations

import functools
import math
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from hardware.sim.buttons import Buttons
from hardware.sim.camera import SimCamera
from hardware.sim.errors import SimValueError
from hardware.sim.specs import CameraSpec, Mount, wrap_deg

if TYPE_CHECKING:
    from hardware.sim.body import Body
    from hardware.sim.clock import SimClock
    from hardware.sim.view import SensorView

__all__ = ["Sensors"]

# noise channels (1, 2 and 5 are the body's motor, slip and encoder noise)
_ULTRASONIC, _LINE, _IMU = 3, 4, 6


@functools.lru_cache(maxsize=32)
def _spread(n: int, beam_width_deg: float) -> NDArray[np.float64]:
    """``n`` ray angles (radians) across a beam, centred on 0 (cached: read-only)."""
    half = math.radians(beam_width_deg) / 2
    out = np.linspace(-half, half, n)
    out.flags.writeable = False
    return out


class Sensors:
    """The ultrasonic, line sensors, encoders, IMU, buttons and cameras of one body."""

    def __init__(self, view: SensorView, body: Body, clock: SimClock) -> None:
        self._view = view
        self._body = body
        self._noise = view.noise  # frozen: read once
        self.buttons = Buttons(clock)
        self._rays: dict[Mount, tuple[NDArray[np.float64], NDArray[np.float64]]] = {}
        seed = view.seed
        self._rng = {
            ch: np.random.default_rng([seed, body.index, ch]) for ch in (_ULTRASONIC, _LINE, _IMU)
        }

    def distance(
        self,
        mount: Mount | None = None,
        max_range: float = 4.0,
        beam_width_deg: float = 15.0,
        min_range: float = 0.02,
        *,
        max_incidence_deg: float | None = None,
    ) -> float:
        """Ultrasonic range (m) from ``mount``: the nearest echo in the beam, ``max_range`` if none.

        With ``max_incidence_deg``, a surface hit more obliquely than that
        (angle between the ray and the surface's normal) sends no echo back, as
        with a real ultrasonic sensor and a wall seen at a slant.
        """
        if not (max_range > 0 and beam_width_deg >= 0):
            raise SimValueError("max_range must be > 0 and beam_width_deg >= 0")
        with self._view.held():
            hits = self._beam(
                mount or Mount(x=self._body.spec.radius),
                max_range,
                beam_width_deg,
                max_incidence_deg,
            )
            nearest = float(hits.min())
            if nearest >= max_range:
                return float(max_range)
            sd = self._noise.ultrasonic
            if sd:
                nearest += sd * float(self._rng[_ULTRASONIC].standard_normal())
        return min(float(max_range), max(float(min_range), nearest))

    def _beam(
        self, m: Mount, max_range: float, beam_width_deg: float, max_incidence_deg: float | None
    ) -> NDArray[np.float64]:
        n = 1 if beam_width_deg == 0 else max(3, math.ceil(beam_width_deg / 2.5) + 1)
        body = self._body
        angles = body.theta + math.radians(m.angle) + _spread(n, beam_width_deg)
        at = body.mount_point(m.x, m.y)
        origin = np.array(at)
        dirs = np.empty((n, 2))
        np.cos(angles, out=dirs[:, 0])
        np.sin(angles, out=dirs[:, 1])
        hits, cosine = self._view.beam(at, dirs, max_range, exclude=body)
        self._rays[m] = (origin, origin + dirs * hits[:, None])
        if max_incidence_deg is not None:
            hits = np.where(cosine >= math.cos(math.radians(max_incidence_deg)), hits, max_range)
        return hits

    @property
    def rays(self) -> list[tuple[NDArray[np.float64], NDArray[np.float64]]]:
        """The last ultrasonic beam of each mount: (origin (2,), ends (n, 2))."""
        return list(self._rays.values())

    def line_reflectance(
        self, offsets: list[tuple[float, float]] | NDArray[np.float64], spot: float = 0.008
    ) -> NDArray[np.float64]:
        """Floor brightness 0 (black) .. 1 (white) under sensors at (forward, left) offsets (m)."""
        off = np.asarray(offsets, np.float64).reshape(-1, 2)
        with self._view.held():
            body = self._body
            c, s = math.cos(body.theta), math.sin(body.theta)
            x, y = body.position
            points = [[x + f * c - left * s, y + f * s + left * c] for f, left in off.tolist()]
            values = np.array(self._view.floor_sample(points, spot))
            sd = self._noise.line
            if sd:
                noise = sd * self._rng[_LINE].standard_normal(len(values))
                values = np.clip(values + noise, 0.0, 1.0)
            return values

    @property
    def encoder_ticks(self) -> tuple[int, int]:
        """Encoder counts (left, right), negative when driven backwards."""
        spec = self._body.spec
        per_m = spec.ticks_per_rev / (2 * math.pi * spec.wheel_radius)
        left, right = self._body.encoder_distance
        return (math.floor(left * per_m + 1e-9), math.floor(right * per_m + 1e-9))

    @property
    def heading_deg(self) -> float:
        """IMU yaw in degrees (-180, 180], with the world's drift and noise."""
        n = self._noise
        value = math.degrees(self._body.theta) + n.imu_drift * self._view.time
        if n.imu_heading:
            value += n.imu_heading * float(self._rng[_IMU].standard_normal())
        return wrap_deg(value)

    @property
    def yaw_rate_dps(self) -> float:
        """IMU turn rate in degrees per second, counter-clockwise positive."""
        n = self._noise
        value = math.degrees(self._body.yaw_rate) + n.imu_drift
        if n.imu_rate:
            value += n.imu_rate * float(self._rng[_IMU].standard_normal())
        return value

    def imu(self) -> tuple[float, float]:
        """Heading and yaw rate read together (the world does not move between them)."""
        with self._view.held():
            return self.heading_deg, self.yaw_rate_dps

    @property
    def battery_voltage(self) -> float:
        """The battery's voltage (no noise: the body's charge as a voltmeter reads it)."""
        return self._body.battery_voltage

    def camera(self, spec: CameraSpec | None = None) -> SimCamera:
        """A forward camera on this robot (see :class:`SimCamera`)."""
        return SimCamera(self._view, self._body, spec or CameraSpec())
