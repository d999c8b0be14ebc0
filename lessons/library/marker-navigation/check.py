"""Grades marker-navigation on the simulator's ground truth: the markers the robot's centre really
came close to, in the order asked, how long it took, and whether it bumped into anything.
"""

import numpy as np
from numpy.typing import NDArray

from lessons.checks import looked_item, shipped_world
from lessons.grading import Grade, Run, SimTruth, item


def _marker_places(truth: SimTruth) -> dict[int, tuple[float, float]]:
    """{marker id: (x, y)} of the world the robot drove in (none known for a world of one's own)."""
    world = shipped_world(truth)
    if world is None:
        return {}
    return {m.id: (m.at[0], m.at[1]) for m in world.model.markers}


def _reached_in_order(
    trail: NDArray[np.float64],
    places: dict[int, tuple[float, float]],
    order: list[int],
    reach: float,
) -> list[float | None]:
    """For each marker of `order`: the time the robot first came within `reach` of it, after the
    previous one was reached (None when it never did)."""
    times: list[float | None] = []
    i = 0
    for wanted in order:
        if wanted not in places or i >= len(trail):
            times.append(None)
            continue
        x, y = places[wanted]
        close = np.hypot(trail[i:, 1] - x, trail[i:, 2] - y) <= reach
        hit = np.flatnonzero(close)
        if not len(hit):
            times.append(None)
            i = len(trail)
            continue
        i += int(hit[0])
        times.append(float(trail[i, 0]))
    return times


def grade(run: Run) -> Grade:
    truth, p = run.truth, run.params
    order = [int(m) for m in p.get("order", [1, 4, 6])]
    reach = p.get("reach_m", 0.3)
    max_time = p.get("max_time_s", 45.0)
    trail = truth.trail
    places = _marker_places(truth)
    times = _reached_in_order(trail, places, order, reach)
    crashes = truth.collisions
    t0 = truth.start_time
    done = all(t is not None for t in times)
    last = times[-1]
    took = last - t0 if done and last is not None else None
    said = [int(v) for v in run.reported("reached") if isinstance(v, (int, float))]
    items = [
        looked_item(run, at_least=20),
        *[
            item(
                f"marker-{k + 1}",
                f"Reached marker {m} ({k + 1}. in the order)",
                f"到达了标记 {m}（第 {k + 1} 个）",
                times[k] is not None,
                20,
            )
            for k, m in enumerate(order)
        ],
        item(
            "quick",
            f"All markers within {max_time:g} s",
            f"在 {max_time:g} 秒内到达全部标记",
            took is not None and took <= max_time,
            10,
        ),
        item(
            "safe",
            "Bumped into nothing",
            "没有撞到东西",
            not crashes and times[0] is not None,
            15,
        ),
        item(
            "reports",
            "Reported each marker when it got there",
            "到达每个标记时都报告了",
            done and said == order,
            10,
        ),
    ]
    metrics = {
        "markers_reached": sum(t is not None for t in times),
        "time_s": None if took is None else round(took, 1),
        "collisions": len(crashes),
        "hit": crashes[0].obstacle if crashes else None,
        "camera_pictures": len(run.readings("camera")),
    }
    missing = next((m for m, t in zip(order, times, strict=True) if t is None), None)
    if done and not crashes:
        en = f"All {len(order)} markers in {took:.1f} s without a bump. Can you shave off a few seconds?"
        zh = f"{took:.1f} 秒到达全部 {len(order)} 个标记，一次也没撞。还能再快几秒吗？"
    elif crashes:
        en = f"Bumped into the {crashes[0].obstacle}: stop sooner (robot.distance) or drive slower."
        zh = "撞到了东西：早一点停下（看 robot.distance），或者开慢一点。"
    else:
        place = None if missing is None else places.get(missing)
        where = "" if place is None else f" at ({place[0]:.2f}, {place[1]:.2f})"
        en = (
            f"Never got within {reach * 100:.0f} cm of marker {missing}{where}. "
            "Spin until you see it, steer to keep it in the middle, drive until the wall is close."
        )
        zh = (
            f"始终没有开到标记 {missing} 的 {reach * 100:.0f} 厘米以内。"
            "原地转到看见它，转向让它保持在画面中间，一直开到离墙很近。"
        )
    return Grade.from_items(items, metrics=metrics, feedback_en=en, feedback_zh=zh)
