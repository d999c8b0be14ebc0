"""Grades wall-follower on the simulator's ground truth: the gap to the wall all along, and crashes.

The gap is measured from the robot's true trail to the walls of the lesson's world, between the
start of the wall course and the far end; what the side sensor said is not used.
"""

from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from hardware.kit import load_kit
from hardware.sim import load_world
from lessons.checks import moves_item
from lessons.grading import Grade, Run, item

HERE = Path(__file__).parent


def _gaps(trail: NDArray[np.float64], x_from: float, x_to: float) -> NDArray[np.float64]:
    """Metres from the robot's left side (where the side sensor sits) to the wall, along the course."""
    points = trail[(trail[:, 1] >= x_from) & (trail[:, 1] <= x_to), 1:3]
    if not len(points):
        return np.zeros(0)
    side = load_kit(HERE / "kit.yaml").parts["side"].mount.y
    best = np.full(len(points), np.inf)
    for wall in load_world(HERE / "world.yaml").model.walls:
        a, b = np.array(wall.start), np.array(wall.end)
        e = b - a
        u = np.clip(((points - a) @ e) / float(e @ e), 0.0, 1.0)
        d = np.hypot(*(a + u[:, None] * e - points).T) - wall.thickness / 2
        best = np.minimum(best, d)
    return best - side


def grade(run: Run) -> Grade:
    truth, p = run.truth, run.params
    trail = truth.trail
    moved = truth.distance_m
    passed = set(truth.checkpoint_names)
    target = p.get("target_m", 0.25)
    x_from, x_to = p.get("course_x", [0.6, 2.7])
    errors = np.abs(_gaps(trail, x_from, x_to) - target)
    mean_err = float(errors.mean()) if len(errors) else None
    max_err = float(errors.max()) if len(errors) else None
    mean_ok, max_ok = p.get("mean_error_m", 0.03), p.get("max_error_m", 0.08)
    crashes = truth.collisions
    whole = "far end" in passed
    items = [
        moves_item(truth, 10),
        item(
            "narrow",
            "Got round the bend into the narrow part",
            "拐进了窄的那一段",
            "narrow part" in passed,
            10,
        ),
        item("end", "Followed the wall to the far end", "沿着墙走到了尽头", whole, 15),
        item(
            "steady",
            f"On average within {100 * mean_ok:.0f} cm of {100 * target:.0f} cm from the wall",
            f"平均来说和 {100 * target:.0f} 厘米的目标距离相差不到 {100 * mean_ok:.0f} 厘米",
            whole and mean_err is not None and mean_err <= mean_ok,
            25,
        ),
        item(
            "never-off",
            f"Never more than {100 * max_ok:.0f} cm too close or too far",
            f"从来没有太近或太远超过 {100 * max_ok:.0f} 厘米",
            whole and max_err is not None and max_err <= max_ok,
            20,
        ),
        item(
            "no-crash",
            "No collisions",
            "没有碰撞",
            not crashes and moved > 0.5 and run.ran_to_the_end,
            20,
        ),
    ]
    metrics = {
        "mean_error_cm": None if mean_err is None else round(100 * mean_err, 1),
        "max_error_cm": None if max_err is None else round(100 * max_err, 1),
        "collisions": len(crashes),
        "distance_m": round(moved, 2),
    }
    if crashes:
        en, zh = (
            f"Bumped into the {crashes[0].obstacle or 'wall'}. Stop when the wall ahead is close, "
            "and steer away when the side gap gets small.",
            "撞到墙了。前面的墙近了就停车；侧面的距离变小时要往外转。",
        )
    elif not whole:
        en, zh = (
            "Keep following the wall all the way to the far end.",
            "沿着墙一直走到尽头。",
        )
    elif mean_err is not None and max_err is not None and mean_err <= mean_ok and max_err <= max_ok:
        en, zh = (
            f"Steady as a train on rails: on average {100 * mean_err:.1f} cm off.",
            f"稳得像在轨道上的火车：平均只差 {100 * mean_err:.1f} 厘米。",
        )
    else:
        en, zh = (
            f"Up to {100 * (max_err or 0):.0f} cm off the gap you wanted. Steer with "
            "turn = KP * (gap - TARGET), and add KD if it wobbles.",
            f"最多和想要的距离差了 {100 * (max_err or 0):.0f} 厘米。用 turn = KP * (gap - TARGET) 来转向，"
            "摇摆的话再加上 KD。",
        )
    return Grade.from_items(items, metrics=metrics, feedback_en=en, feedback_zh=zh)
