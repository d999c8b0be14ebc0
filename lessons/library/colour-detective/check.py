"""Grades colour-detective: the colours the student reported against the mats the robot really crossed.

A report only counts when it names the right colour, in the right order, at about the time the robot
really crossed that mat (the camera sees a mat a little before the robot's centre is on it), so a
program that reports a list it learned by heart does not pass.
"""

from typing import Any

from lessons.checks import looked_item
from lessons.grading import Grade, Run, SimTruth, item

COLOURS = ("red", "yellow", "blue", "green")


def _crossings(truth: SimTruth) -> list[tuple[Any, ...]]:
    """[(colour, entered_t, left_t)] for every mat the robot's centre drove onto, in order."""
    out: list[list[Any]] = []
    open_at: dict[str, int] = {}
    end = truth.trail[-1][0] if len(truth.trail) else 1e9
    for e in truth.zones:
        if e.entered:
            open_at[e.zone] = len(out)
            out.append([e.zone.split()[0], e.t, end])
        elif e.zone in open_at:
            out[open_at.pop(e.zone)][2] = e.t
    return [tuple(c) for c in out if c[0] in COLOURS]


def grade(run: Run) -> Grade:
    p = run.params
    early, late = p.get("max_early_s", 3.0), p.get("max_late_s", 1.0)
    crossed = _crossings(run.truth)
    reports = [
        (r["t"], str(r["value"]).strip().lower()) for r in run.reports if r["name"] == "colour"
    ]
    looked = len(run.readings("camera"))
    # Match in order: each mat takes the next report that names its colour in its time window.
    matched, i = [], 0
    for colour, entered, left in crossed:
        hit = False
        for j in range(i, len(reports)):
            t, said = reports[j]
            if said == colour and entered - early <= t <= left + late:
                hit, i = True, j + 1
                break
        matched.append(hit)
    right = sum(matched)
    exact = [c[0] for c in crossed] == [r[1] for r in reports] and all(matched)
    n = max(len(crossed), 1)
    items = [
        item("road", "Drove over all five mats", "开过了全部五块垫子", len(crossed) >= 5, 15),
        looked_item(run, at_least=20),
        *[
            item(
                f"mat-{k + 1}",
                f"Said mat {k + 1} ({crossed[k][0]}) at the right time",
                f"及时说出了第 {k + 1} 块垫子的颜色",
                matched[k],
                13,
            )
            for k in range(len(crossed))
        ],
        item(
            "exact",
            "Said every colour once, and nothing wrong",
            "每种颜色说了一次，没有说错",
            exact and bool(crossed),
            10,
        ),
        item("safe", "Bumped into nothing", "没有撞到东西", not run.truth.collisions, 5),
    ]
    if len(crossed) < 5:
        items += [
            item("mats", "Said the colours of the mats", "说出了垫子的颜色", False, 13 * (5 - n))
        ]
    metrics = {
        "mats_crossed": len(crossed),
        "colours_reported": len(reports),
        "right": right,
        "camera_pictures": looked,
    }
    said = ", ".join(r[1] for r in reports) or "-"
    truth = ", ".join(c[0] for c in crossed) or "-"
    if exact and len(crossed) >= 5:
        en, zh = (
            "Great detective work: every colour, in order!",
            "侦探真厉害：每种颜色都按顺序说对了！",
        )
    else:
        en = f"The robot crossed: {truth}. You said: {said}. Check your rules with the printed numbers."
        zh = f"机器人开过的是：{truth}。你说的是：{said}。对照打印出来的数字检查你的规则。"
    return Grade.from_items(items, metrics=metrics, feedback_en=en, feedback_zh=zh)
