"""The robot: every part of a kit, ready to use.

::

    from hardware import Robot

    with Robot() as robot:                     # the kit from the settings (sim on a PC)
        robot.drive.forward(0.5)
        while robot.distance.metres > 0.2:
            pass
        robot.drive.stop()

``Robot(kit="generic-l298n", backend="gpio")`` chooses explicitly. The robot
ends stopped however the program ends: ``close()``, an exception, Ctrl+C,
SIGTERM, or the end of the program.

The usual parts are typed attributes (``robot.distance``, ``robot.line``,
``robot.camera``, ...), so editors complete them and show their help. A part
the kit does not have raises :class:`~hardware.errors.MissingPartError` when
used. Parts with other names come from :meth:`Robot.part`::

    side = robot.part("side", DistanceSensor)
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from hardware import safety, simtime
from hardware.backends import choose_backend, open_backend
from hardware.camera import Camera
from hardware.device import Controls, Device
from hardware.errors import BadValueError, KitError, MissingPartError
from hardware.events import Events
from hardware.kit import (
    BatterySpec,
    ButtonSpec,
    BuzzerSpec,
    EncodersSpec,
    ImuSpec,
    KitProfile,
    LedSpec,
    LineSensorsSpec,
    PartSpec,
    RgbLedSpec,
    ServoSpec,
    UltrasonicSpec,
    load_kit,
)
from hardware.motors import DifferentialDrive, Motor, Servo
from hardware.outputs import LED, RGBLED, Buzzer
from hardware.ports import Backend
from hardware.sensors import IMU, Battery, Button, DistanceSensor, Encoders, LineSensors
from hardware.settings import load_settings
from hardware.telemetry import Recorder
from rcbase.closeable import Closeable
from rcbase.deprecation import renamed

__all__ = ["Robot"]

logger = logging.getLogger(__name__)

D = TypeVar("D", bound=Device)


def _speed_cap(kit: KitProfile, requested: float | None) -> float:
    cap = kit.limits.max_speed
    env = os.environ.get("ROBOCLASS_SPEED_CAP")
    for value, where in ((requested, "speed_cap"), (env, "ROBOCLASS_SPEED_CAP")):
        if value is None:
            continue
        try:
            v = float(value)
        except ValueError as exc:
            raise BadValueError(f"{where} must be a number between 0 and 1, not {value!r}") from exc
        if not 0 < v <= 1:
            raise BadValueError(
                f"{where} must be between 0 and 1 (a fraction of full speed), not {value!r}"
            )
        cap = min(cap, v)
    return cap


class Robot(Closeable):
    """A robot built from a kit profile, on the gpio, bridge or sim backend.

    ::

        from hardware import Robot

        with Robot() as robot:
            robot.drive.forward(0.5)
            robot.sleep(1)
            robot.drive.stop()
    """

    def __init__(
        self,
        kit: str | Path | KitProfile | None = None,
        backend: str | None = None,
        *,
        speed_cap: float | None = None,
        record: bool | Recorder = False,
        **backend_options: Any,
    ) -> None:
        settings = load_settings()
        self.kit = kit if isinstance(kit, KitProfile) else load_kit(kit or settings.kit)
        self.name = settings.name or self.kit.name
        self._devices: dict[str, Device] = {}
        backend_name = choose_backend(self.kit, backend or settings.backend)
        if backend_name == "bridge" and settings.port and "port" not in backend_options:
            backend_options["port"] = settings.port
        self.backend: Backend = open_backend(backend_name, self.kit, **backend_options)
        try:
            caps = [c for c in (speed_cap, settings.speed_cap) if c is not None]
            cap = _speed_cap(self.kit, min(caps) if caps else None)
            stepped = (
                simtime.active() is not None or getattr(self.backend, "realtime", True) is False
            )
            self._controls = Controls(
                clock=self.backend.clock, speed_cap=cap, events=Events(stepped=stepped)
            )
            if isinstance(record, Recorder):
                self._controls.recorder = record
            elif record:
                self._controls.recorder = Recorder(self.backend.clock)
            self._build()
        except BaseException:
            self._close_all()
            raise
        sim_time = simtime.active()
        if sim_time is not None:  # time.sleep() waits through the robot, which runs events
            sim_time.attach(self.backend.clock, self.sleep)
        safety.register(self)
        logger.info("robot ready: kit %s on the %s backend", self.kit.name, self.backend.name)

    def _build(self) -> None:
        c, kit, b = self._controls, self.kit, self.backend
        left = Motor("left_motor", b.motor("left"), inverted=kit.drive.left.inverted, controls=c)
        self._devices["left_motor"] = left
        right = Motor(
            "right_motor", b.motor("right"), inverted=kit.drive.right.inverted, controls=c
        )
        self._devices["right_motor"] = right
        self._drive = DifferentialDrive(left, right, kit.drive, controls=c)
        for name, spec in kit.parts.items():
            self._devices[name] = self._make_part(name, spec)

    def _make_part(self, name: str, spec: PartSpec) -> Device:  # noqa: PLR0911 - one line per kind
        c, b = self._controls, self.backend
        if isinstance(spec, UltrasonicSpec):
            return DistanceSensor(name, b.distance(name, spec), spec, c)
        if isinstance(spec, LineSensorsSpec):
            return LineSensors(name, b.line(name, spec), spec, c)
        if isinstance(spec, EncodersSpec):
            return Encoders(name, b.encoders(name, spec), spec, self.kit.drive.wheel_radius, c)
        if isinstance(spec, ImuSpec):
            return IMU(name, b.imu(name, spec), c)
        if isinstance(spec, ButtonSpec):
            return Button(name, b.button(name, spec), c)
        if isinstance(spec, LedSpec):
            return LED(name, b.led(name, spec), c)
        if isinstance(spec, RgbLedSpec):
            return RGBLED(name, b.rgb_led(name, spec), c)
        if isinstance(spec, BuzzerSpec):
            return Buzzer(name, b.buzzer(name, spec), c)
        if isinstance(spec, BatterySpec):
            return Battery(name, b.battery(name, spec), spec, c)
        if isinstance(spec, ServoSpec):
            return Servo(name, b.servo(name, spec), spec, c)
        if spec.source == "sim" and b.name not in ("sim", "remote"):
            raise KitError(f"part {name!r}: a simulated camera needs backend='sim'")
        return Camera(name, b.camera(name, spec), spec, c)

    # -- the parts -----------------------------------------------------------

    @property
    def drive(self) -> DifferentialDrive:
        """Both wheels: ``forward``, ``backward``, ``left``, ``right``, ``arc``, ``set_speed``, ``stop``."""
        return self._drive

    @property
    def left_motor(self) -> Motor:
        """The left wheel's motor."""
        return self._drive.left_motor

    @property
    def right_motor(self) -> Motor:
        """The right wheel's motor."""
        return self._drive.right_motor

    @property
    def parts(self) -> dict[str, Device]:
        """Every part by name, motors included."""
        return dict(self._devices)

    def part(self, name: str, kind: type[D]) -> D:
        """The part called ``name``, which must be a ``kind``.

        For parts the kit names itself, such as a second distance sensor::

            from hardware import DistanceSensor, Robot

            with Robot() as robot:
                side = robot.part("side", DistanceSensor)
                print(side.metres)
        """
        device = self._devices.get(name)
        if device is None:
            raise self._missing(name)
        if not isinstance(device, kind):
            raise MissingPartError(
                f"part {name!r} of this robot is a {type(device).__name__}, not a {kind.__name__} / "
                f"这台机器人的部件 {name!r} 是 {type(device).__name__}，不是 {kind.__name__}"
            )
        return device

    def _missing(self, name: str) -> MissingPartError:
        kit = self.__dict__.get("kit")
        have = ", ".join(sorted(self.__dict__.get("_devices") or {})) or "none"
        kit_name = kit.name if kit else "?"
        return MissingPartError(
            f"this robot (kit {kit_name}) has no part called {name!r}; its parts are: {have} / "
            f"这台机器人（套件 {kit_name}）没有叫 {name!r} 的部件；它有：{have}"
        )

    @property
    def distance(self) -> DistanceSensor:
        """The distance sensor looking ahead: ``robot.distance.metres``."""
        return self.part("distance", DistanceSensor)

    @property
    def line(self) -> LineSensors:
        """The line sensors under the front: ``robot.line.position``, ``.values``, ``.on_line``."""
        return self.part("line", LineSensors)

    @property
    def encoders(self) -> Encoders:
        """The wheel encoders: ``robot.encoders.distance`` (metres), ``.speed`` (m/s)."""
        return self.part("encoders", Encoders)

    @property
    def imu(self) -> IMU:
        """The gyro/compass: ``robot.imu.heading`` (degrees)."""
        return self.part("imu", IMU)

    @property
    def button(self) -> Button:
        """The push button: ``robot.button.is_pressed``, ``.when_pressed``."""
        return self.part("button", Button)

    @property
    def led(self) -> LED:
        """The LED: ``robot.led.on()``, ``.off()``."""
        return self.part("led", LED)

    @property
    def rgb(self) -> RGBLED:
        """The colour LED: ``robot.rgb.color = (1, 0.5, 0)``."""
        return self.part("rgb", RGBLED)

    @property
    def buzzer(self) -> Buzzer:
        """The buzzer: ``robot.buzzer.play("A4")``, ``.stop()``."""
        return self.part("buzzer", Buzzer)

    @property
    def battery(self) -> Battery:
        """The battery: ``robot.battery.voltage``, ``.percent``."""
        return self.part("battery", Battery)

    @property
    def camera(self) -> Camera:
        """The camera: ``robot.camera.read()`` gives a picture."""
        return self.part("camera", Camera)

    if not TYPE_CHECKING:  # other parts by their kit name; editors use part() for these

        def __getattr__(self, name: str) -> Any:
            devices = self.__dict__.get("_devices")
            if devices is not None and name in devices:
                return devices[name]
            if name.startswith("_") or devices is None:
                raise AttributeError(name)
            raise self._missing(name)

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self._devices))

    # -- safety --------------------------------------------------------------

    @property
    def recorder(self) -> Recorder | None:
        """What the robot was told and what it read, when made with ``record=True``."""
        return self._controls.recorder

    def clock(self) -> float:
        """Seconds on the robot's clock (the simulator's clock in the simulator)."""
        return self.backend.clock()

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` on the robot's clock (the simulator moves on meanwhile).

        In the fast simulator the ``when_...`` actions run while it waits.
        """
        events = self._controls.events
        if not (events.stepped and events.watching) or not seconds > 0:
            self.backend.sleep(seconds)
            return
        clock = self.backend.clock
        end = clock() + float(seconds)
        while not self._closed and (left := end - clock()) > 1e-9:
            self.backend.sleep(min(events.period, left))
            events.pump()  # its readings take sim time too: the clock says how much is left

    @property
    def speed_cap(self) -> float:
        """The highest power the motors get (0..1): the kit's and the teacher's limit."""
        return self._controls.speed_cap

    def stop(self) -> None:
        """Stop both wheels."""
        self._drive.stop()

    @property
    def estopped(self) -> bool:
        """``True`` after :meth:`estop`, until :meth:`clear_stop`."""
        return self._controls.estopped

    def estop(self) -> None:
        """Emergency stop: wheels stop, servos park, and stay so until :meth:`clear_stop`."""
        self._controls.estopped = True
        self._controls.record("robot", "event", "estop")
        self.emergency_stop_now()

    def clear_stop(self) -> None:
        """Clear the emergency stop; the robot stays still until told to move."""
        if self._controls.estopped:
            self._controls.estopped = False
            self._controls.record("robot", "event", "release")
            logger.info(
                "e-stop cleared (%d commands were ignored)", self._controls.ignored_while_estopped
            )

    def release(self) -> None:
        """Old name of :meth:`clear_stop`."""
        renamed("robot.release()", "robot.clear_stop()")
        self.clear_stop()

    def emergency_stop_now(self) -> None:
        """Stop every motor by the fastest path. Safe from signal handlers and at exit."""
        if self._closed:
            return
        self._stop_everything()

    def _stop_everything(self) -> None:
        self.backend.stop_all()
        for device in self._devices.values():
            if device.closed:
                continue
            if isinstance(device, Motor):
                device._set(0.0, record=False)
            elif isinstance(device, Servo):
                device.park()
            elif isinstance(device, Buzzer):
                device.stop()

    # -- lifecycle -----------------------------------------------------------

    def _close(self) -> None:
        """Stop, put every part in its safe state, and release the hardware."""
        safety.unregister(self)
        try:
            self._controls.events.close()
            self._stop_everything()
        finally:
            self._close_all()

    def _close_all(self) -> None:
        self._closed = True
        controls = self.__dict__.get("_controls")
        if controls is not None:
            controls.events.close()
        drive = self.__dict__.get("_drive")
        for device in [*reversed(self._devices.values()), *([drive] if drive else [])]:
            try:
                device.close()
            except Exception:  # close the others whatever one of them does
                logger.exception("closing %s failed", device.name)
        backend = self.__dict__.get("backend")
        if backend is not None:
            backend.close()

    def __repr__(self) -> str:
        return f"<Robot kit={self.kit.name!r} backend={self.backend.name!r}{' closed' if self._closed else ''}>"
