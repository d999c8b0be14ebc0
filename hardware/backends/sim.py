"""The ``sim`` backend: the kit's parts on a robot in the simulator.

Two ways for time to pass:

* **real time** (the default for students): a background thread steps the
  world at wall-clock speed, so ``time.sleep(1)`` in student code lets the
  robot drive for a second;
* **lock-step** (``realtime=False``; tests, CI and ``roboclass sim run
  --fast``): the world moves only when the program waits through the robot
  (``robot.sleep``, or ``time.sleep`` under the sim runner) and when it
  reads a sensor, which takes the time a real sensor takes. A loop that only
  polls a sensor still sees the robot move, and runs much faster than real
  time.
"""

from __future__ import annotations

import _thread
import logging
import math
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from hardware import simtime
from hardware.errors import BackendError, KitError
from hardware.kit import (
    BatterySpec,
    CameraSpec,
    EncodersSpec,
    KitProfile,
    LineSensorsSpec,
    Mount,
    PartSpec,
    UltrasonicSpec,
)
from hardware.ports import (
    BatteryPort,
    ButtonPort,
    CameraPort,
    DistancePort,
    EncoderPort,
    ImuPort,
    ImuReading,
    LedPort,
    LinePort,
    MotorPort,
    RgbLedPort,
    ServoPort,
    TonePort,
)
from hardware.sim import BatterySpec as SimBattery
from hardware.sim import Body, Pacer, World, load_world, world_path
from hardware.sim import BodySpec as SimBody
from hardware.sim import CameraSpec as SimCameraSpec
from hardware.sim import Mount as SimMount
from hardware.simtime import SimTimeUp
from rcbase.closeable import Closeable
from rcbase.threads import join_thread

__all__ = ["SimBackend"]

logger = logging.getLogger(__name__)

STEP_S = 0.01  # world step of the real-time thread
# Sim seconds a reading takes in lock-step mode (what the real part needs).
READ_COST_S = {"distance": 0.005, "line": 0.001, "fast": 0.0005}
DEFAULT_WORLD = "oval-track"


def _mount(m: Mount) -> SimMount:
    return SimMount(x=m.x, y=m.y, z=m.z, angle=m.angle)


def line_offsets(spec: LineSensorsSpec) -> list[tuple[float, float]]:
    """(forward, left) of each line sensor, listed left to right."""
    n = spec.count
    return [
        (spec.forward + spec.mount.x, spec.mount.y + ((n - 1) / 2 - i) * spec.spacing)
        for i in range(n)
    ]


def body_spec(kit: KitProfile) -> SimBody:
    """The simulator's robot body for ``kit``: geometry, encoders and battery from the profile."""
    enc = next((p for p in kit.parts.values() if isinstance(p, EncodersSpec)), None)
    bat = next((p for p in kit.parts.values() if isinstance(p, BatterySpec)), None)
    d = kit.drive
    return SimBody(
        wheel_base=d.wheel_base,
        wheel_radius=d.wheel_radius,
        ticks_per_rev=enc.ticks_per_rev if enc else 360,
        radius=max(0.06, d.wheel_base * 0.7),
        max_wheel_speed=d.max_wheel_speed,
        acceleration=d.acceleration,
        battery=SimBattery(
            full_v=bat.full_voltage, empty_v=bat.empty_voltage, capacity_wh=bat.capacity_wh
        )
        if bat
        else SimBattery(),
    )


class _Port:
    def __init__(self, backend: SimBackend) -> None:
        self.backend = backend

    def close(self) -> None:
        """Nothing to release: the world belongs to the backend."""


class _Motor(_Port):
    def __init__(self, backend: SimBackend, side: str) -> None:
        super().__init__(backend)
        self.side = side

    def set(self, value: float) -> None:
        self.backend._set_motor(self.side, value)


class _Distance(_Port):
    def __init__(self, backend: SimBackend, spec: UltrasonicSpec) -> None:
        super().__init__(backend)
        self.mount = _mount(spec.mount)
        self.spec = spec

    def read(self) -> float:
        self.backend._spend(READ_COST_S["distance"])
        return self.backend.body.sensors.distance(
            self.mount, self.spec.max_distance, self.spec.beam_width
        )


class _Line(_Port):
    def __init__(self, backend: SimBackend, spec: LineSensorsSpec) -> None:
        super().__init__(backend)
        self.offsets = np.asarray(line_offsets(spec), dtype=np.float64)

    def read(self) -> npt.NDArray[np.float64]:
        self.backend._spend(READ_COST_S["line"])
        return self.backend.body.sensors.line_reflectance(self.offsets)


