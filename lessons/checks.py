"""Helpers for graders (``check.py``): what several lessons measure the same way, written once.

Each reads the simulator's truth (:class:`~hardware.sim.truth.SimTruth`) or the
:class:`~lessons.grading.Run`, never what the student's program claimed::

    from lessons.checks import crossed_in_order, line_offsets, moves_item

    def grade(run):
        off = line_offsets(run.truth)            # metres from the tape, every trail point
        turns = crossed_in_order(run.truth.checkpoint_names, ("north street", "east street"))
        items = [moves_item(run.truth, points=10), ...]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from hardware.sim import SimError, World, load_world, world_path
from hardware.sim.report import distances_to_lines
from lessons.grading import PoseSeen, RubricItem, Run, SimTruth, item

__all__ = [
    "angle_off",
    "crossed_in_order",
    "distance_from_end",
    "line_offsets",
    "looked_item",
    "moves_item",
    "pose_at",
    "shipped_world",
    "stopped_item",
]

_ORIGIN = PoseSeen(0.0, 0.0, 0.0)


def shipped_world(truth: SimTruth) -> World | None:
    """The built-in world the robot drove in, or ``None`` (a real robot, or a lesson's own world).

    >>> shipped_world(SimTruth()) is None
    True
    """
    if not truth.world:
        return None
    try:
        return load_world(world_path(truth.world))
    except SimError:  # not a shipped world
        return None


def line_offsets(truth: SimTruth, world: World | None = None) -> NDArray[np.float64]:
    """Metres from the tape's centre for every point of the robot's trail (empty when unknown).

    ``world`` is the world to measure against (default: the shipped world the robot drove in).
    """
    if not len(truth.trail):
        return np.zeros(0)
    world = world if world is not None else shipped_world(truth)
    if world is None:
        return np.zeros(0)
    return distances_to_lines(world, truth.trail[:, 1:3])


def crossed_in_order(crossed: Sequence[str], wanted: Sequence[str]) -> int:
    """How many of ``wanted`` were crossed in that order (each after the one before).

    >>> crossed_in_order(["a", "x", "b", "a"], ["a", "b", "c"])
    2
    """
    n, i = 0, 0
    for name in wanted:
        try:
            i = list(crossed).index(name, i) + 1
        except ValueError:
            break
        n += 1
    return n


def distance_from_end(truth: SimTruth, x: float, y: float) -> float:
    """Metres from where the robot ended to (x, y) (from (0, 0) when the end is unknown)."""
    return (truth.final_pose or _ORIGIN).distance_to(x, y)


def angle_off(a: float, b: float) -> float:
    """Degrees between two headings, 0..180.

    >>> angle_off(350.0, 10.0)
    20.0
    """
    return abs((a - b + 180) % 360 - 180)


def pose_at(trail: NDArray[np.float64], t: float) -> tuple[float, float, float]:
    """(x, y, heading) of the robot at time ``t``: the last trail row at or before it."""
    i = max(0, int(np.searchsorted(trail[:, 0], t, side="right")) - 1)
    return float(trail[i, 1]), float(trail[i, 2]), float(trail[i, 3])


def moves_item(truth: SimTruth, points: int) -> RubricItem:
    """The rubric line "The robot drives": its centre travelled more than 0.5 m."""
    return item("moves", "The robot drives", "机器人开动了", truth.distance_m > 0.5, points)


def stopped_item(stopped: bool, within: float, points: int) -> RubricItem:
    """The rubric line "Stopped in front of the stop sign (within N cm)"."""
    return item(
        "stop",
        f"Stopped in front of the stop sign (within {within * 100:.0f} cm)",
        f"在停车标志前停下（{within * 100:.0f} 厘米以内）",
        stopped,
        points,
    )


def looked_item(run: Run, at_least: int, points: int = 5) -> RubricItem:
    """The rubric line "Looked with the camera": at least ``at_least`` pictures were read."""
    pictures = len(run.readings("camera"))
    return item("camera", "Looked with the camera", "用摄像头看了", pictures >= at_least, points)
