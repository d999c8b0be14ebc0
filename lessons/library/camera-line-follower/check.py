"""Grades camera-line-follower on the simulator's ground truth: a lap, and how far the robot's centre
strayed from the line all along its trail. The line sensors must stay unused: this lesson is about the
camera, so a lap driven with the line sensors scores nothing for the driving.
"""

from lessons.checks import line_offsets, moves_item
from lessons.grading import Grade, Run, item


def grade(run: Run) -> Grade:
    truth, p = run.truth, run.params
    mean_ok, max_ok = p.get("mean_offset_m", 0.02), p.get("max_offset_m", 0.05)
    laps = truth.laps
    moved = truth.distance_m
    gates = truth.checkpoint_names
    off = line_offsets(truth)  # the shipped world's line: none for a world of one's own
    mean_off = float(off.mean()) if len(off) else None
    max_off = float(off.max()) if len(off) else None
    pictures = len(run.readings("camera"))
    line_sensor = len(run.readings("line"))
    # the driving only counts when the camera did the work
    by_camera = pictures >= 50 and line_sensor == 0
    lapped = bool(laps) and by_camera
    close = lapped and mean_off is not None and mean_off <= mean_ok
    never_far = lapped and max_off is not None and max_off <= max_ok
    items = [
        moves_item(truth, 5),
        item("camera", "Steered with the camera", "用摄像头来转向", pictures >= 50, 5),
        item(
            "no-line-sensors",
            "Left the line sensors alone",
            "没有用巡线传感器",
            by_camera,
            5,
        ),
        item(
            "far-bend",
            "Got round the far bend",
            "转过了远端弯道",
            "far bend" in gates and by_camera,
            15,
        ),
        item("lap", "Finished a whole lap", "跑完了一整圈", lapped, 30),
        item(
            "close",
            f"Stayed close to the line (on average within {mean_ok * 100:g} cm)",
            f"紧贴黑线（平均不超过 {mean_ok * 100:g} 厘米）",
            close,
            20,
        ),
        item(
            "never-far",
            f"Never more than {max_ok * 100:g} cm from the line",
            f"任何时候离线都不超过 {max_ok * 100:g} 厘米",
            never_far,
            10,
        ),
        item("safe", "No crashes", "没有碰撞", not truth.collisions and moved > 0.5, 10),
    ]
    metrics = {
        "laps": len(laps),
        "lap_time_s": round(laps[0], 2) if lapped else None,  # the leaderboard: camera laps only
        "mean_offset_cm": None if mean_off is None else round(mean_off * 100, 1),
        "max_offset_cm": None if max_off is None else round(max_off * 100, 1),
        "camera_pictures": pictures,
        "line_sensor_readings": line_sensor,
        "distance_m": round(moved, 2),
    }
    if line_sensor:
        en, zh = (
            "This lap is for the camera: take out robot.line and use find_line on the picture.",
            "这一圈要用摄像头：去掉 robot.line，对画面用 find_line。",
        )
    elif laps and close and never_far:
        mean_cm = (mean_off or 0.0) * 100  # known: a close lap has offsets
        en = f"A lap in {laps[0]:.1f} s, {mean_cm:.1f} cm from the line on average. Faster?"
        zh = f"{laps[0]:.1f} 秒跑完一圈，平均离线 {mean_cm:.1f} 厘米。能再快一点吗？"
    elif laps:
        max_cm = (max_off or 0.0) * 100  # a lap leaves a trail, so offsets are known
        en = (
            f"A lap, but up to {max_cm:.1f} cm off the line: "
            "measure the offset for a few KP and KA values and keep the best."
        )
        zh = f"跑完了一圈，但最远离线 {max_cm:.1f} 厘米：多试几组 KP 和 KA，测出离线距离，留下最好的。"
    elif "far bend" in gates:
        en, zh = (
            "Good start: now keep the line in the picture in the bends.",
            "开头不错：在弯道里也要让线留在画面中。",
        )
    else:
        en, zh = (
            "Steer towards the line: turn = -(KP * position + KA * angle).",
            "朝着线转向：turn = -(KP * position + KA * angle)。",
        )
    return Grade.from_items(items, metrics=metrics, feedback_en=en, feedback_zh=zh)
