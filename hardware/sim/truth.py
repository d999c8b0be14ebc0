"""What the simulator saw of one robot's run: a typed record (lesson graders read it as ``run.truth``).

:func:`truth_of` builds it from a world and one of its bodies when the run
ends; on a real robot it is empty (``truth.known`` is false, the trail has no
rows). Everything in it is what really happened, not what the program
claimed::

    truth = run.truth
    truth.distance_m                     # 3.42: metres the robot's centre travelled
    truth.trail[:, 1:3]                  # (N, 2) x, y of every point of its path
    truth.checkpoint_names               # ["far bend", "back straight", ...]
    truth.collisions[0].obstacle         # "crate"

:meth:`SimTruth.to_dict` and :meth:`SimTruth.from_dict` are the JSON form that
crosses a process boundary; ``from_dict`` refuses fields it does not know.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import TYPE_CHECKING, Any, ClassVar, Self, get_type_hints

import numpy as np
from numpy.typing import NDArray

from hardware.sim.errors import TruthFormatError

if TYPE_CHECKING:
    from hardware.sim.body import Body
    from hardware.sim.world import World

__all__ = ["CheckpointSeen", "CollisionSeen", "PoseSeen", "SimTruth", "ZoneSeen", "truth_of"]


def _strict(cls: type[Any], data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` checked against ``cls``'s fields: no unknown ones, none missing without default."""
    if not isinstance(data, Mapping):
        raise TruthFormatError(f"{cls.__name__} must be a mapping, not {type(data).__name__}")
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise TruthFormatError(f"{cls.__name__} has no field {', '.join(map(repr, unknown))}")
    return dict(data)


def _number(value: float) -> float | None:
    """JSON has no infinity: an unknown distance travels as null."""
    return value if math.isfinite(value) else None


_CONVERT: dict[object, Callable[[Any], Any]] = {float: float, str: str, bool: bool}


class _Plain:
    """A frozen record of plain fields (numbers, text, flags) and its JSON form."""

    __dataclass_fields__: ClassVar[dict[str, Any]]  # every subclass is a dataclass

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """The record from its JSON form; unknown or missing fields raise :class:`TruthFormatError`."""
        d = _strict(cls, data)
        hints = get_type_hints(cls)
        names = [f.name for f in fields(cls)]
        try:
            return cls(**{name: _CONVERT[hints[name]](d[name]) for name in names})
        except (KeyError, TypeError, ValueError) as exc:
            raise TruthFormatError(f"{cls.__name__} needs {', '.join(names)}: {exc}") from exc

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class PoseSeen(_Plain):
    """Where the robot was: metres on the floor, heading in degrees (counter-clockwise from +x)."""

    x: float
    y: float
    heading: float

    def distance_to(self, x: float, y: float) -> float:
        """Metres from this pose to the point (x, y)."""
        return math.hypot(self.x - x, self.y - y)


@dataclass(frozen=True)
class CollisionSeen(_Plain):
    """The robot touched ``obstacle`` at sim time ``t``."""

    t: float
    obstacle: str


@dataclass(frozen=True)
class CheckpointSeen(_Plain):
    """The robot's centre crossed the gate ``checkpoint`` at sim time ``t``."""

    t: float
    checkpoint: str


@dataclass(frozen=True)
class ZoneSeen(_Plain):
    """The robot's centre entered (or left) ``zone`` at sim time ``t``."""

    t: float
    zone: str
    entered: bool


def _no_trail() -> NDArray[np.float64]:
    return _frozen(np.zeros((0, 4)))


def _frozen(trail: NDArray[np.float64]) -> NDArray[np.float64]:
    out = np.array(trail, np.float64).reshape(-1, 4)
    out.flags.writeable = False
    return out