class _Encoders(_Port):
    def read(self) -> tuple[int, int]:
        self.backend._spend(READ_COST_S["fast"])
        return self.backend.body.sensors.encoder_ticks


class _Imu(_Port):
    def read(self) -> ImuReading:
        self.backend._spend(READ_COST_S["fast"])
        heading, yaw_rate = self.backend.body.sensors.imu()
        return ImuReading(heading=heading % 360.0, yaw_rate=yaw_rate)


class _Button(_Port):
    def __init__(self, backend: SimBackend, name: str) -> None:
        super().__init__(backend)
        self.name = name

    def is_pressed(self) -> bool:
        self.backend._spend(READ_COST_S["fast"])
        return self.backend.body.sensors.buttons.is_pressed(self.name)


class _Output(_Port):
    """LEDs, the buzzer and servos: the simulator remembers what they were told."""

    def __init__(self, backend: SimBackend, name: str) -> None:
        super().__init__(backend)
        self.name = name

    def set(self, value: Any) -> None:
        self.backend.outputs[self.name] = value

    def tone(self, hertz: float | None) -> None:
        self.backend.outputs[self.name] = hertz

    def set_angle(self, degrees: float | None) -> None:
        self.backend.outputs[self.name] = degrees


class _Battery(_Port):
    def read(self) -> float:
        self.backend._spend(READ_COST_S["fast"])
        return self.backend.body.sensors.battery_voltage


class _Camera(_Port):
    def __init__(self, backend: SimBackend, spec: CameraSpec) -> None:
        super().__init__(backend)
        self.period = 1.0 / spec.fps
        self.camera = backend.body.sensors.camera(
            SimCameraSpec(
                width=spec.width,
                height=spec.height,
                fov_deg=spec.fov_deg,
                height_m=spec.height_m,
                tilt_deg=spec.tilt_deg,
                x=spec.mount.x,
                y=spec.mount.y,
                angle=spec.mount.angle,
            )
        )

    def read(self) -> npt.NDArray[np.uint8]:
        self.backend._spend(self.period)  # a camera delivers a frame per frame period
        frame = self.camera.read()
        return np.asarray(frame, dtype=np.uint8)


