"""Kit profiles: which parts a robot has and how they are wired.

A kit profile is a YAML file (see ``hardware/kits/`` for the shipped ones).
Unknown fields are rejected and every error names the file, line and field::

    from hardware.kit import load_kit, list_kits

    kit = load_kit("sim")            # a shipped kit, by name
    kit = load_kit("my-car.yaml")    # or a file
    print(kit.drive.wheel_base)      # metres

Pins are BCM GPIO numbers (gpio backend) or the microcontroller's pins
(bridge backend: Arduino D2..D19, where A0..A5 are 14..19); channels are the
microcontroller's numbers (motors 0/1, analog inputs A0..A5, servos 0..3);
mounts are positions on the robot in metres (x forward, y left) with an
angle in degrees (simulator).

A part's name is how students reach it. The names in :data:`STANDARD_PARTS`
(``distance``, ``line``, ``encoders``, ``imu``, ``button``, ``led``,
``rgb``, ``buzzer``, ``battery``, ``camera``) are typed attributes of the
robot and must be of their kind; any other name is reached with
``robot.part(name, Kind)``.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from hardware.errors import KitError
from rcbase import ConfigError, Text, load_yaml, paths

__all__ = [
    "BUILTIN_KITS",
    "STANDARD_PARTS",
    "BridgeLink",
    "CameraSpec",
    "DriveSpec",
    "KitProfile",
    "Mount",
    "PartSpec",
    "kit_search_path",
    "list_kits",
    "load_kit",
]

BUILTIN_KITS = Path(__file__).with_name("kits")
Backendname = Literal["gpio", "bridge", "sim"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Bilingual(_Strict):
    en: str
    zh: str

    def text(self) -> Text:
        return Text(self.en, self.zh)


class Mount(_Strict):
    """Where a part sits on the robot: metres from the wheel axle centre."""

    x: float = 0.0  # forward
    y: float = 0.0  # left
    z: float = 0.05  # up
    angle: float = 0.0  # degrees, counter-clockwise from straight ahead


class MotorWiring(_Strict):
    """One drive motor. gpio: two direction pins (+ enable), or phase/enable."""

    driver: Literal["dual-pin", "phase-enable"] = "dual-pin"
    forward: int | None = Field(None, ge=0, le=27)
    backward: int | None = Field(None, ge=0, le=27)
    enable: int | None = Field(None, ge=0, le=27)
    phase: int | None = Field(None, ge=0, le=27)
    channel: int | None = Field(None, ge=0, le=7)  # bridge
    inverted: bool = False


class DriveSpec(_Strict):
    left: MotorWiring
    right: MotorWiring
    wheel_base: float = Field(gt=0, le=1)  # metres between the wheels
    wheel_radius: float = Field(gt=0, le=0.2)  # metres
    max_wheel_speed: float = Field(gt=0, le=5)  # m/s at motor value 1
    acceleration: float = Field(2.0, gt=0)  # m/s^2 the motors can reach (simulator)


class Limits(_Strict):
    max_speed: float = Field(1.0, gt=0, le=1)  # fraction of full motor power


class _Part(_Strict):
    pin: int | None = Field(None, ge=0, le=27)
    channel: int | None = Field(None, ge=0, le=31)
    mount: Mount = Mount()
    title: Bilingual | None = None


class UltrasonicSpec(_Part):
    kind: Literal["ultrasonic"]
    trigger: int | None = Field(None, ge=0, le=27)
    echo: int | None = Field(None, ge=0, le=27)
    max_distance: float = Field(2.0, gt=0, le=6)  # metres
    beam_width: float = Field(15.0, gt=0, le=90)  # degrees


class LineSensorsSpec(_Part):
    kind: Literal["line_sensors"]
    pins: list[Annotated[int, Field(ge=0, le=27)]] | None = None
    channels: list[Annotated[int, Field(ge=0, le=31)]] | None = None
    count: int = Field(3, ge=1, le=8)
    spacing: float = Field(0.015, gt=0, le=0.1)  # metres between sensors
    forward: float = Field(0.06, ge=0, le=0.3)  # metres ahead of the axle
    threshold: float = Field(0.5, gt=0, lt=1)  # reflectance below this is "on the line"
    black_is_high: bool = True  # digital IR modules (TCRT5000) drive HIGH over black

    @model_validator(mode="after")
    def _count_matches(self) -> LineSensorsSpec:
        for wires in (self.pins, self.channels):
            if wires is not None and len(wires) != self.count:
                raise ValueError(f"count is {self.count} but {len(wires)} pins/channels are given")
        return self


class EncodersSpec(_Part):
    kind: Literal["encoders"]
    left: list[Annotated[int, Field(ge=0, le=27)]] | None = None  # gpio: [a] or [a, b]
    right: list[Annotated[int, Field(ge=0, le=27)]] | None = None
    ticks_per_rev: int = Field(gt=0, le=100000)


class ImuSpec(_Part):
    kind: Literal["imu"]
    chip: Literal["mpu6050", "bno055", "icm20948", "sim"] = "mpu6050"
    bus: int = Field(1, ge=0, le=10)
    address: int = Field(0x68, ge=0x03, le=0x77)


class ButtonSpec(_Part):
    kind: Literal["button"]
    pull_up: bool = True


class LedSpec(_Part):
    kind: Literal["led"]
    active_high: bool = True


class RgbLedSpec(_Part):
    kind: Literal["rgb_led"]
    pins: tuple[int, int, int] | None = None
    active_high: bool = True


class BuzzerSpec(_Part):
    kind: Literal["buzzer"]
    active: bool = False  # an active buzzer only beeps at its own pitch


class BatterySpec(_Part):
    kind: Literal["battery"]
    full_voltage: float = Field(8.4, gt=0, le=30)
    empty_voltage: float = Field(6.4, gt=0, le=30)
    capacity_wh: float = Field(10.0, gt=0)  # simulator drain
    divider: float = Field(1.0, ge=1, le=65)  # bridge: battery volts per volt at the analog pin

    @model_validator(mode="after")
    def _range(self) -> BatterySpec:
        if self.empty_voltage >= self.full_voltage:
            raise ValueError("empty_voltage must be lower than full_voltage")
        return self


class ServoSpec(_Part):
    kind: Literal["servo"]
    min_angle: float = -90.0
    max_angle: float = 90.0
    safe_angle: float = 0.0  # where it goes on stop and e-stop
    min_pulse_us: int = Field(500, ge=200, le=3000)
    max_pulse_us: int = Field(2500, ge=200, le=3000)

    @model_validator(mode="after")
    def _range(self) -> ServoSpec:
        if not self.min_angle < self.max_angle:
            raise ValueError("min_angle must be lower than max_angle")
        if not self.min_angle <= self.safe_angle <= self.max_angle:
            raise ValueError("safe_angle must be between min_angle and max_angle")
        return self


class CameraSpec(_Part):
    kind: Literal["camera"]
    source: Literal["picamera2", "usb", "file", "sim"]
    device: int | str | None = None  # USB index or file path
    width: int = Field(320, ge=16, le=4096)
    height: int = Field(240, ge=16, le=4096)
    fps: float = Field(15, gt=0, le=120)
    fov_deg: float = Field(62.0, gt=10, lt=170)  # horizontal field of view
    height_m: float = Field(0.1, gt=0, le=1)
    tilt_deg: float = Field(-15.0, ge=-90, le=45)


PartSpec = Annotated[
    UltrasonicSpec
    | LineSensorsSpec
    | EncodersSpec
    | ImuSpec
    | ButtonSpec
    | LedSpec
    | RgbLedSpec
    | BuzzerSpec
    | BatterySpec
    | ServoSpec
    | CameraSpec,
    Field(discriminator="kind"),
]


class BridgeLink(_Strict):
    """bridge: how the Pi reaches the microcontroller (the robot's settings may name the port)."""

    port: str | None = None  # default: the robot's settings, else /dev/ttyACM0
    baud: int = Field(115200, ge=9600, le=2000000)
    watchdog_ms: int = Field(300, ge=50, le=5000)  # the board stops the motors after this silence


class KitProfile(_Strict):
    """One kit: its name, backend, drive train, parts and limits."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,40}$")
    title: Bilingual
    summary: Bilingual | None = None
    backend: Backendname
    source: str = ""  # where the wiring comes from (vendor docs, ...)
    world: str | None = None  # simulator world for the sim backend
    limits: Limits = Limits()
    bridge: BridgeLink = BridgeLink()
    drive: DriveSpec
    parts: dict[str, PartSpec] = {}

    @model_validator(mode="after")
    def _part_names(self) -> KitProfile:
        for name, spec in self.parts.items():
            if not name.isidentifier() or name.startswith("_") or name in _RESERVED:
                raise ValueError(
                    f"part name {name!r} must be a plain Python name (letters, digits, _) "
                    f"and not one of {sorted(_RESERVED)}"
                )
            kind = STANDARD_PARTS.get(name)
            if kind is not None and spec.kind != kind:
                raise ValueError(
                    f"part {name!r} must be of kind {kind!r} (robot.{name} is always one); "
                    f"give this {spec.kind} another name"
                )
        return self


STANDARD_PARTS = {
    "distance": "ultrasonic",
    "line": "line_sensors",
    "encoders": "encoders",
    "imu": "imu",
    "button": "button",
    "led": "led",
    "rgb": "rgb_led",
    "buzzer": "buzzer",
    "battery": "battery",
    "camera": "camera",
}
"""Part names the robot has a typed attribute for, and the kind each must be."""


_RESERVED = frozenset(
    {
        "drive",
        "left_motor",
        "right_motor",
        "kit",
        "backend",
        "close",
        "closed",
        "stop",
        "estop",
        "release",
        "clear_stop",
        "emergency_stop_now",
        "estopped",
        "name",
        "part",
        "parts",
        "recorder",
        "clock",
        "sleep",
        "speed_cap",
    }
)


def kit_search_path(environ: Mapping[str, str] | None = None) -> list[Path]:
    """Folders searched for kit profiles by name: the user's first, then the shipped ones."""
    return [paths(environ).config / "kits", BUILTIN_KITS]


def load_kit(name_or_path: str | Path) -> KitProfile:
    """A kit by shipped/user name (``"sim"``) or by path to a YAML file."""
    candidate = Path(name_or_path)
    if candidate.suffix in (".yaml", ".yml") or candidate.exists():
        path = candidate
    else:
        found = [
            d / f"{name_or_path}.yaml"
            for d in kit_search_path()
            if (d / f"{name_or_path}.yaml").exists()
        ]
        if not found:
            names = ", ".join(k.name for k in list_kits())
            raise KitError(
                f"no kit profile called {str(name_or_path)!r}; known kits: {names} "
                "(`roboclass hw kits` lists them)"
            )
        path = found[0]
    try:
        stat = path.stat()
        return _parsed_kit(str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    except OSError:
        return _parsed_kit(str(path), 0, 0)  # load_yaml says what is wrong


@functools.lru_cache(maxsize=32)
def _parsed_kit(path: str, mtime_ns: int, size: int) -> KitProfile:
    """The kit profile at ``path`` as it is at ``mtime_ns`` (frozen: read once, shared)."""
    try:
        return load_yaml(Path(path), KitProfile)
    except ConfigError as exc:
        raise KitError(f"kit profile is wrong:\n{exc}") from exc


def list_kits() -> list[KitProfile]:
    """Every valid kit profile found, user kits first; a broken user file is skipped."""
    seen: dict[str, KitProfile] = {}
    for folder in kit_search_path():
        for path in sorted(folder.glob("*.yaml")):
            try:
                kit = load_yaml(path, KitProfile)
            except ConfigError:
                continue  # `roboclass hw kits` reports broken files separately
            seen.setdefault(kit.name, kit)
    return list(seen.values())