@dataclass(frozen=True, eq=False)
class SimTruth:
    """The simulator's ground truth about one robot's run (empty on a real robot)."""

    world: str = ""  # the world's name ("" on a real robot)
    trail: NDArray[np.float64] = field(default_factory=_no_trail)  # rows of (t, x, y, heading)
    distance_m: float = 0.0  # metres the robot's centre travelled along its trail
    start_pose: PoseSeen | None = None
    final_pose: PoseSeen | None = None
    collisions: tuple[CollisionSeen, ...] = ()
    laps: tuple[float, ...] = ()  # seconds of each whole lap
    checkpoints: tuple[CheckpointSeen, ...] = ()
    zones: tuple[ZoneSeen, ...] = ()
    outputs: Mapping[str, Any] = field(default_factory=dict)  # LEDs, buzzer, servos at the end
    motors_at_end: tuple[float, float] = (0.0, 0.0)
    distance_to_line: float = math.inf  # metres from the final pose to the nearest tape line

    def __post_init__(self) -> None:
        object.__setattr__(self, "trail", _frozen(self.trail))

    @property
    def known(self) -> bool:
        """True when a simulator saw the run (false on a real robot)."""
        return bool(self.world)

    def __bool__(self) -> bool:
        """False on a real robot, as the old ``{}`` was."""
        return self.known

    def get(self, key: str, default: Any = None) -> Any:
        """Deprecated: the old dictionary's ``truth.get("distance_m")``; read ``truth.distance_m``."""
        warnings.warn(
            f'truth.get("{key}") is deprecated: read truth.{key} instead. / '
            f'truth.get("{key}") 已弃用：请改用 truth.{key}。',
            DeprecationWarning,
            stacklevel=2,
        )
        return self._old_dict().get(key, default)

    def __getitem__(self, key: str) -> Any:
        """Deprecated: the old dictionary's ``truth["trail"]``; read ``truth.trail``."""
        warnings.warn(
            f'truth["{key}"] is deprecated: read truth.{key} instead. / '
            f'truth["{key}"] 已弃用：请改用 truth.{key}。',
            DeprecationWarning,
            stacklevel=2,
        )
        return self._old_dict()[key]

    def _old_dict(self) -> dict[str, Any]:
        """The dictionary graders read before the record (``{}`` on a real robot)."""
        if not self.known:
            return {}
        old = self.to_dict()
        old["trail"], old["distance_to_line"] = self.trail, self.distance_to_line
        return old

    @property
    def checkpoint_names(self) -> list[str]:
        """The gates crossed, in order (a gate crossed twice is listed twice)."""
        return [c.checkpoint for c in self.checkpoints]

    @property
    def start_time(self) -> float:
        """Sim time of the trail's first row (0 without a trail)."""
        return float(self.trail[0, 0]) if len(self.trail) else 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (the trail as lists of numbers, an unknown distance as ``None``)."""
        return {
            "world": self.world,
            "trail": self.trail.tolist(),
            "distance_m": self.distance_m,
            "start_pose": None if self.start_pose is None else self.start_pose.to_dict(),
            "final_pose": None if self.final_pose is None else self.final_pose.to_dict(),
            "collisions": [c.to_dict() for c in self.collisions],
            "laps": list(self.laps),
            "checkpoints": [c.to_dict() for c in self.checkpoints],
            "zones": [z.to_dict() for z in self.zones],
            "outputs": dict(self.outputs),
            "motors_at_end": list(self.motors_at_end),
            "distance_to_line": _number(self.distance_to_line),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """The record back from :meth:`to_dict`'s form; unknown fields raise :class:`TruthFormatError`."""
        d = _strict(cls, data)
        try:
            line = d.get("distance_to_line", math.inf)
            left, right = d.get("motors_at_end", (0.0, 0.0))
            return cls(
                world=str(d.get("world", "")),
                trail=np.asarray(d.get("trail", []), np.float64).reshape(-1, 4),
                distance_m=float(d.get("distance_m", 0.0)),
                start_pose=_pose(d.get("start_pose")),
                final_pose=_pose(d.get("final_pose")),
                collisions=tuple(CollisionSeen.from_dict(c) for c in d.get("collisions", [])),
                laps=tuple(float(t) for t in d.get("laps", [])),
                checkpoints=tuple(CheckpointSeen.from_dict(c) for c in d.get("checkpoints", [])),
                zones=tuple(ZoneSeen.from_dict(z) for z in d.get("zones", [])),
                outputs=dict(d.get("outputs", {})),
                motors_at_end=(float(left), float(right)),
                distance_to_line=math.inf if line is None else float(line),
            )
        except TruthFormatError:
            raise
        except (KeyError, TypeError, ValueError) as exc:
            raise TruthFormatError(f"a truth record has a field of the wrong shape: {exc}") from exc

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SimTruth) and self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]  # mutable-looking: the trail is an array


def _pose(data: Mapping[str, Any] | None) -> PoseSeen | None:
    return None if data is None else PoseSeen.from_dict(data)


def truth_of(world: World, body: Body, outputs: Mapping[str, Any] | None = None) -> SimTruth:
    """What ``world`` saw of ``body`` so far; ``outputs`` are what its LEDs, buzzer and servos
    were last told (the backend keeps them)."""
    trail = body.trail
    xy = trail[:, 1:3] if len(trail) else np.zeros((0, 2))
    pose = body.pose
    return SimTruth(
        world=world.model.name,
        trail=trail,
        distance_m=float(np.sum(np.hypot(*np.diff(xy, axis=0).T))) if len(xy) > 1 else 0.0,
        start_pose=PoseSeen(float(trail[0, 1]), float(trail[0, 2]), float(trail[0, 3]))
        if len(trail)
        else None,
        final_pose=PoseSeen(pose.x, pose.y, pose.heading),
        collisions=tuple(CollisionSeen(c.time, c.obstacle) for c in body.collisions),
        laps=tuple(body.laps),
        checkpoints=tuple(CheckpointSeen(e.time, e.checkpoint) for e in body.checkpoint_events),
        zones=tuple(ZoneSeen(e.time, e.zone, e.entered) for e in body.zone_events),
        outputs=dict(outputs or {}),
        motors_at_end=body.motors,
        distance_to_line=world.distance_to_line(pose.x, pose.y),
    )
