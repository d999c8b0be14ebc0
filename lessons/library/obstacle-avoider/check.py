"""Grades obstacle-avoider on the simulator's ground truth: collisions, distance and room explored."""

from lessons.grading import Grade, Run, item

NAMES_ZH = {
    "inner wall": "内墙",
    "border": "围墙",
    "crate": "木箱",
    "small box": "小箱子",
    "bin": "垃圾桶",
    "can": "罐子",
}


def grade(run: Run) -> Grade:
    truth, p = run.truth, run.params
    trail = truth.trail
    crashes = truth.collisions
    moved = truth.distance_m
    cell = p.get("cell_m", 0.5)
    cells = {(int(x // cell), int(y // cell)) for x, y in trail[:, 1:3]} if len(trail) else set()
    first_crash = float(crashes[0].t - trail[0, 0]) if crashes and len(trail) else None
    min_d, min_cells = p.get("min_distance_m", 4.0), p.get("min_cells", 7)
    items = [
        item("moves", "Drove at least 1 m", "至少行驶了 1 米", moved >= 1.0, 10),
        item("far", f"Drove at least {min_d:g} m", f"至少行驶了 {min_d:g} 米", moved >= min_d, 15),
        item(
            "explore",
            f"Visited at least {min_cells} squares of the room",
            f"至少到过房间里的 {min_cells} 个格子",
            len(cells) >= min_cells,
            15,
        ),
        item(
            "no-crash",
            "No collisions",
            "没有碰撞",
            not crashes and moved >= 1.0,
            45,
        ),
        item("long", "Kept going to the end", "一直坚持到最后", run.seconds >= 39.0, 15),
    ]
    metrics = {
        "distance_m": round(moved, 2),
        "squares": len(cells),
        "collisions": len(crashes),
        "first_crash_s": None if first_crash is None else round(first_crash, 1),
        "hit": crashes[0].obstacle if crashes else None,
    }
    if crashes:
        en = f"Bumped into the {crashes[0].obstacle} after {first_crash:.1f} s. Turn earlier or turn more."
        what = NAMES_ZH.get(crashes[0].obstacle, crashes[0].obstacle)
        zh = f"{first_crash:.1f} 秒时撞到了{what}。早一点转弯，或者多转一点。"
    elif moved < min_d:
        en, zh = (
            "No crashes, but be braver: drive further.",
            "没有碰撞，但可以更大胆：开得更远一些。",
        )
    elif len(cells) < min_cells:
        en, zh = (
            "Safe and busy! Now explore more of the room.",
            "又安全又勤快！再多探索房间的其他地方。",
        )
    else:
        en, zh = "A careful explorer: no bumps at all!", "细心的探险家：一次也没撞！"
    return Grade.from_items(items, metrics=metrics, feedback_en=en, feedback_zh=zh)
