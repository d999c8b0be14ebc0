"""The world file format: typed models that reject unknown fields.

A world file is YAML read with :func:`rcbase.load_yaml`, so a mistake is a
:class:`rcbase.ConfigError` that names the line, in English and Chinese.
Coordinates are metres on the floor: ``x`` to the right (east), ``y`` up
(north), origin at the lower-left corner. Angles are degrees counter-clockwise
from ``+x``. A small example::

    name: demo
    size: [2.0, 1.5]
    lines:
      - shape: oval
        centre: [1.0, 0.75]
        length: 0.8
        radius: 0.45
    walls:
      - start: [0.5, 0.2]
        end: [0.5, 0.6]
    start:
      - at: [1.0, 0.3]
        heading: 0
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from hardware.sim.colour import check_colour
from hardware.sim.textures import ARUCO_DICTIONARIES, SIGN_KINDS, aruco_dictionary_size

__all__ = [
    "BorderModel",
    "BoxModel",
    "CheckpointModel",
    "CylinderModel",
    "FloorModel",
    "LineModel",
    "LocalText",
    "MarkerModel",
    "NoiseModel",
    "SignModel",
    "StartModel",
    "WallModel",
    "WorldModel",
    "ZoneModel",
]

Colour = Annotated[str, AfterValidator(check_colour)]
Point = tuple[float, float]
Positive = Annotated[float, Field(gt=0)]
NonNegative = Annotated[float, Field(ge=0)]
MAX_FLOOR_PX = 4096


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LocalText(_Strict):
    """A title in both languages."""

    en: str
    zh: str


class FloorModel(_Strict):
    """The floor: a colour, an optional image stretched over it, grain, tiles."""

    colour: Colour = "#dcdcd2"
    texture: str | None = None  # image file, relative to the world file
    grain: Annotated[float, Field(ge=0, le=1)] = 0.0  # generated speckle, 0 = flat
    seed: int = 0
    slip: Annotated[float, Field(ge=0, lt=1)] = 0.0  # mean wheel slip on this floor
    tile: Positive | None = None  # square floor tiles this wide (metres), with grout lines
    grout_width: Positive = 0.004
    grout_colour: Colour = "#9a968c"


class BorderModel(_Strict):
    """Walls all around the floor's edge."""

    height: Positive = 0.3
    thickness: Positive = 0.02
    colour: Colour = "#9a7b56"


class LineModel(_Strict):
    """A tape line. ``shape`` says which of the other fields it needs."""

    name: str = ""
    shape: Literal["polyline", "circle", "oval", "figure_eight"]
    points: list[Point] | None = None  # polyline
    closed: bool = False  # polyline
    centre: Point | None = None  # circle, oval, figure_eight
    radius: Positive | None = None  # circle; oval ends; figure_eight: 4 r long, 2 r wide
    length: Positive | None = None  # oval: length of the straights
    heading: float = 0.0  # oval, figure_eight: direction of the long axis
    width: Positive = 0.019  # 3/4 inch tape
    colour: Colour = "black"

    @model_validator(mode="after")
    def _fields_for_shape(self) -> LineModel:
        need = {
            "polyline": ("points",),
            "circle": ("centre", "radius"),
            "oval": ("centre", "radius", "length"),
            "figure_eight": ("centre", "radius"),
        }[self.shape]
        missing = [name for name in need if getattr(self, name) is None]
        if missing:
            raise ValueError(f"a {self.shape} line needs {', '.join(missing)}")
        if self.shape == "polyline" and self.points is not None and len(self.points) < 2:
            raise ValueError("a polyline needs at least 2 points")
        return self


class ZoneModel(_Strict):
    """A coloured area on the floor: exactly one of rect, circle, polygon."""

    name: str
    colour: Colour = "green"
    rect: tuple[float, float, float, float] | None = None  # x0, y0, x1, y1
    circle: tuple[float, float, Positive] | None = None  # x, y, radius
    polygon: list[Point] | None = None

    @model_validator(mode="after")
    def _one_shape(self) -> ZoneModel:
        given = [s for s in (self.rect, self.circle, self.polygon) if s is not None]
        if len(given) != 1:
            raise ValueError("a zone needs exactly one of rect, circle, polygon")
        if self.polygon is not None and len(self.polygon) < 3:
            raise ValueError("a polygon needs at least 3 points")
        return self


