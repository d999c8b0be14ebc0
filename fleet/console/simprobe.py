"""What a student's page is sent about a run in the simulator: the world, then the robot.

The page draws the lesson's world top-down on a canvas from one compact
description (:func:`world_event`: metres, ``#rrggbb`` colours, lines as
point lists), then moves the robot on it from poses (:class:`Probe`: the
robot's true pose and the live values of the kit's sensors). The console
renders nothing for the top-down view; the robot's camera, when the student
asks for it, is the frame their own program read, made a small JPEG
(:func:`camera_jpeg`)::

    probe = Probe(backend)                  # a SimBackend, while the run goes
    world = world_event(lesson, backend)    # once
    pose = probe.pose()                     # 15-20 times a second
"""

from __future__ import annotations

import base64
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from hardware.kit import (
    BatterySpec,
    ButtonSpec,
    EncodersSpec,
    ImuSpec,
    LineSensorsSpec,
    PartSpec,
    UltrasonicSpec,
)
from hardware.sim.colour import bgr
from hardware.sim.floor import line_points
from hardware.sim.model import WorldModel
from lessons.model import Lesson

__all__ = ["CAMERA_MAX_WIDTH", "Probe", "camera_jpeg", "world_event"]

#: The camera picture a page gets is at most this wide (pixels).
CAMERA_MAX_WIDTH = 320
_JPEG_QUALITY = 60
_LINE_STEP_M = 0.02  # a curved tape line is sent as points this far apart
#: The sensor parts a pose reports, and the backend's method (and kind) for each.
_SENSORS: tuple[tuple[type[PartSpec], str], ...] = (
    (UltrasonicSpec, "distance"),
    (LineSensorsSpec, "line"),
    (EncodersSpec, "encoders"),
    (ImuSpec, "imu"),
    (ButtonSpec, "button"),
    (BatterySpec, "battery"),
)


def _hex(colour: str) -> str:
    b, g, r = bgr(colour)
    return f"#{r:02x}{g:02x}{b:02x}"


def _pt(p: tuple[float, float] | list[float]) -> list[float]:
    return [round(float(p[0]), 3), round(float(p[1]), 3)]


def _world_shapes(m: WorldModel) -> dict[str, Any]:
    """Everything on the floor and standing on it, in metres (x east, y north)."""
    lines = []
    for line in m.lines:
        points, closed = line_points(line, step=_LINE_STEP_M)
        lines.append(
            {
                "points": [_pt(p) for p in points.tolist()],
                "closed": closed,
                "width": line.width,
                "colour": _hex(line.colour),
            }
        )
    zones = []
    for z in m.zones:
        zone: dict[str, Any] = {"name": z.name, "colour": _hex(z.colour)}
        if z.rect is not None:
            zone["rect"] = list(z.rect)
        elif z.circle is not None:
            zone["circle"] = list(z.circle)
        elif z.polygon is not None:
            zone["polygon"] = [_pt(p) for p in z.polygon]
        zones.append(zone)
    return {
        "size": list(m.size),
        "floor": _hex(m.floor.colour),
        "border": None
        if m.border is None
        else {"thickness": m.border.thickness, "colour": _hex(m.border.colour)},
        "lines": lines,
        "zones": zones,
        "walls": [
            {
                "start": _pt(w.start),
                "end": _pt(w.end),
                "thickness": w.thickness,
                "colour": _hex(w.colour),
            }
            for w in m.walls
        ],
        "boxes": [
            {"at": _pt(b.at), "size": list(b.size), "heading": b.heading, "colour": _hex(b.colour)}
            for b in m.boxes
        ],
        "cylinders": [
            {"at": _pt(c.at), "radius": c.radius, "colour": _hex(c.colour)} for c in m.cylinders
        ],
        "signs": [
            {"kind": s.kind, "at": _pt(s.at), "facing": s.facing, "size": s.size} for s in m.signs
        ],
        "markers": [
            {
                "id": k.id,
                "at": _pt(k.at),
                "facing": k.facing,
                "size": k.size,
                "on_floor": k.on_floor,
            }
            for k in m.markers
        ],
        "checkpoints": [
            {"name": c.name, "start": _pt(c.start), "end": _pt(c.end)} for c in m.checkpoints
        ],
    }


