"""Grades drive-by-your-signs on the simulator's ground truth: which streets the robot really drove
into after each sign (gates in the world), where it stopped, and whether it bumped into anything.
What the program reported is only a claim: the turns are what count.
"""

from lessons.checks import crossed_in_order, distance_from_end, looked_item, stopped_item
from lessons.grading import Grade, Run, item

ROUTE = ("north street", "east street")  # the street behind each correct turn / 每次转对后进入的街
SIGNS_ZH = {"left": "向左转", "right": "向右转"}


def grade(run: Run) -> Grade:
    truth, p = run.truth, run.params
    sx, sy = p.get("stop_sign", [2.98, 1.12])
    within = p.get("stop_within_m", 0.35)
    turns = crossed_in_order(truth.checkpoint_names, ROUTE)  # 按顺序穿过的路口
    to_stop = distance_from_end(truth, sx, sy)
    stopped = turns == len(ROUTE) and to_stop <= within
    crashes = truth.collisions
    pictures = len(run.readings("camera"))
    items = [
        looked_item(run, at_least=3),
        item(
            "sign-1",
            "Obeyed sign 1 (left): drove into the north street",
            "遵守了第 1 块标志（向左转）：开进了北边的街",
            turns >= 1,
            25,
        ),
        item(
            "sign-2",
            "Obeyed sign 2 (right): drove into the east street",
            "遵守了第 2 块标志（向右转）：开进了东边的街",
            turns >= 2,
            25,
        ),
        stopped_item(stopped, within, 30),
        item("safe", "Bumped into nothing", "没有撞到东西", not crashes, 15),
    ]
    metrics = {
        "streets_obeyed": turns,
        "stop_distance_m": round(to_stop, 2),
        "signs_reported": ", ".join(str(v) for v in run.reported("sign")) or None,
        "camera_pictures": pictures,
        "collisions": len(crashes),
        "time_s": round(run.seconds, 1),
    }
    if stopped and not crashes:
        en = "Your own model read every sign and the robot obeyed it. You taught it well!"
        zh = "你自己的模型读懂了每一块标志，机器人照着做了。你教得真好！"
    elif turns < len(ROUTE):
        which = ("left", "right")[turns]
        en = (
            f"At sign {turns + 1} the robot did not turn {which}. Did your model read it right "
            "(print the label and score)? If not, teach it again with more varied pictures."
        )
        zh = (
            f"在第 {turns + 1} 块标志前，机器人没有{SIGNS_ZH[which]}。你的模型读对了吗"
            "（打印标签和把握）？如果没有，就用更多样的照片重新教它。"
        )
    else:
        en = f"Both turns right! Now drive up to the stop sign: you ended {to_stop:.2f} m from it."
        zh = f"两次都转对了！现在开到停车标志跟前：你停在离它 {to_stop:.2f} 米的地方。"
    return Grade.from_items(items, metrics=metrics, feedback_en=en, feedback_zh=zh)