class WallModel(_Strict):
    """A straight wall from ``start`` to ``end``."""

    name: str = ""
    start: Point
    end: Point
    thickness: Positive = 0.02
    height: Positive = 0.3
    colour: Colour = "#b0a898"


class BoxModel(_Strict):
    """A box standing on the floor; ``size`` is length (along heading) by width."""

    name: str = ""
    at: Point
    size: tuple[Positive, Positive]
    heading: float = 0.0
    height: Positive = 0.2
    colour: Colour = "#c08040"


class CylinderModel(_Strict):
    """A cylinder standing on the floor (a bin, a pillar, a can)."""

    name: str = ""
    at: Point
    radius: Positive
    height: Positive = 0.2
    colour: Colour = "#4080c0"


class SignModel(_Strict):
    """A sign on a pole; its face looks towards ``facing`` (degrees)."""

    name: str = ""
    kind: Literal[SIGN_KINDS]  # type: ignore[valid-type]
    at: Point
    facing: float = 0.0
    size: Positive = 0.1  # width of the plate, metres
    elevation: NonNegative = 0.05  # bottom of the plate above the floor
    pole: bool = True  # a pole is solid: the robot can bump into it


class MarkerModel(_Strict):
    """An ArUco marker, upright on a stand (or on a wall) or printed on the floor."""

    name: str = ""
    id: Annotated[int, Field(ge=0)]
    dictionary: Literal[ARUCO_DICTIONARIES] = "DICT_4X4_50"  # type: ignore[valid-type]
    at: Point
    facing: float = 0.0  # upright: where the face looks; on the floor: its rotation
    size: Positive = 0.1  # side of the black square, metres (a white margin is added)
    elevation: NonNegative = 0.05
    on_floor: bool = False

    @model_validator(mode="after")
    def _id_in_dictionary(self) -> MarkerModel:
        count = aruco_dictionary_size(self.dictionary)
        if self.id >= count:
            raise ValueError(f"{self.dictionary} has ids 0..{count - 1}, not {self.id}")
        return self


class CheckpointModel(_Strict):
    """A gate from ``start`` to ``end`` that the robot's centre drives through.

    The first checkpoint of a world is the start/finish line: a lap is done
    when the robot has passed every checkpoint in order and crosses it again.
    """

    name: str
    start: Point
    end: Point


class StartModel(_Strict):
    """Where a robot starts."""

    name: str = "start"
    at: Point
    heading: float = 0.0


class NoiseModel(_Strict):
    """Seeded noise, zero unless set. Standard deviations in the units named."""

    seed: int = 0
    motor: NonNegative = 0.0  # fraction of wheel speed, per step
    slip: NonNegative = 0.0  # fraction, per step, around the floor's slip
    ultrasonic: NonNegative = 0.0  # metres
    line: NonNegative = 0.0  # reflectance 0..1
    encoder: NonNegative = 0.0  # fraction of wheel travel, per step
    imu_heading: NonNegative = 0.0  # degrees
    imu_rate: NonNegative = 0.0  # degrees per second
    imu_drift: float = 0.0  # degrees per second of heading drift (not random)


class WorldModel(_Strict):
    """A whole world file."""

    name: str = "world"
    title: LocalText | None = None
    size: tuple[Positive, Positive]
    resolution_mm: Annotated[float, Field(ge=1, le=50)] = 5.0
    floor: FloorModel = FloorModel()
    border: BorderModel | None = None
    lines: list[LineModel] = []
    zones: list[ZoneModel] = []
    walls: list[WallModel] = []
    boxes: list[BoxModel] = []
    cylinders: list[CylinderModel] = []
    signs: list[SignModel] = []
    markers: list[MarkerModel] = []
    checkpoints: list[CheckpointModel] = []
    start: list[StartModel] = []
    noise: NoiseModel = NoiseModel()

    @model_validator(mode="after")
    def _fits(self) -> WorldModel:
        for side in self.size:
            if side * 1000 / self.resolution_mm > MAX_FLOOR_PX:
                raise ValueError(
                    f"the floor would be more than {MAX_FLOOR_PX} pixels across: "
                    "make it smaller or raise resolution_mm"
                )
        for kind, items in (("start poses", self.start), ("checkpoints", self.checkpoints)):
            names = [s.name for s in items]
            if len(set(names)) != len(names):
                raise ValueError(f"{kind} need different names")
        return self