def world_event(lesson: Lesson, backend: Any) -> dict[str, Any]:
    """The ``world`` event: the lesson, its world's shapes, and the robot's body and parts."""
    world = backend.world
    body = backend.body
    spec = body.spec
    m: WorldModel = world.model
    title = m.title
    parts: dict[str, Any] = {}
    for name, part in backend.kit.parts.items():
        if isinstance(part, LineSensorsSpec):
            parts[name] = {"kind": "line", "count": part.count}
        elif isinstance(part, UltrasonicSpec):
            parts[name] = {
                "kind": "distance",
                "at": [part.mount.x, part.mount.y],
                "angle": part.mount.angle,
                "max": part.max_distance,
                "beam": part.beam_width,
            }
        else:
            parts[name] = {"kind": part.kind}
    with world.view.held():
        pose = body.pose
    return {
        "lesson": lesson.id,
        "title": {"en": lesson.model.title.en, "zh": lesson.model.title.zh},
        "world": m.name,
        "world_title": None if title is None else {"en": title.en, "zh": title.zh},
        **_world_shapes(m),
        "robot": {
            "radius": round(spec.radius, 4),
            "footprint": None if spec.footprint is None else [round(v, 4) for v in spec.footprint],
            "wheel_base": round(spec.wheel_base, 4),
            "start": {"x": round(pose.x, 3), "y": round(pose.y, 3), "heading": pose.heading},
        },
        "parts": parts,
    }


class Probe:
    """Reads a simulated robot for the page: its pose, motors and every sensor of its kit.

    The sensors are read through the backend's own ports, as the student's
    program reads them (noise and all), never the camera: a camera picture
    is only ever the frame the program itself read.
    """

    def __init__(self, backend: Any) -> None:
        self.backend = backend
        self._readers: list[tuple[str, Any, str]] = []
        for name, part in backend.kit.parts.items():
            port = self._port(name, part)
            if port is not None:
                self._readers.append((name, *port))
        self._outputs = [
            name
            for name, part in backend.kit.parts.items()
            if part.kind in ("led", "rgb_led", "buzzer", "servo")
        ]

    def _port(self, name: str, part: PartSpec) -> tuple[Any, str] | None:
        """The backend's port for a sensor part and what kind it is (None for the rest)."""
        for spec_type, kind in _SENSORS:
            if isinstance(part, spec_type):
                return getattr(self.backend, kind)(name, part), kind
        return None

    def pose(self) -> dict[str, Any]:
        """The ``pose`` event: sim time, where the robot is, its motors and sensor values."""
        backend = self.backend
        world = backend.world
        body = backend.body
        sensors: dict[str, Any] = {}
        with world.view.held():  # one instant: the world does not step meanwhile
            t = world.time
            pose = body.pose
            motors = body.motors
            for name, port, kind in self._readers:
                sensors[name] = _reading(port, kind)
            bumps = len(body.collisions)
            laps = len(body.laps)
        for name in self._outputs:
            value = backend.outputs.get(name)
            sensors[name] = list(value) if isinstance(value, tuple) else value
        return {
            "t": round(t, 3),
            "x": round(pose.x, 4),
            "y": round(pose.y, 4),
            "heading": round(pose.heading, 1),
            "motors": [round(motors[0], 3), round(motors[1], 3)],
            "sensors": sensors,
            "bumps": bumps,
            "laps": laps,
        }


def _reading(port: Any, kind: str) -> Any:
    if kind == "button":
        return bool(port.is_pressed())
    value = port.read()
    if kind == "line":
        return [round(float(v), 2) for v in value]
    if kind == "encoders":
        return [int(v) for v in value]
    if kind == "imu":
        return round(float(value.heading), 1)
    return round(float(value), 3)


def camera_jpeg(frame: npt.NDArray[np.uint8]) -> dict[str, Any]:
    """The ``camera`` event for a BGR frame: a JPEG at most ``CAMERA_MAX_WIDTH`` wide, base64."""
    h, w = frame.shape[:2]
    if w > CAMERA_MAX_WIDTH:
        h, w = round(h * CAMERA_MAX_WIDTH / w), CAMERA_MAX_WIDTH
        frame = np.asarray(cv2.resize(frame, (w, h), interpolation=cv2.INTER_AREA), np.uint8)
    ok, data = cv2.imencode(
        ".jpg", np.ascontiguousarray(frame), [cv2.IMWRITE_JPEG_QUALITY, _JPEG_QUALITY]
    )
    if not ok:
        raise ValueError("the camera frame could not be made a JPEG")
    return {
        "width": w,
        "height": h,
        "jpeg": base64.b64encode(data.tobytes()).decode("ascii"),
    }
