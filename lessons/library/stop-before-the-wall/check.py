"""Grades stop-before-the-wall: drove towards the wall, stopped close to it, never touched it."""

from lessons.grading import Grade, Run, item

ROBOT_RADIUS_M = 0.08  # the simulated robot's half width


def grade(run: Run) -> Grade:
    truth = run.truth
    p = run.params
    end = truth.final_pose
    gap = p.get("wall_x_m", 2.0) - end.x - ROBOT_RADIUS_M if end else 9.9
    near = p.get("near_m", 0.25)
    looked = len(run.readings("distance"))
    items = [
        item("drove", "Drove towards the wall", "向墙开过去了", truth.distance_m >= 0.5, 20),
        item("looked", "Used the distance sensor", "用了距离传感器", looked >= 5, 20),
        item(
            "near",
            f"Stopped less than {near * 100:.0f} cm from the wall",
            f"停在离墙不到 {near * 100:.0f} 厘米的地方",
            0 <= gap <= near and not truth.collisions,
            40,
        ),
        item("safe", "Never touched the wall", "没有碰到墙", not truth.collisions, 20),
    ]
    metrics = {
        "gap_cm": round(gap * 100),
        "driven_m": round(truth.distance_m, 2),
        "distance_readings": looked,
    }
    if truth.collisions:
        en, zh = (
            "Bump! Stop when the distance ahead is small.",
            "撞墙了！前方距离变小的时候就要停下。",
        )
    elif gap > near:
        en, zh = (
            f"You stopped {gap * 100:.0f} cm away: drive until the distance is small.",
            f"你停在离墙 {gap * 100:.0f} 厘米的地方：一直开到距离很小再停。",
        )
    else:
        en, zh = (
            "Just in time! Try a smaller number: how close can you get?",
            "刚刚好！试试更小的数字：你能停得多近？",
        )
    return Grade.from_items(items, metrics=metrics, feedback_en=en, feedback_zh=zh)
