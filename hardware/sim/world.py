"""A simulated world: floor, solid things, robots, and the sim clock.

::

    from hardware.sim import BodySpec, load_world

    world = load_world("hardware/sim/worlds/oval-track.yaml")
    robot = world.add_robot(BodySpec())          # at the world's first start pose
    robot.set_motors(0.5, 0.5)
    for _ in range(100):                         # one sim second at 100 Hz
        world.step(0.01)
    image = world.render_topdown()

Time only moves in :meth:`World.step`; the same steps and motor values give
the same trail, bit for bit.
"""

from __future__ import annotations

import functools
import logging
import math
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from hardware.sim.body import Body
from hardware.sim.clock import Pacer, SimClock
from hardware.sim.errors import SimValueError, UnknownStartError
from hardware.sim.floor import FloorMap, build_floor, line_points
from hardware.sim.model import BorderModel, WorldModel
from hardware.sim.obstacles import Obstacles
from hardware.sim.report import distances_to_lines, run_summary
from hardware.sim.scene import Scene, build_scene
from hardware.sim.specs import BodySpec, Pose
from hardware.sim.topdown import render_topdown
from hardware.sim.view import WorldView
from rcbase import load_yaml, parse_yaml

__all__ = ["World", "load_world"]

_NO_CIRCLES = np.zeros((0, 3))
_NO_CIRCLES.flags.writeable = False

log = logging.getLogger(__name__)
Image = NDArray[np.uint8]


def load_world(path: str | Path) -> World:
    """Read and check a world file (raises :class:`rcbase.ConfigError` pointing at the line).

    A file read before and unchanged since is not read again: its worlds share the model,
    the floor and the obstacles, which never change (a class of runs of one lesson opens
    the same world many times)."""
    p = Path(path)
    try:
        stat = p.stat()
    except OSError:  # load_yaml says what is wrong, in both languages
        return World(load_yaml(p, WorldModel), base_dir=p.parent)
    model, floor, obstacles = _built(str(p.resolve()), stat.st_mtime_ns, stat.st_size)
    return World(model, base_dir=p.parent, built=(floor, obstacles))


@functools.lru_cache(maxsize=16)
def _built(path: str, mtime_ns: int, size: int) -> tuple[WorldModel, FloorMap, Obstacles]:
    """The world file at ``path`` as it is at ``mtime_ns``: its model, floor and obstacles."""
    model = load_yaml(Path(path), WorldModel)
    return model, build_floor(model, Path(path).parent), Obstacles.from_model(model)


