"""Grades line-follower-pd on the simulator's ground truth: a lap, how far the robot strayed, how fast."""

from pathlib import Path

from hardware.sim import load_world
from lessons.checks import line_offsets, moves_item
from lessons.grading import Grade, Run, SimTruth, item

WORLD = Path(__file__).with_name("world.yaml")
GATES = ("east side", "castle gate", "west side")
GATES_ZH = {"east side": "东边", "castle gate": "城堡门口", "west side": "西边"}


def _max_offset(truth: SimTruth) -> float | None:
    """Metres: the furthest the robot's centre got from the tape's centre."""
    if len(truth.trail) < 2:
        return None
    return float(line_offsets(truth, load_world(WORLD)).max())


def grade(run: Run) -> Grade:
    truth, p = run.truth, run.params
    laps = truth.laps
    moved = truth.distance_m
    passed = set(truth.checkpoint_names)
    worst = _max_offset(truth)
    max_off, max_lap = p.get("max_offset_m", 0.012), p.get("lap_time_s", 15.5)
    lap = laps[0] if laps else None
    items = [
        moves_item(truth, 5),
        item(
            "corners",
            "Got through the castle's corners",
            "通过了城堡的弯道",
            all(g in passed for g in GATES),
            15,
        ),
        item("lap", "Finished a whole lap", "跑完了一整圈", lap is not None, 35),
        item(
            "close",
            f"Never more than {1000 * max_off:.0f} mm from the line",
            f"离线从不超过 {1000 * max_off:.0f} 毫米",
            lap is not None and worst is not None and worst <= max_off,
            20,
        ),
        item(
            "fast",
            f"A lap in {max_lap:g} s or less",
            f"{max_lap:g} 秒内跑完一圈",
            lap is not None and lap <= max_lap,
            15,
        ),
        item("safe", "No crashes", "没有碰撞", not truth.collisions, 10),
    ]
    metrics = {
        "laps": len(laps),
        "lap_time_s": round(lap, 2) if lap is not None else None,
        "max_offset_mm": None if worst is None else round(1000 * worst, 1),
        "distance_m": round(moved, 2),
    }
    missed = [g for g in GATES if g not in passed]
    if lap is not None and worst is not None and worst <= max_off and lap <= max_lap:
        en, zh = (
            f"A smooth lap in {lap:.1f} s, never more than {1000 * worst:.0f} mm off the line!",
            f"{lap:.1f} 秒平稳地跑完一圈，离线从不超过 {1000 * worst:.0f} 毫米！",
        )
    elif lap is not None:
        worst_mm = 1000 * (worst or 0.0)  # a lap leaves a trail: the offset is known
        en, zh = (
            f"A lap in {lap:.1f} s, up to {worst_mm:.0f} mm off the line. Tune KP and KD: "
            "less wobble, more speed.",
            f"{lap:.1f} 秒跑完一圈，最远离线 {worst_mm:.0f} 毫米。调一调 KP 和 KD："
            "少一点摇摆，多一点速度。",
        )
    else:
        en = (
            f"The robot lost the line before the {missed[0] if missed else 'finish'}. "
            "Does it wobble more and more? Add the D part: KD * rate."
        )
        zh = (
            f"机器人在到达{GATES_ZH.get(missed[0], missed[0]) if missed else '终点'}之前丢线了。"
            "是不是越摆越厉害？加上 D 的部分：KD * rate。"
        )
    return Grade.from_items(items, metrics=metrics, feedback_en=en, feedback_zh=zh)
