"""Grades traffic-sign-reader on the simulator's ground truth: which streets the robot really drove
into after each sign (gates in the world), where it stopped, and whether it bumped into anything.
The signs the program reported are checked too, but only as a claim: the turns are what count.
"""

from lessons.checks import crossed_in_order, distance_from_end, looked_item, stopped_item
from lessons.grading import Grade, Run, item

STREETS = ("north street", "top street", "east street")  # the street behind each correct turn


def grade(run: Run) -> Grade:
    truth, p = run.truth, run.params
    route = [str(s) for s in p.get("signs", ["left", "right", "right", "stop"])]
    sx, sy = p.get("stop_sign", [2.7, 0.02])
    within = p.get("stop_within_m", 0.45)
    turns = crossed_in_order(truth.checkpoint_names, STREETS)
    to_stop = distance_from_end(truth, sx, sy)
    stopped = turns == len(STREETS) and to_stop <= within
    crashes = truth.collisions
    said = [str(v) for v in run.reported("sign")]
    pictures = len(run.readings("camera"))
    names_zh = {"left": "向左转", "right": "向右转", "stop": "停车"}
    items = [
        looked_item(run, at_least=30),
        *[
            item(
                f"sign-{k + 1}",
                f"Obeyed sign {k + 1} ({route[k]}): drove into the {STREETS[k]}",
                f"遵守了第 {k + 1} 个标志（{names_zh.get(route[k], route[k])}）",
                turns > k,
                20,
            )
            for k in range(len(STREETS))
        ],
        stopped_item(stopped, within, 15),
        item(
            "safe",
            "Bumped into nothing",
            "没有撞到东西",
            not crashes and truth.distance_m > 0.5,
            10,
        ),
        item(
            "read",
            "Reported every sign right, in order",
            "按顺序正确报告了每个标志",
            said == route,
            10,
        ),
    ]
    metrics = {
        "signs_obeyed": turns + int(stopped),
        "signs_reported": ", ".join(said) or None,
        "stop_distance_m": round(to_stop, 2),
        "collisions": len(crashes),
        "camera_pictures": pictures,
        "time_s": round(run.seconds, 1),
    }
    if turns == len(STREETS) and stopped and not crashes:
        en, zh = (
            "Every sign read and obeyed: a safe driver!",
            "每个标志都读懂并照做了：安全驾驶！",
        )
    elif crashes:
        en = f"Bumped into the {crashes[0].obstacle}: stop further from the wall, or turn on the spot."
        zh = "撞到了东西：离墙远一点停下，或者原地转弯。"
    elif turns < len(STREETS):
        k = turns
        en = (
            f"Sign {k + 1} says {route[k]}, but the robot did not drive into the {STREETS[k]}. "
            "Print what the model reads on the way, and check which way you turn."
        )
        zh = (
            f"第 {k + 1} 个标志是“{names_zh.get(route[k], route[k])}”，但机器人没有开进下一条街。"
            "打印出路上模型读到了什么，再检查你转的方向。"
        )
    else:
        en = f"All turns right! Then stop in front of the stop sign: you ended {to_stop:.2f} m from it."
        zh = f"转弯全对！最后要在停车标志前停下：你停在离它 {to_stop:.2f} 米的地方。"
    return Grade.from_items(items, metrics=metrics, feedback_en=en, feedback_zh=zh)
