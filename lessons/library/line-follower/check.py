"""Grades line-follower on the simulator's ground truth: laps and how far the robot strayed."""

from lessons.checks import moves_item
from lessons.grading import Grade, Run, item


def grade(run: Run) -> Grade:
    truth = run.truth
    laps = truth.laps
    moved = truth.distance_m
    checkpoints = truth.checkpoint_names
    items = [
        moves_item(truth, 10),
        item("first-bend", "Reached the far bend", "到达远端弯道", "far bend" in checkpoints, 20),
        item(
            "half",
            "Got round to the back straight",
            "跑到了后直道",
            "back straight" in checkpoints,
            20,
        ),
        item("lap", "Finished a whole lap", "跑完了一整圈", bool(laps), 40),
        item("safe", "No crashes", "没有碰撞", not truth.collisions, 10),
    ]
    metrics = {
        "laps": len(laps),
        "lap_time_s": round(laps[0], 2) if laps else None,
        "distance_m": round(moved, 2),
        "trail_points": len(truth.trail),
    }
    if laps:
        en, zh = (
            f"A lap in {laps[0]:.1f} s! Can you make it faster?",
            f"{laps[0]:.1f} 秒跑完一圈！能更快吗？",
        )
    elif "far bend" in checkpoints:
        en, zh = (
            "Good start: now keep the line in the bends (try a bigger k).",
            "开头不错：在弯道也要跟住线（试试更大的 k）。",
        )
    else:
        en, zh = (
            "Steer towards the line: turn = -k * position.",
            "朝着线转弯：turn = -k * position。",
        )
    return Grade.from_items(items, metrics=metrics, feedback_en=en, feedback_zh=zh)
