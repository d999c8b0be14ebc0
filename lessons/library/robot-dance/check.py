"""Grades robot-dance on the simulator's trail: moves both ways, turns both ways, ends at home."""

import numpy as np
from numpy.typing import NDArray

from lessons.grading import Grade, Run, item


def _moves(trail: NDArray[np.float64]) -> tuple[float, float, float, float]:
    """Metres driven forward and backward, degrees turned left and right, from the true trail."""
    if len(trail) < 2:
        return 0.0, 0.0, 0.0, 0.0
    xy = trail[:, 1:3]
    heading = np.unwrap(np.radians(trail[:, 3]))
    step = np.diff(xy, axis=0)
    along = step[:, 0] * np.cos(heading[:-1]) + step[:, 1] * np.sin(heading[:-1])
    turn = np.degrees(np.diff(heading))
    return (
        float(along[along > 0].sum()),
        float(abs(along[along < 0].sum())),
        float(turn[turn > 0].sum()),
        float(abs(turn[turn < 0].sum())),
    )


def grade(run: Run) -> Grade:
    truth = run.truth
    p = run.params
    fwd, back, left, right = _moves(truth.trail)
    start, end = truth.start_pose, truth.final_pose
    away = float(np.hypot(end.x - start.x, end.y - start.y)) if start and end else 9.9
    min_move, min_turn = p.get("min_move_m", 0.15), p.get("min_turn_deg", 90)
    items = [
        item("forward", "Drove forward", "向前走了", fwd >= min_move, 20),
        item("backward", "Drove backward", "向后退了", back >= min_move, 20),
        item("left", "Spun to the left", "向左转了", left >= min_turn, 15),
        item("right", "Spun to the right", "向右转了", right >= min_turn, 15),
        item(
            "home",
            "Ended near where it started",
            "最后回到了起点附近",
            away <= p.get("home_radius_m", 0.15) and (fwd + back) > 0,
            20,
        ),
        item("safe", "Bumped into nothing", "没有撞到东西", not truth.collisions, 10),
    ]
    metrics = {
        "forward_m": round(fwd, 2),
        "backward_m": round(back, 2),
        "left_deg": round(left),
        "right_deg": round(right),
        "end_from_start_m": round(away, 2),
    }
    if back < min_move:
        en, zh = (
            "Now make the robot come back: backward(0.5).",
            "现在让机器人退回来：backward(0.5)。",
        )
    elif left < min_turn or right < min_turn:
        en, zh = (
            "Add a spin each way: left(0.3) and right(0.3).",
            "加上向左转和向右转：left(0.3) 和 right(0.3)。",
        )
    elif away > p.get("home_radius_m", 0.15):
        en, zh = (
            f"Nice moves! You ended {away:.2f} m from the start: give each move its opposite, same power, same time.",
            f"动作很棒！最后离起点 {away:.2f} 米：每个动作都配一个反过来的动作，功率和时间都一样。",
        )
    else:
        en, zh = "What a dance! Try a longer one.", "跳得真棒！试试编一支更长的舞。"
    return Grade.from_items(items, metrics=metrics, feedback_en=en, feedback_zh=zh)
