"""Grades data-logger: the speed and the wall distance the student measured, against the simulator.

The reports are only claims. They score when the runner's own telemetry shows the program really
read the encoders and the ultrasonic sensor while the robot drove, and when the numbers agree with
the ground truth of this run: the robot's true cruising speed (from its trail) and the true distance
from the ultrasonic sensor to the wall at the start (a ray cast in the lesson's world).
"""

import math
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from hardware.kit import load_kit
from hardware.sim import load_world
from lessons.grading import Grade, PoseSeen, Run, item

WORLD = Path(__file__).with_name("world.yaml")


def _true_speed(trail: NDArray[np.float64]) -> float | None:
    """m/s: the median speed while the robot was really moving (its cruising speed)."""
    if len(trail) < 3:
        return None
    dt = np.diff(trail[:, 0])
    ds = np.hypot(*np.diff(trail[:, 1:3], axis=0).T)
    ok = dt > 0
    speeds = ds[ok] / dt[ok]
    moving = speeds[speeds > 0.3 * speeds.max()] if len(speeds) and speeds.max() > 0 else []
    return float(np.median(moving)) if len(moving) else None


def _true_wall(start: PoseSeen | None) -> float | None:
    """Metres from the ultrasonic sensor to the wall ahead, where the robot started."""
    if not start:
        return None
    mount = load_kit("sim").parts["distance"].mount
    h = math.radians(start.heading)
    x = start.x + mount.x * math.cos(h) - mount.y * math.sin(h)
    y = start.y + mount.x * math.sin(h) + mount.y * math.cos(h)
    ahead = np.array([[math.cos(h), math.sin(h)]])
    return float(load_world(WORLD).obstacles.ray_cast(np.array([[x, y]]), ahead, 4.0)[0])


def _last_number(values: list[Any]) -> float | None:
    for v in reversed(values):
        if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v):
            return float(v)
    return None


def _table_rows(output: str) -> int:
    """Printed lines that look like a row of a CSV table: at least three numbers and commas."""
    count = 0
    for line in output.splitlines():
        parts = line.split(",")
        try:
            numbers = [float(p) for p in parts]
        except ValueError:
            continue
        count += len(numbers) >= 3
    return count


def grade(run: Run) -> Grade:
    truth, p = run.truth, run.params
    trail = truth.trail
    moved = truth.distance_m
    enc = run.readings("encoders")
    sonar = run.readings("distance")
    span = max((s.t for s in enc), default=0.0) - min((s.t for s in enc), default=0.0)
    sampled = len(enc) >= 10 and len(sonar) >= 10 and span >= 2.0
    measured = moved >= 0.5 and sampled
    speed, wall = _true_speed(trail), _true_wall(truth.start_pose)
    said_speed = _last_number(run.reported("speed_m_s"))
    said_wall = _last_number(run.reported("wall_m"))
    speed_tol, wall_tol = p.get("speed_tolerance", 0.05), p.get("wall_tolerance_m", 0.03)
    speed_ok = (
        measured
        and speed is not None
        and said_speed is not None
        and abs(said_speed - speed) <= speed_tol * speed
    )
    wall_ok = (
        measured
        and wall is not None
        and said_wall is not None
        and abs(said_wall - wall) <= wall_tol
    )
    crashed = bool(truth.collisions)
    items = [
        item("drove", "Drove at least 0.5 m", "至少开了 0.5 米", moved >= 0.5, 10),
        item(
            "sampled",
            "Read the encoders and the ultrasonic sensor again and again while driving",
            "开车时一遍又一遍地读了编码器和超声波传感器",
            measured,
            15,
        ),
        item(
            "table",
            "Printed a table of at least 10 rows",
            "打印了至少 10 行的表格",
            measured and _table_rows(run.output) >= 10,
            10,
        ),
        item(
            "stopped",
            "Stopped before the wall",
            "在墙前停下了",
            moved >= 0.5 and not crashed and run.ran_to_the_end,
            10,
        ),
        item(
            "speed",
            f"Measured the speed (within {100 * speed_tol:.0f} %)",
            f"测出了速度（误差不超过 {100 * speed_tol:.0f}%）",
            speed_ok,
            30,
        ),
        item(
            "wall",
            f"Measured how far away the wall was (within {100 * wall_tol:.0f} cm)",
            f"测出了墙有多远（误差不超过 {100 * wall_tol:.0f} 厘米）",
            wall_ok,
            25,
        ),
    ]
    metrics = {
        "speed_m_s": said_speed,
        "true_speed_m_s": None if speed is None else round(speed, 3),
        "wall_m": said_wall,
        "true_wall_m": None if wall is None else round(wall, 3),
        "encoder_readings": len(enc),
        "ultrasonic_readings": len(sonar),
        "distance_m": round(moved, 2),
    }
    if speed_ok and wall_ok:
        en, zh = (
            f"Spot on: {said_speed:.3f} m/s and a wall {said_wall:.2f} m away. A real scientist!",
            f"完全正确：{said_speed:.3f} 米/秒，墙在 {said_wall:.2f} 米外。真是个科学家！",
        )
    elif not measured:
        en, zh = (
            "Drive, and read the sensors again and again while the robot drives: the numbers "
            "must come from the robot.",
            "让机器人开起来，并在开的时候一遍又一遍地读传感器：数字要从机器人那里来。",
        )
    elif not speed_ok:
        en, zh = (
            "Check the speed: take two rows of your table, and divide how far the wheels went "
            "by how much time passed.",
            "检查一下速度：从表格里取两行，用轮子走过的距离除以经过的时间。",
        )
    else:
        en, zh = (
            "The speed is right. For the wall: how far did the wheels roll, and how much was "
            "still left in front of the sensor?",
            "速度对了。墙有多远：轮子走了多远，传感器前面还剩多远？",
        )
    return Grade.from_items(items, metrics=metrics, feedback_en=en, feedback_zh=zh)
