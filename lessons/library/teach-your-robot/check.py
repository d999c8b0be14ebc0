"""Grades teach-your-robot on the simulator's ground truth and the lesson's own world file.

For every sign the program reported, the grader looks up where the robot really was and which way
it really faced at that moment (the simulator's trail), finds the sign in front of it (world.yaml),
and compares the reported label with that sign's true kind. A report made while facing no sign
counts for nothing. It also checks that the robot faced each teaching sign while it collected
pictures, and that it ended in front of the test stop sign.
"""

import math
from pathlib import Path

from hardware.sim import load_world
from lessons.checks import angle_off, distance_from_end, pose_at
from lessons.grading import Grade, PoseSeen, Run, item

WORLD = Path(__file__).with_name("world.yaml")
NAMES_ZH = {"stop": "停车", "left": "左转", "right": "右转"}
SIDES_ZH = {"north": "北", "east": "东", "south": "南"}


Sign = tuple[str, str, float, float]  # name, kind, x, y


def _signs() -> list[Sign]:
    """[(name, kind, x, y)] of the lesson's world. / 世界里的每块标志。"""
    return [(s.name, s.kind, s.at[0], s.at[1]) for s in load_world(WORLD).model.signs]


def _facing(pose: tuple[float, float, float], signs: list[Sign], within: float) -> Sign | None:
    """The sign the robot faces from `pose` (within `within` degrees, less than 1 m away), or None."""
    x, y, heading = pose
    best = None
    for sign in signs:
        dx, dy = sign[2] - x, sign[3] - y
        off = angle_off(math.degrees(math.atan2(dy, dx)), heading)
        if off <= within and math.hypot(dx, dy) < 1.0 and (best is None or off < best[0]):
            best = (off, sign)
    return None if best is None else best[1]


def grade(run: Run) -> Grade:
    truth, p = run.truth, run.params
    within = p.get("facing_within_deg", 15)
    tx, ty = p.get("teach_at", [0.5, 0.5])
    stop_within = p.get("stop_within_m", 0.4)
    signs = _signs()
    teach_signs = [s for s in signs if s[0].startswith("teach")]
    test_signs = [s for s in signs if s[0].startswith("test")]
    trail = truth.trail
    right_world = truth.world == load_world(WORLD).model.name

    # Teaching: did the robot face each teaching sign from the teaching spot? / 教学时是否面对过每块标志
    faced = set()
    for row in trail:
        if math.hypot(row[1] - tx, row[2] - ty) <= 0.15:
            sign = _facing((row[1], row[2], row[3]), teach_signs, within)
            if sign is not None:
                faced.add(sign[0])

    # The test: each "sign" report against the sign really in front of the robot / 每次报告对照真正面对的标志
    read_right: dict[str, list[bool]] = {}
    said: list[str] = []
    for r in run.reports:
        if r["name"] != "sign" or not len(trail):
            continue
        sign = _facing(pose_at(trail, r["t"]), test_signs, within)
        label = str(r["value"])
        said.append(label)
        if sign is not None:
            read_right.setdefault(sign[0], []).append(label == sign[1])
    correct = {name for name, answers in read_right.items() if answers and all(answers)}

    stop = next((s for s in test_signs if s[1] == "stop"), None)
    end = truth.final_pose or PoseSeen(0.0, 0.0, 0.0)
    to_stop = distance_from_end(truth, stop[2], stop[3]) if stop else 99.0
    at_stop = (
        stop is not None
        and to_stop <= stop_within
        and _facing((end.x, end.y, end.heading), [stop], 30)
    )
    crashes = truth.collisions
    pictures = len(run.readings("camera"))
    accuracy = run.reported("accuracy")

    items = [
        item(
            "collect",
            "Faced every teaching sign and took pictures of it",
            "面对每块教学标志并给它拍了照",
            right_world and len(faced) == len(teach_signs) and pictures >= 30,
            15,
        ),
        item(
            "report",
            "Told the teacher the model's accuracy",
            "告诉了老师模型的准确率",
            bool(accuracy),
            5,
        ),
        *[
            item(
                f"read-{s[0].split()[-1]}",
                f"Read the {s[0].split()[-1]} test sign right ({s[1]}) while facing it",
                f"面对{SIDES_ZH.get(s[0].split()[-1], '')}面的测试标志时读对了"
                f"（{NAMES_ZH.get(s[1], s[1])}）",
                s[0] in correct,
                20,
            )
            for s in test_signs
        ],
        item(
            "stop",
            f"Drove up to the stop sign (within {stop_within * 100:.0f} cm, facing it)",
            f"开到了停车标志跟前（{stop_within * 100:.0f} 厘米以内，面对它）",
            bool(at_stop),
            15,
        ),
        item(
            "safe",
            "Drove to the test spot and bumped into nothing",
            "开到了测试点，没有撞到东西",
            not crashes and truth.distance_m > 1.5,
            5,
        ),
    ]
    metrics = {
        "teaching_signs_faced": len(faced),
        "test_signs_read": len(correct),
        "signs_reported": ", ".join(said) or None,
        "accuracy_reported": accuracy[-1] if accuracy else None,
        "stop_distance_m": round(to_stop, 2),
        "camera_pictures": pictures,
        "collisions": len(crashes),
        "time_s": round(run.seconds, 1),
    }
    wrong = [s for s in test_signs if s[0] in read_right and s[0] not in correct]
    unread = [s for s in test_signs if s[0] not in read_right]
    if len(correct) == len(test_signs) and at_stop and not crashes:
        en = "Your robot learned all three signs from your own pictures and acted on them. Well taught!"
        zh = "你的机器人从你拍的照片里学会了三种标志，并照着做了。教得好！"
    elif len(faced) < len(teach_signs):
        en = (
            "While collecting, face each teaching sign (90, 180 and 270 degrees from the start) "
            "and take pictures of all three."
        )
        zh = "收集图片时，要面对每块教学标志（从起点看 90、180 和 270 度），三块都要拍。"
    elif wrong:
        s = wrong[0]
        en = (
            f"Facing the {s[0].split()[-1]} test sign ({s[1]}), your robot said something else. "
            "Look at the confusion matrix: which signs does it mix up? More varied pictures help."
        )
        zh = (
            f"面对测试标志（{NAMES_ZH.get(s[1], s[1])}）时，机器人说错了。看看混淆矩阵：它把哪些标志搞混了？"
            "拍更多样的照片会有帮助。"
        )
    elif unread:
        en = (
            f"No report while facing the {unread[0][0].split()[-1]} test sign. Drive 2 m east, face "
            "each test sign (90, 0 and 270 degrees) and report('sign', label) there."
        )
        zh = "有一块测试标志你没有面对着报告。向东开 2 米，转向每块测试标志（90、0、270 度），在那里 report('sign', label)。"
    else:
        en = f"All signs read! Now drive up to the stop sign: you ended {to_stop:.2f} m from it."
        zh = f"标志全部读对！现在开到停车标志跟前：你停在离它 {to_stop:.2f} 米的地方。"
    return Grade.from_items(items, metrics=metrics, feedback_en=en, feedback_zh=zh)
