"""Grades draw-a-square on the simulator's trail: four sides, four left corners, back home."""

import numpy as np

from lessons.grading import Grade, Run, item


def grade(run: Run) -> Grade:
    truth = run.truth
    p = run.params
    trail = truth.trail
    turned = (
        float(np.degrees(np.diff(np.unwrap(np.radians(trail[:, 3])))).sum())
        if len(trail) > 1
        else 0.0
    )
    start, end = truth.start_pose, truth.final_pose
    away = float(np.hypot(end.x - start.x, end.y - start.y)) if start and end else 9.9
    side = p.get("side_m", 0.3)
    facing = abs(((turned + 180) % 360) - 180)  # how far from facing the start's way
    items = [
        item("sides", "Drove four sides", "开了四条边", truth.distance_m >= 3.5 * side, 30),
        item(
            "corners",
            "Turned all the way round (four corners)",
            "转了整整一圈（四个角）",
            turned >= 300,
            30,
        ),
        item(
            "home",
            "Ended where it started",
            "回到了起点",
            away <= p.get("home_radius_m", 0.12) and truth.distance_m > side,
            20,
        ),
        item(
            "facing",
            "Faces the way it started",
            "面朝出发时的方向",
            facing <= p.get("heading_tol_deg", 25) and turned > 90,
            10,
        ),
        item("safe", "Bumped into nothing", "没有撞到东西", not truth.collisions, 10),
    ]
    metrics = {
        "driven_m": round(truth.distance_m, 2),
        "turned_deg": round(turned),
        "end_from_start_m": round(away, 2),
    }
    if turned < 300:
        en, zh = (
            'Put one side and one corner inside "repeat 4 times".',
            "把一条边和一个角放进“重复 4 次”里面。",
        )
    else:
        en, zh = (
            "A square! Try a triangle: how many degrees is each corner?",
            "正方形画好了！试试三角形：每个角要转多少度？",
        )
    return Grade.from_items(items, metrics=metrics, feedback_en=en, feedback_zh=zh)
