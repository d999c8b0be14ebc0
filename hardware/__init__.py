"""Program robots: motors, sensors, camera, on real kits or in the simulator.

::

    from hardware import Robot

    with Robot() as robot:
        robot.drive.forward(0.5)               # power: -1 .. 1
        while robot.distance.metres > 0.2:     # metres to the nearest thing ahead
            robot.sleep(0.05)
        robot.drive.stop()

The same code runs on three backends: ``gpio`` (the Pi's pins through
gpiozero), ``bridge`` (a microcontroller over USB) and ``sim`` (the
simulator).
"""

from __future__ import annotations

from hardware.camera import Camera
from hardware.errors import (
    BackendError,
    BackendOptionError,
    BadValueError,
    DeviceClosedError,
    HardwareError,
    KitError,
    MissingPartError,
    SensorError,
)
from hardware.kit import KitProfile, list_kits, load_kit
from hardware.motors import DifferentialDrive, Motor, Servo
from hardware.outputs import LED, RGBLED, Buzzer
from hardware.robot import Robot
from hardware.sensors import IMU, Battery, Button, DistanceSensor, Encoders, LineSensors
from hardware.telemetry import Recorder, Sample
from rcbase.deprecation import RoboClassDeprecationWarning

__all__ = [
    "IMU",
    "LED",
    "RGBLED",
    "BackendError",
    "BackendOptionError",
    "BadValueError",
    "Battery",
    "Button",
    "Buzzer",
    "Camera",
    "DeviceClosedError",
    "DifferentialDrive",
    "DistanceSensor",
    "Encoders",
    "HardwareError",
    "KitError",
    "KitProfile",
    "LineSensors",
    "MissingPartError",
    "Motor",
    "Recorder",
    "RoboClassDeprecationWarning",
    "Robot",
    "Sample",
    "SensorError",
    "Servo",
    "list_kits",
    "load_kit",
]
