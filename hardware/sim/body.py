"""One simulated robot's body: motors -> wheels -> pose, collisions, zones and laps.

A body is made by :meth:`World.add_robot`; the world moves it on each step::

    world = World.empty(2.0, 2.0)
    robot = world.add_robot(BodySpec(max_wheel_speed=0.5))
    robot.set_motors(1.0, 1.0)
    world.run(1.0)
    robot.pose            # Pose(x=1.5, y=1.0, heading=0.0): 0.5 m from the floor's centre

Motor values are -1..1; a wheel's speed follows ``value * max_wheel_speed`` within
the acceleration limit. Pose is integrated exactly along the arc for each
sub-step. A move that would overlap a wall, obstacle or other robot is not
made: the wheels stall, the robot stops, and a :class:`Collision` is recorded
once per contact.

The body only moves: it asks its :class:`~hardware.sim.view.WorldView` what
it would hit and which zones and gates it is in. What the robot senses is
``body.sensors`` (:mod:`hardware.sim.sensors`).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from hardware.sim.errors import SimValueError
from hardware.sim.sensors import Sensors
from hardware.sim.specs import (
    BodySpec,
    CameraSpec,
    CheckpointEvent,
    Collision,
    Pose,
    ZoneEvent,
    wrap_deg,
)

if TYPE_CHECKING:
    from hardware.sim.camera import SimCamera
    from hardware.sim.clock import SimClock
    from hardware.sim.view import MotionView, WorldView

__all__ = ["Body"]

# noise channels: each gets its own seeded generator, so adding a sensor read
# never changes the motor noise sequence (3, 4 and 6 are the sensors', see sensors.py)
_MOTOR, _SLIP, _ENCODER = 1, 2, 5
_TRAIL_MOVE = 0.002  # metres
_TRAIL_TURN = math.radians(1.0)
_CONTACT_MARGIN = 0.002  # metres


class Body:
    """A simulated differential-drive robot (see the module docstring)."""

    def __init__(
        self, view: WorldView, clock: SimClock, index: int, spec: BodySpec, pose: Pose
    ) -> None:
        self._view: MotionView = view  # a body only asks what moving needs
        self._clock = clock
        # the world's settings are frozen: read them once, not on every sub-step
        self._noise, self._slip, self._gates = view.noise, view.slip, view.checkpoints
        self.index = index
        self.spec = spec
        self.name = f"robot {index + 1}"
        self._x, self._y, self._theta = pose.x, pose.y, math.radians(pose.heading)
        self._cmd = (0.0, 0.0)
        self._v = [0.0, 0.0]  # wheel surface speeds, m/s
        self._omega = 0.0  # rad/s over the last sub-step
        self._wheel_travel = [0.0, 0.0]  # metres, as the encoders see it
        self._used_wh = 0.0
        self._contact: str | None = None
        self._collisions: list[Collision] = []
        self._zones: frozenset[str] = view.zones_at(pose.x, pose.y)
        self._zone_events: list[ZoneEvent] = []
        self._checkpoint_events: list[CheckpointEvent] = []
        self._next_gate = 0
        self._lap_start: float | None = None
        self._laps: list[float] = []
        self._trail: list[tuple[float, float, float, float]] = [(clock.time, *pose)]
        self._rng = {
            ch: np.random.default_rng([view.seed, index, ch]) for ch in (_MOTOR, _SLIP, _ENCODER)
        }
        self.sensors = Sensors(view, self, clock)

    # -- driving ---------------------------------------------------------
    def set_motors(self, left: float, right: float) -> None:
        """Motor values -1..1 (clamped); positive drives forward."""
        for value in (left, right):
            if not math.isfinite(value):
                raise SimValueError(f"motor value must be a number -1..1, not {value!r}")
        self._cmd = (min(1.0, max(-1.0, float(left))), min(1.0, max(-1.0, float(right))))

    @property
    def motors(self) -> tuple[float, float]:
        return self._cmd

    def stop(self) -> None:
        self.set_motors(0.0, 0.0)

    def teleport(self, pose: Pose) -> None:
        """Put the robot at ``pose`` at rest (wheel speeds zero, contact cleared)."""
        self._x, self._y, self._theta = pose.x, pose.y, math.radians(pose.heading)
        self._v = [0.0, 0.0]
        self._omega = 0.0
        self._contact = None
        self._zones = self._view.zones_at(pose.x, pose.y)  # no zone events for a jump
        self._trail.append((self._clock.time, *self.pose))

    def _targets(self) -> tuple[float, float]:
        s = self.spec
        gains = (1 + s.mismatch / 2, 1 - s.mismatch / 2)
        scale = s.max_wheel_speed * (
            self.battery_voltage / s.battery.full_v if s.speed_follows_battery else 1.0
        )
        if self.battery_charge <= 0.0:
            return 0.0, 0.0  # a flat battery turns no wheels
        noise = self._noise.motor
        out = []
        for cmd, gain in zip(self._cmd, gains, strict=True):
            target = 0.0 if abs(cmd) < s.deadband else cmd * scale * gain
            if noise:
                target *= 1.0 + noise * float(self._rng[_MOTOR].standard_normal())
            out.append(target)
        return out[0], out[1]

    def _wheels(self, dt: float) -> tuple[list[float], list[float]]:
        """Update wheel speeds; return their mean over the sub-step and the ground speeds."""
        s = self.spec
        targets = self._targets()
        before = list(targets) if s.acceleration is None else list(self._v)
        for i in (0, 1):
            if s.acceleration is None:
                self._v[i] = targets[i]
            else:
                self._v[i] += max(
                    -s.acceleration * dt, min(s.acceleration * dt, targets[i] - self._v[i])
                )
        # the mean speed over the sub-step: exact for a speed ramp
        mean = [(before[i] + self._v[i]) / 2 for i in (0, 1)]
        ground = list(mean)
        slip_mean = self._slip
        slip_sd = self._noise.slip
        for i in (0, 1):
            slip = slip_mean
            if slip_sd:
                slip += slip_sd * float(self._rng[_SLIP].standard_normal())
            ground[i] *= 1.0 - min(1.0, max(0.0, slip))
        return mean, ground

    def _advance(self, dt: float, t_end: float) -> None:
        """Move by one sub-step of ``dt`` seconds ending at sim time ``t_end``."""
        mean, ground = self._wheels(dt)
        v = (ground[0] + ground[1]) / 2
        omega = (ground[1] - ground[0]) / self.spec.wheel_base
        th = self._theta
        if abs(omega) > 1e-12:
            nth = th + omega * dt
            nx = self._x + v / omega * (math.sin(nth) - math.sin(th))
            ny = self._y - v / omega * (math.cos(nth) - math.cos(th))
        else:
            nth = th
            nx = self._x + v * math.cos(th) * dt
            ny = self._y + v * math.sin(th) * dt
        heading = math.degrees(nth)
        hit = self._view.hit(self, nx, ny, heading)
        if hit is None and self._contact is not None:
            # still touching until clear by a margin, so pushing on is one contact
            self._contact = self._view.hit(self, nx, ny, heading, margin=_CONTACT_MARGIN)
        if hit is not None:
            self._v = [0.0, 0.0]
            self._omega = 0.0
            if self._contact != hit:
                self._collisions.append(Collision(t_end, self.pose, hit))
            self._contact = hit
        else:
            self._omega = omega
            enc = self._noise.encoder
            for i in (0, 1):
                travel = mean[i] * dt
                if enc:
                    travel *= 1.0 + enc * float(self._rng[_ENCODER].standard_normal())
                self._wheel_travel[i] += travel
            if self._gates:
                self._checkpoints(nx, ny, t_end)
            self._x, self._y, self._theta = nx, ny, nth
            self._after_move(t_end)
        b = self.spec.battery
        watts = b.idle_w + b.motor_w * (abs(self._cmd[0]) + abs(self._cmd[1]))
        self._used_wh += watts * dt / 3600.0

    def _checkpoints(self, nx: float, ny: float, now: float) -> None:
        gates = self._gates
        for i in self._view.gates_crossed(self._x, self._y, nx, ny):
            self._checkpoint_events.append(CheckpointEvent(now, gates[i].name))
            if i != self._next_gate:
                continue
            if i == 0:
                if self._lap_start is not None:
                    self._laps.append(now - self._lap_start)
                self._lap_start = now
            self._next_gate = (i + 1) % len(gates)

    def _after_move(self, now: float) -> None:
        last = self._trail[-1]
        if math.hypot(self._x - last[1], self._y - last[2]) >= _TRAIL_MOVE or abs(
            wrap_deg(math.degrees(self._theta) - last[3])
        ) >= math.degrees(_TRAIL_TURN):
            self._trail.append((now, *self.pose))
        zones = self._view.zones_at(self._x, self._y)
        if zones != self._zones:
            self._zone_events.extend(ZoneEvent(now, z, True) for z in sorted(zones - self._zones))
            self._zone_events.extend(ZoneEvent(now, z, False) for z in sorted(self._zones - zones))
            self._zones = zones

    @property
    def theta(self) -> float:
        """Heading in radians, counter-clockwise from +x, unwrapped (as integrated)."""
        return self._theta

    @property
    def position(self) -> tuple[float, float]:
        """x, y in metres."""
        return (self._x, self._y)

    @property
    def yaw_rate(self) -> float:
        """Turn rate in radians per second over the last sub-step (0 while stalled)."""
        return self._omega

    # -- ground truth ----------------------------------------------------
    @property
    def pose(self) -> Pose:
        """True pose: x, y in metres, heading in degrees (-180, 180]."""
        return Pose(self._x, self._y, wrap_deg(math.degrees(self._theta)))

    @property
    def wheel_speeds(self) -> tuple[float, float]:
        """Wheel surface speeds (m/s) after the last step."""
        return (self._v[0], self._v[1])

    @property
    def collisions(self) -> list[Collision]:
        """Every contact so far, oldest first (a copy)."""
        return list(self._collisions)

    @property
    def in_contact(self) -> str | None:
        """What the robot is pushing against now, or ``None``."""
        return self._contact

    @property
    def zones(self) -> frozenset[str]:
        """Names of the zones the robot's centre is in."""
        return self._zones

    @property
    def zone_events(self) -> list[ZoneEvent]:
        return list(self._zone_events)

    @property
    def checkpoint_events(self) -> list[CheckpointEvent]:
        """Every checkpoint crossing, oldest first."""
        return list(self._checkpoint_events)

    @property
    def laps(self) -> list[float]:
        """Durations (sim seconds) of the laps completed: every checkpoint in order, then the first again."""
        return list(self._laps)

    @property
    def trail(self) -> NDArray[np.float64]:
        """Where the robot has been: rows of (time, x, y, heading)."""
        return np.array(self._trail, np.float64)

    def outline(self) -> NDArray[np.float64]:
        """The footprint on the floor now: a box's 4 corners or a 16-sided circle (n, 2)."""
        s = self.spec
        c, si = math.cos(self._theta), math.sin(self._theta)
        if s.footprint is None:
            t = np.linspace(0, 2 * math.pi, 16, endpoint=False)
            return np.column_stack([self._x + s.radius * np.cos(t), self._y + s.radius * np.sin(t)])
        hl, hw = s.footprint[0] / 2, s.footprint[1] / 2
        local = np.array([[-hl, -hw], [hl, -hw], [hl, hw], [-hl, hw]]) + np.array(
            [s.footprint_offset, 0.0]
        )
        return np.asarray(
            local @ np.array([[c, si], [-si, c]]) + np.array([self._x, self._y]), np.float64
        )

    def mount_point(self, forward: float, left: float) -> tuple[float, float]:
        """World position of a point ``forward``/``left`` of the robot's centre."""
        c, s = math.cos(self._theta), math.sin(self._theta)
        return (self._x + forward * c - left * s, self._y + forward * s + left * c)

    @property
    def encoder_distance(self) -> tuple[float, float]:
        """Wheel travel (m) as the encoders measure it (slip is not seen)."""
        return (self._wheel_travel[0], self._wheel_travel[1])

    @property
    def battery_charge(self) -> float:
        """0..1."""
        b = self.spec.battery
        return max(0.0, b.charge - self._used_wh / b.capacity_wh)

    @property
    def battery_voltage(self) -> float:
        b = self.spec.battery
        return b.empty_v + (b.full_v - b.empty_v) * self.battery_charge

    def camera(self, spec: CameraSpec | None = None) -> SimCamera:
        """A camera mounted on this body: ``body.sensors.camera(spec)``."""
        return self.sensors.camera(spec)