class World:
    """Floor, obstacles and robots; ``step(dt)`` moves everything and the clock."""

    def __init__(
        self,
        model: WorldModel,
        base_dir: Path | None = None,
        max_substep: float = 0.005,
        *,
        built: tuple[FloorMap, Obstacles] | None = None,
    ) -> None:
        if not (math.isfinite(max_substep) and max_substep > 0):
            raise SimValueError("max_substep must be > 0 seconds")
        self.model = model
        self.base_dir = base_dir
        self.max_substep = max_substep
        self.clock = SimClock()
        # step() and the sensor reads that draw noise hold this lock; an adapter
        # that steps in one thread and reads in another holds it for what else it reads
        self.lock = threading.RLock()
        # ``built``: the floor and obstacles of this model, made before (they never change)
        self.floor: FloorMap
        self.floor, self.obstacles = built or (
            build_floor(model, base_dir),
            Obstacles.from_model(model),
        )
        self.robots: list[Body] = []
        self.view = WorldView(self)  # what the robots may ask of this world
        self._zone_polys = [
            (z.name, self._zone_polygon(z.rect, z.circle, z.polygon)) for z in model.zones
        ]
        log.debug(
            "world %r: %.2f x %.2f m, %d obstacles",
            model.name,
            *model.size,
            len(self.obstacles.names),
        )

    # -- making worlds -----------------------------------------------------
    @classmethod
    def from_model(cls, model: WorldModel, base_dir: Path | None = None) -> World:
        return cls(model, base_dir)

    @classmethod
    def from_yaml(cls, text: str, source: str = "<string>", base_dir: Path | None = None) -> World:
        """A world from YAML text (errors point at the line of ``source``)."""
        return cls(parse_yaml(text, WorldModel, source), base_dir)

    @classmethod
    def empty(
        cls,
        width: float = 2.0,
        height: float = 2.0,
        border: bool | Mapping[str, Any] = True,
        **fields: Any,
    ) -> World:
        """A plain floor, walled round unless ``border=False``; ``fields`` are more WorldModel fields.

        ``border`` may also be the border's fields, e.g. ``{"height": 1.0}``.

        >>> World.empty(1.0, 1.0, boxes=[{"at": (0.5, 0.8), "size": (0.1, 0.1)}]).obstacles.names[-1]
        'box 1'
        """
        data: dict[str, Any] = {"size": (width, height), **fields}
        if border is True:
            data["border"] = BorderModel()
        elif border:
            data["border"] = dict(border)
        return cls(WorldModel.model_validate(data))

    # -- time ------------------------------------------------------------------
    @property
    def time(self) -> float:
        """Sim seconds since the start."""
        return self.clock.time

    def step(self, dt: float) -> None:
        """Advance everything by ``dt`` sim seconds (in sub-steps of at most ``max_substep``)."""
        if not (math.isfinite(dt) and dt >= 0):
            raise SimValueError(f"step must be >= 0 seconds, not {dt!r}")
        if dt == 0:
            return
        n = max(1, math.ceil(dt / self.max_substep - 1e-9))
        h = dt / n
        with self.lock:
            start_ns = self.clock.ns
            for k in range(1, n + 1):
                t_end = (start_ns + round(dt * 1e9 * k / n)) / 1e9
                for body in self.robots:
                    body._advance(h, t_end)  # the world drives its bodies
            self.clock.advance(dt)
            for body in self.robots:
                body.sensors.buttons.tick()

    def run(
        self,
        seconds: float,
        dt: float = 0.01,
        on_step: Callable[[World], object] | None = None,
        pacer: Pacer | None = None,
    ) -> None:
        """Step for ``seconds`` of sim time; ``on_step`` runs before each step (a controller).

        With a :class:`Pacer` the loop runs at wall-clock speed (real-time mode).
        """
        steps = round(seconds / dt)
        for _ in range(steps):
            if on_step is not None:
                on_step(self)
            self.step(dt)
            if pacer is not None:
                if pacer.closed:
                    break
                pacer.wait()

    # -- robots ----------------------------------------------------------------
    def start_pose(self, name: str | None = None) -> Pose:
        """The start pose ``name`` (the first one if ``None``; the floor's centre if there are none)."""
        starts = self.model.start
        if name is None:
            if not starts:
                return Pose(self.model.size[0] / 2, self.model.size[1] / 2, 0.0)
            return Pose(*starts[0].at, starts[0].heading)
        for s in starts:
            if s.name == name:
                return Pose(*s.at, s.heading)
        raise UnknownStartError(
            f"world {self.model.name!r} has no start {name!r}: {[s.name for s in starts]}"
        )

    def add_robot(self, spec: BodySpec | None = None, pose: Pose | str | None = None) -> Body:
        """Put a robot in the world at ``pose`` (a Pose, a start name, or the first start)."""
        where = pose if isinstance(pose, Pose) else self.start_pose(pose)
        body = Body(self.view, self.clock, len(self.robots), spec or BodySpec(), where)
        self.robots.append(body)
        overlap = self.hit(body, where.x, where.y, where.heading)
        if overlap is not None:
            log.warning("%s starts overlapping %s", body.name, overlap)
        return body

    def robot_circles(self, exclude: Body | None = None) -> NDArray[np.float64]:
        """Other robots as circles (x, y, radius)."""
        if len(self.robots) == 1 and exclude is self.robots[0]:
            return _NO_CIRCLES
        rows = [(b.pose.x, b.pose.y, b.spec.radius) for b in self.robots if b is not exclude]
        return np.array(rows, np.float64).reshape(-1, 3)

    def hit(
        self, body: Body, x: float, y: float, heading_deg: float = 0.0, margin: float = 0.0
    ) -> str | None:
        """What ``body`` (grown by ``margin`` metres) would overlap at this pose, or ``None``.

        Other robots count as circles of their ``radius``.
        """
        others = [b for b in self.robots if b is not body]
        extra = self.robot_circles(body)
        spec = body.spec
        if spec.footprint is None:
            index = self.obstacles.hit_by_circle(x, y, spec.radius + margin, extra)
        else:
            a = math.radians(heading_deg)
            cx = x + spec.footprint_offset * math.cos(a)
            cy = y + spec.footprint_offset * math.sin(a)
            half_l, half_w = spec.footprint[0] / 2 + margin, spec.footprint[1] / 2 + margin
            index = self.obstacles.hit_by_box(
                cx, cy, a, half_length=half_l, half_width=half_w, extra=extra
            )
        if index is None:
            return None
        names = self.obstacles.names
        return names[index] if index < len(names) else others[index - len(names)].name

    # -- buttons ---------------------------------------------------------------
    def press_button(self, name: str, hold: float | None = None, robot: int = 0) -> None:
        """Press button ``name`` on robot number ``robot`` (see :class:`Buttons`)."""
        self.robots[robot].sensors.buttons.press(name, hold)

    def release_button(self, name: str, robot: int = 0) -> None:
        self.robots[robot].sensors.buttons.release(name)

    def is_pressed(self, name: str, robot: int = 0) -> bool:
        return self.robots[robot].sensors.buttons.is_pressed(name)

    # -- ground truth ------------------------------------------------------------
    @staticmethod
    def _zone_polygon(
        rect: tuple[float, float, float, float] | None,
        circle: tuple[float, float, float] | None,
        polygon: list[tuple[float, float]] | None,
    ) -> NDArray[np.float32] | tuple[float, float, float]:
        if rect is not None:
            x0, y0, x1, y1 = rect
            return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float32)
        if circle is not None:
            return circle
        return np.array(polygon, np.float32)

    @functools.cached_property
    def _gates(self) -> list[tuple[float, float, float, float, float, float, float, float]]:
        """Each checkpoint's ends and bounding box."""
        out = []
        for gate in self.model.checkpoints:
            (ax, ay), (bx, by) = gate.start, gate.end
            out.append((ax, ay, bx, by, min(ax, bx), max(ax, bx), min(ay, by), max(ay, by)))
        return out

    def gates_crossed(self, x0: float, y0: float, x1: float, y1: float) -> list[int]:
        """Indexes of the checkpoints that the move (x0, y0) -> (x1, y1) goes through."""
        out = []
        lox, hix = (x0, x1) if x0 <= x1 else (x1, x0)
        loy, hiy = (y0, y1) if y0 <= y1 else (y1, y0)
        for i, (ax, ay, bx, by, gx0, gx1, gy0, gy1) in enumerate(self._gates):
            if hix < gx0 or lox > gx1 or hiy < gy0 or loy > gy1:
                continue  # the move's box misses the gate's: the common case, no division
            ex, ey, dx, dy = bx - ax, by - ay, x1 - x0, y1 - y0
            denom = dx * ey - dy * ex
            if denom == 0:
                continue
            t = ((ax - x0) * ey - (ay - y0) * ex) / denom  # along the move
            s = ((ax - x0) * dy - (ay - y0) * dx) / denom  # along the gate
            if 0 < t <= 1 and 0 <= s <= 1:
                out.append(i)
        return out

    def zones_at(self, x: float, y: float) -> frozenset[str]:
        """Names of the zones that contain the point (x, y)."""
        inside = set()
        for name, shape in self._zone_polys:
            if isinstance(shape, tuple):
                if math.hypot(x - shape[0], y - shape[1]) <= shape[2]:
                    inside.add(name)
            elif cv2.pointPolygonTest(shape, (float(x), float(y)), False) >= 0:
                inside.add(name)
        return frozenset(inside)

    @functools.cached_property
    def _tracks(self) -> list[NDArray[np.float64]]:
        out = []
        for line in self.model.lines:
            pts, closed = line_points(line)
            out.append(np.vstack([pts, pts[:1]]) if closed else pts)
        return out

    def track_polylines(self) -> list[NDArray[np.float64]]:
        """The centre of every tape line as points (N, 2); closed lines repeat their first point."""
        return list(self._tracks)

    def distance_to_line(self, x: float, y: float) -> float:
        """Metres from (x, y) to the nearest tape line's centre (inf without lines)."""
        return float(distances_to_lines(self, np.array([[x, y]], np.float64))[0])

    def summary(self) -> dict[str, Any]:
        """Ground truth of the run so far as JSON-ready data (see :mod:`hardware.sim.report`)."""
        return run_summary(self)

    # -- views -------------------------------------------------------------------
    @functools.cached_property
    def scene(self) -> Scene:
        """Upright faces for the camera, built on first use."""
        return build_scene(self.model)

    def render_topdown(self, max_px: int = 800, trail: bool = True, rays: bool = True) -> Image:
        """The world seen from above with every robot, its trail and its last ultrasonic beams."""
        return render_topdown(self, max_px=max_px, trail=trail, rays=rays)
