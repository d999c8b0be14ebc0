"""How fast the simulator core runs, against real time and a lesson's frame rate.

- physics + sensors: one robot on the oval track stepped at 100 Hz, reading
  its line sensors, ultrasonic, encoders, IMU and battery every step, with a
  proportional line-follower driving it. Figure: sim seconds per wall second
  (the real-time factor; 1.0 = as fast as a real robot lives).
- camera: frames per second at 320x240 and 640x480 on the sign road and the
  obstacle room (the robot turns between frames so nothing is cached), plain
  and with every image effect on, against a lesson's 15-30 fps.
- lesson loop (issue 4's goal): physics and line sensors at 100 Hz plus a
  160x120 camera frame at 20 fps; goal >= 20x real time.

The two loops are also given by the process's CPU time: on a shared machine
other jobs stretch the wall clock, and CPU time is what the simulator used.
It counts every thread of the process (OpenCV's warps run on a second core
too), so on a quiet machine it can come out below the wall-clock figure.

Medians of ``--runs`` repeats. Not a test: it prints figures, it asserts nothing.

    .venv/bin/python bench/bench_sim.py [--runs 5] [--seconds 10] [--json | --markdown]
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import time
from collections.abc import Callable

from report import print_markdown

from hardware.sim import BodySpec, CameraSpec, Mount, World, load_world, world_path

DT = 0.01
SENSORS = [(0.07, 0.03), (0.07, 0.015), (0.07, 0.0), (0.07, -0.015), (0.07, -0.03)]


def lesson_loop(seconds: float, camera: CameraSpec | None, camera_hz: float) -> tuple[float, float]:
    """Run a line-follower for ``seconds`` of sim time; return wall and CPU seconds."""
    world = load_world(world_path("oval-track"))
    robot = world.add_robot(BodySpec(max_wheel_speed=0.5, acceleration=4.0))
    cam = robot.sensors.camera(camera) if camera else None
    every = round(1 / (camera_hz * DT)) if cam else 0
    ultrasonic = Mount(x=0.08)
    steps = round(seconds / DT)
    start, cpu = time.perf_counter(), time.process_time()
    for i in range(steps):
        line = robot.sensors.line_reflectance(SENSORS)
        turn = 1.2 * float(line[3] + line[4] - line[0] - line[1]) / 2
        robot.set_motors(0.5 - turn, 0.5 + turn)
        robot.sensors.distance(ultrasonic)
        _ = (
            robot.sensors.encoder_ticks,
            robot.sensors.heading_deg,
            robot.sensors.yaw_rate_dps,
            robot.battery_voltage,
        )
        if cam is not None and i % every == 0:
            cam.read()
        world.step(DT)
    return time.perf_counter() - start, time.process_time() - cpu


def camera_fps(world_name: str, spec: CameraSpec, frames: int) -> float:
    world = load_world(world_path(world_name))
    robot = world.add_robot(BodySpec(acceleration=None))
    cam = robot.sensors.camera(spec)
    robot.set_motors(-0.2, 0.2)  # turn slowly, so every frame differs
    start = time.perf_counter()
    for _ in range(frames):
        world.step(DT)
        cam.read()
    return frames / (time.perf_counter() - start)


def median(runs: int, fn: Callable[[], float]) -> float:
    return statistics.median(fn() for _ in range(runs))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=10.0, help="sim seconds per physics run")
    parser.add_argument("--frames", type=int, default=60, help="frames per camera run")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--markdown", action="store_true", help="a table for docs/benchmarks.md")
    args = parser.parse_args()
    World.empty(1.0, 1.0).add_robot().camera().read()  # import and warm-up outside the timing

    rows: list[dict[str, object]] = []
    for case, camera, hz, unit in (
        ("physics + sensors, 100 Hz", None, 0.0, "x real time"),
        (
            "lesson loop: 100 Hz + 160x120 camera at 20 fps",
            CameraSpec(width=160, height=120),
            20.0,
            "x real time (goal 20)",
        ),
    ):
        runs = [lesson_loop(args.seconds, camera, hz) for _ in range(args.runs)]
        wall = statistics.median(r[0] for r in runs)
        cpu = statistics.median(r[1] for r in runs)
        rows.append({"case": case, "figure": round(args.seconds / wall, 1), "unit": unit})
        # on a shared machine other jobs stretch the wall clock: CPU time is what the sim used
        rows.append(
            {
                "case": "  the same, by this process's CPU time",
                "figure": round(args.seconds / cpu, 1),
                "unit": unit,
            }
        )
    effects = {"light_variation": 0.2, "blur_px": 0.8, "noise": 3.0, "jpeg_quality": 80}
    for world_name in ("sign-road", "obstacle-room"):
        for w, h in ((320, 240), (640, 480)):
            for label, extra in (("plain", {}), ("all effects", effects)):
                spec = CameraSpec(width=w, height=h, **extra)  # type: ignore[arg-type]
                fps = median(
                    args.runs, functools.partial(camera_fps, world_name, spec, args.frames)
                )
                rows.append(
                    {
                        "case": f"camera {w}x{h} {label}, {world_name}",
                        "figure": round(fps, 1),
                        "unit": f"fps ({fps / 15:.1f}x of 15 fps, {fps / 30:.1f}x of 30 fps)",
                    }
                )
    if args.json:
        print(json.dumps(rows))
        return
    if args.markdown:
        print_markdown(
            ["case", "figure", "unit"],
            [[str(r["case"]).strip(), r["figure"], r["unit"]] for r in rows],
            notes=[f"Medians of {args.runs} runs."],
        )
        return
    width = max(len(str(r["case"])) for r in rows)
    print(f"hardware.sim, medians of {args.runs} runs")
    for r in rows:
        print(f"  {r['case']:<{width}}  {r['figure']:>8}  {r['unit']}")


if __name__ == "__main__":
    main()