class SimBackend(Closeable):
    """The kit's robot in a simulated world.

    ``world`` is a :class:`hardware.sim.World`, a world name (``"oval-track"``)
    or a path; default: the kit's world, else ``oval-track``. ``realtime``
    defaults to ``True`` unless ``ROBOCLASS_SIM_FAST=1``; ``start`` names a
    start pose of the world.
    """

    name = "sim"

    def __init__(
        self,
        kit: KitProfile,
        world: World | str | Path | None = None,
        *,
        realtime: bool | None = None,
        start: str | None = None,
        speed: float = 1.0,
        time_limit: float | None = None,
    ) -> None:
        self.kit = kit
        world = world or os.environ.get("ROBOCLASS_SIM_WORLD") or kit.world or DEFAULT_WORLD
        self.world = self._open_world(world)
        self.time_limit = time_limit
        self.time_is_up = False
        self._listeners: list[tuple[float, Callable[[SimBackend], None]]] = []
        try:
            self.body: Body = self.world.add_robot(body_spec(kit), start)
        except Exception as exc:  # UnknownStartError and friends
            raise BackendError(
                f"cannot place the robot in world {self.world.model.name!r}: {exc}"
            ) from exc
        self._motors = {"left": 0.0, "right": 0.0}
        self.outputs: dict[str, Any] = {}
        if realtime is None:
            realtime = os.environ.get("ROBOCLASS_SIM_FAST", "") not in ("1", "true", "yes")
        self.realtime = realtime
        self._pacer: Pacer | None = None
        self._thread: threading.Thread | None = None
        if realtime:
            self._pacer = Pacer(self.world.clock, speed=speed)
            self._thread = threading.Thread(target=self._run, name="roboclass-sim", daemon=True)
            self._thread.start()
        else:
            sim_time = simtime.active()
            if sim_time is not None:  # under the sim runner: time.sleep() steps this world
                sim_time.attach(lambda: self.world.time, self.sleep)
        if SimBackend.on_create is not None:
            SimBackend.on_create(self)

    # Called with every new backend; the sim runner uses it to watch and record the run.
    on_create: ClassVar[Callable[[SimBackend], None] | None] = None

    def add_step_listener(self, period: float, callback: Callable[[SimBackend], None]) -> None:
        """Call ``callback(backend)`` at least every ``period`` sim seconds (recording, views)."""
        if not period > 0:
            raise ValueError("period must be > 0 seconds")
        self._listeners.append((period, callback))

    @staticmethod
    def _open_world(world: World | str | Path) -> World:
        if isinstance(world, World):
            return world
        path = Path(world)
        try:
            if path.suffix in (".yaml", ".yml") or path.exists():
                return load_world(path)
            return load_world(world_path(str(world)))
        except (OSError, ValueError, LookupError) as exc:
            raise KitError(f"cannot open the simulator world {str(world)!r}: {exc}") from exc

    def _run(self) -> None:
        pacer = self._pacer
        assert pacer is not None  # noqa: S101 - set before the thread starts
        while not pacer.closed:
            self._advance(STEP_S)
            pacer.wait()

    def _advance(self, seconds: float) -> None:
        """Step the world by ``seconds``, in pieces short enough for the listeners."""
        if self.time_limit is not None and self.world.time >= self.time_limit:
            if not self.realtime:
                raise SimTimeUp(f"the run's {self.time_limit:g} simulated seconds are over")
            if not self.time_is_up:  # the stepping thread tells the program's main thread
                self.time_is_up = True
                _thread.interrupt_main()
            return
        piece = min((p for p, _ in self._listeners), default=seconds)
        left = seconds
        while left > 1e-12:
            dt = min(piece, left)
            self.world.step(dt)
            left -= dt
            for _, callback in self._listeners:
                callback(self)

    def _spend(self, seconds: float) -> None:
        """A reading takes time: in lock-step mode the world moves on meanwhile."""
        if not self.realtime and not self._closed:
            self._advance(seconds)

    def _set_motor(self, side: str, value: float) -> None:
        with self.world.view.held():
            self._motors[side] = value
            self.body.set_motors(self._motors["left"], self._motors["right"])

    # -- the Backend interface ---------------------------------------------------

    def clock(self) -> float:
        return self.world.time

    def sleep(self, seconds: float) -> None:
        if not (math.isfinite(seconds) and seconds >= 0):
            raise ValueError(f"sleep needs 0 or more seconds, not {seconds!r}")
        if self.realtime and self._pacer is not None:
            done = threading.Event()
            target = self.world.time + seconds
            while self.world.time < target and not self._pacer.closed:
                done.wait(min(STEP_S, max(0.0, (target - self.world.time))))
        elif not self._closed:
            self._advance(seconds)

    def motor(self, side: str) -> MotorPort:
        return _Motor(self, side)

    def servo(self, name: str, spec: PartSpec) -> ServoPort:
        return _Output(self, name)

    def distance(self, name: str, spec: PartSpec) -> DistancePort:
        if not isinstance(spec, UltrasonicSpec):
            raise KitError(f"part {name!r} is not an ultrasonic sensor")
        return _Distance(self, spec)

    def line(self, name: str, spec: PartSpec) -> LinePort:
        if not isinstance(spec, LineSensorsSpec):
            raise KitError(f"part {name!r} is not a row of line sensors")
        return _Line(self, spec)

    def encoders(self, name: str, spec: PartSpec) -> EncoderPort:
        return _Encoders(self)

    def imu(self, name: str, spec: PartSpec) -> ImuPort:
        return _Imu(self)

    def button(self, name: str, spec: PartSpec) -> ButtonPort:
        return _Button(self, name)

    def led(self, name: str, spec: PartSpec) -> LedPort:
        return _Output(self, name)

    def rgb_led(self, name: str, spec: PartSpec) -> RgbLedPort:
        return _Output(self, name)

    def buzzer(self, name: str, spec: PartSpec) -> TonePort:
        return _Output(self, name)

    def battery(self, name: str, spec: PartSpec) -> BatteryPort:
        return _Battery(self)

    def camera(self, name: str, spec: CameraSpec) -> CameraPort:
        return _Camera(self, spec)

    def stop_all(self) -> None:
        self._set_motor("left", 0.0)
        self._set_motor("right", 0.0)

    def _close(self) -> None:
        self.stop_all()
        sim_time = simtime.active()
        if sim_time is not None and not self.realtime:
            sim_time.detach()
        if self._pacer is not None:
            self._pacer.close()
        join_thread(self._thread, timeout=5)
