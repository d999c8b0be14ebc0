"""Sim clock, motor model, kinematics, collisions, battery, noise and determinism."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hardware.sim import (
    BatterySpec,
    BodySpec,
    Collision,
    Pacer,
    Pose,
    SimClock,
    SimValueError,
    UnknownStartError,
    World,
)

EXACT = BodySpec(wheel_base=0.12, max_wheel_speed=0.5, acceleration=None)


def big_world(**fields: object) -> World:
    return World.empty(10.0, 10.0, border=False, resolution_mm=50, **fields)


def test_clock_is_exact_over_many_steps() -> None:
    world = World.empty(1.0, 1.0)
    for _ in range(100):
        world.step(0.01)
    assert world.time == 1.0
    assert world.clock.ns == 1_000_000_000
    clock = SimClock()
    with pytest.raises(SimValueError):
        clock.advance(-1.0)


def test_straight_at_full_speed_for_one_second() -> None:
    world = big_world()
    robot = world.add_robot(EXACT, Pose(1.0, 5.0, 0.0))
    robot.set_motors(1.0, 1.0)
    world.run(1.0)
    assert robot.pose.x == pytest.approx(1.5, abs=1e-9)
    assert robot.pose.y == pytest.approx(5.0, abs=1e-12)
    assert robot.pose.heading == pytest.approx(0.0, abs=1e-9)
    assert robot.wheel_speeds == (0.5, 0.5)


def test_acceleration_limit_loses_the_ramp() -> None:
    world = big_world()
    robot = world.add_robot(BodySpec(max_wheel_speed=0.5, acceleration=2.0), Pose(1.0, 5.0, 0.0))
    robot.set_motors(1.0, 1.0)
    world.run(1.0)
    # 0.25 s to reach 0.5 m/s loses 0.5 * 0.25 / 2 = 0.0625 m
    assert robot.pose.x - 1.0 == pytest.approx(0.4375, abs=1e-9)
    robot.stop()
    world.run(0.1)
    assert robot.wheel_speeds == pytest.approx((0.3, 0.3))


def test_turn_in_place() -> None:
    world = big_world()
    robot = world.add_robot(EXACT, Pose(5.0, 5.0, 0.0))
    robot.set_motors(-0.6, 0.6)  # wheels at -/+0.3 m/s: 0.6 / 0.12 = 5 rad/s
    world.run(0.2)
    assert robot.pose.heading == pytest.approx(math.degrees(1.0), abs=1e-9)
    assert robot.pose.x == pytest.approx(5.0, abs=1e-12)
    assert robot.pose.y == pytest.approx(5.0, abs=1e-12)
    assert robot.sensors.yaw_rate_dps == pytest.approx(math.degrees(5.0))
    assert robot.sensors.heading_deg == pytest.approx(robot.pose.heading)


def test_arc_follows_the_circle() -> None:
    world = big_world()
    robot = world.add_robot(EXACT, Pose(5.0, 5.0, 0.0))
    robot.set_motors(0.5, 1.0)  # 0.25 and 0.5 m/s: radius 0.06 * 0.75 / 0.25 = 0.18 m
    world.run(1.0)
    omega = 0.25 / 0.12
    r = 0.375 / omega
    assert robot.pose.x == pytest.approx(5.0 + r * math.sin(omega), abs=1e-9)
    assert robot.pose.y == pytest.approx(5.0 + r * (1 - math.cos(omega)), abs=1e-9)
    assert robot.pose.heading == pytest.approx(math.degrees(omega), abs=1e-9)


def test_mismatch_makes_the_robot_curve() -> None:
    world = big_world()
    robot = world.add_robot(BodySpec(max_wheel_speed=0.5, mismatch=0.1), Pose(5.0, 5.0, 0.0))
    robot.set_motors(1.0, 1.0)
    world.run(1.0)
    # left 0.525 m/s, right 0.475 m/s: turns right at 0.05 / 0.12 rad/s
    assert robot.pose.heading == pytest.approx(-math.degrees(0.05 / 0.12), abs=1e-9)


def test_deadband_and_clamping() -> None:
    world = big_world()
    robot = world.add_robot(BodySpec(max_wheel_speed=0.5, deadband=0.1), Pose(5.0, 5.0, 0.0))
    robot.set_motors(0.05, 0.05)
    world.run(0.5)
    assert robot.pose.x == 5.0
    robot.set_motors(3.0, -7.0)
    assert robot.motors == (1.0, -1.0)
    with pytest.raises(SimValueError):
        robot.set_motors(float("nan"), 0.0)


def test_encoders_count_wheel_turns_both_ways() -> None:
    world = big_world()
    robot = world.add_robot(EXACT, Pose(5.0, 5.0, 0.0))
    robot.set_motors(1.0, 1.0)
    world.run(1.0)
    per_m = 360 / (2 * math.pi * 0.033)
    assert robot.encoder_distance == pytest.approx((0.5, 0.5), abs=1e-12)
    assert robot.sensors.encoder_ticks == (math.floor(0.5 * per_m), math.floor(0.5 * per_m))
    robot.set_motors(-1.0, -1.0)
    world.run(2.0)
    assert robot.sensors.encoder_ticks == (math.floor(-0.5 * per_m), math.floor(-0.5 * per_m))
    assert robot.pose.x == pytest.approx(4.5, abs=1e-9)


def test_wheel_slip_moves_less_than_the_encoders_say() -> None:
    world = big_world(floor={"slip": 0.2})
    robot = world.add_robot(EXACT, Pose(1.0, 5.0, 0.0))
    robot.set_motors(1.0, 1.0)
    world.run(1.0)
    assert robot.encoder_distance[0] == pytest.approx(0.5)
    assert robot.pose.x - 1.0 == pytest.approx(0.4)


def test_collision_stops_the_robot_and_is_recorded_once() -> None:
    world = World.empty(2.0, 2.0)  # border walls 2 cm thick: inner face at x = 1.98
    robot = world.add_robot(EXACT, Pose(1.0, 1.0, 0.0))
    robot.set_motors(1.0, 1.0)
    world.run(3.0)
    assert robot.pose.x <= 1.98 - 0.08
    assert robot.pose.x > 1.98 - 0.08 - 0.0026  # within one sub-step of the wall
    assert robot.wheel_speeds == (0.0, 0.0)
    assert robot.in_contact == "border"
    assert len(robot.collisions) == 1
    hit = robot.collisions[0]
    assert isinstance(hit, Collision) and hit.obstacle == "border"
    assert hit.time == pytest.approx((1.98 - 0.08 - 1.0) / 0.5, abs=0.006)
    # backing off frees it; driving in again is a second collision
    robot.set_motors(-1.0, -1.0)
    world.run(0.5)
    assert robot.in_contact is None
    assert robot.pose.x == pytest.approx(1.9 - 0.25, abs=0.003)
    robot.set_motors(1.0, 1.0)
    world.run(1.0)
    assert [c.obstacle for c in robot.collisions] == ["border", "border"]
    summary = world.summary()["robots"][0]
    assert [c["obstacle"] for c in summary["collisions"]] == ["border", "border"]
    assert summary["collisions"][0]["time"] == round(hit.time, 3)


def test_turning_in_place_against_a_wall_is_allowed() -> None:
    world = World.empty(2.0, 2.0)
    robot = world.add_robot(EXACT, Pose(1.0, 1.0, 0.0))
    robot.set_motors(1.0, 1.0)
    world.run(3.0)
    robot.set_motors(-0.5, 0.5)
    world.run(0.5)
    assert robot.pose.heading > 30


def test_named_obstacles_and_other_robots_collide() -> None:
    world = big_world(cylinders=[{"name": "bin", "at": (3.0, 5.0), "radius": 0.1}])
    robot = world.add_robot(EXACT, Pose(2.0, 5.0, 0.0))
    other = world.add_robot(EXACT, Pose(2.0, 7.0, 0.0))
    robot.set_motors(1.0, 1.0)
    world.run(3.0)
    assert robot.collisions[0].obstacle == "bin"
    assert robot.pose.x == pytest.approx(3.0 - 0.1 - 0.08, abs=0.003)
    other.set_motors(1.0, 1.0)
    robot.teleport(Pose(4.0, 7.0, 180.0))
    robot.set_motors(1.0, 1.0)
    world.run(2.0)
    assert robot.collisions[-1].obstacle == "robot 2"
    assert other.collisions[-1].obstacle == "robot 1"
    assert robot.pose.x - other.pose.x == pytest.approx(0.16, abs=0.006)


def test_battery_drains_with_motor_use() -> None:
    battery = BatterySpec(full_v=8.4, empty_v=6.4, capacity_wh=0.1, idle_w=2.0, motor_w=4.0)
    world = big_world()
    robot = world.add_robot(BodySpec(battery=battery), Pose(5.0, 5.0, 0.0))
    robot.set_motors(1.0, -1.0)
    world.run(10.0)
    used_wh = (2.0 + 2 * 4.0) * 10.0 / 3600
    assert robot.battery_charge == pytest.approx(1 - used_wh / 0.1)
    assert robot.battery_voltage == pytest.approx(6.4 + 2.0 * (1 - used_wh / 0.1))
    # a flat battery stops the robot
    robot.set_motors(1.0, 1.0)
    world.run(40.0)
    assert robot.battery_charge == 0.0 and robot.battery_voltage == 6.4
    assert robot.wheel_speeds == (0.0, 0.0)


def test_speed_can_follow_the_battery() -> None:
    battery = BatterySpec(charge=0.5)
    world = big_world()
    robot = world.add_robot(
        BodySpec(max_wheel_speed=0.5, speed_follows_battery=True, battery=battery),
        Pose(1.0, 5.0, 0.0),
    )
    robot.set_motors(1.0, 1.0)
    world.step(0.005)
    assert robot.wheel_speeds[0] == pytest.approx(0.5 * 7.4 / 8.4, rel=1e-4)


def test_zones_are_entered_and_left() -> None:
    world = big_world(zones=[{"name": "goal", "rect": (2.0, 4.0, 3.0, 6.0)}])
    robot = world.add_robot(EXACT, Pose(1.0, 5.0, 0.0))
    robot.set_motors(1.0, 1.0)
    world.run(5.0)
    events = robot.zone_events
    assert [(e.zone, e.entered) for e in events] == [("goal", True), ("goal", False)]
    assert events[0].time == pytest.approx(2.0, abs=0.006)
    assert events[1].time == pytest.approx(4.0, abs=0.006)
    assert robot.zones == frozenset()


def test_start_poses_by_name() -> None:
    world = big_world(
        start=[{"name": "a", "at": (1, 1), "heading": 90}, {"name": "b", "at": (2, 2)}]
    )
    assert world.add_robot().pose == Pose(1, 1, 90)
    assert world.add_robot(pose="b").pose == Pose(2, 2, 0)
    with pytest.raises(UnknownStartError, match="'a', 'b'"):
        world.start_pose("c")


def test_buttons_press_hold_and_count() -> None:
    world = big_world()
    robot = world.add_robot()
    world.press_button("a", hold=0.1)
    assert world.is_pressed("a") and robot.sensors.buttons.presses("a") == 1
    world.run(0.05)
    assert robot.sensors.buttons.is_pressed("a")
    world.run(0.05)
    assert not robot.sensors.buttons.is_pressed("a")
    world.press_button("a")
    world.run(1.0)
    assert world.is_pressed("a")
    world.release_button("a")
    assert not world.is_pressed("a") and robot.sensors.buttons.presses("a") == 2
    assert not robot.sensors.buttons.is_pressed("b")


def _noisy_run(seed: int) -> np.ndarray:
    world = World.empty(
        3.0,
        3.0,
        noise={
            "seed": seed,
            "motor": 0.05,
            "slip": 0.02,
            "ultrasonic": 0.01,
            "encoder": 0.01,
            "imu_heading": 1.0,
        },
        boxes=[{"at": (2.2, 1.5), "size": (0.3, 0.3)}],
    )
    robot = world.add_robot(BodySpec(acceleration=3.0), Pose(0.5, 1.5, 0.0))

    def controller(w: World) -> None:
        near = robot.sensors.distance(max_range=2.0) < 0.3
        robot.set_motors(-0.4, 0.4) if near else robot.set_motors(0.6, 0.6)
        _ = robot.sensors.heading_deg

    world.run(6.0, on_step=controller)
    return robot.trail


def test_seeded_noisy_run_repeats_exactly() -> None:
    first = _noisy_run(7)
    assert len(first) > 100
    assert np.array_equal(first, _noisy_run(7))
    assert not np.array_equal(first, _noisy_run(8))


def test_pacer_holds_the_sim_to_wall_clock() -> None:
    now = [100.0]
    clock = SimClock()
    pacer = Pacer(clock, speed=2.0, monotonic=lambda: now[0])
    clock.advance(1.0)
    assert pacer.wall_delay() == pytest.approx(0.5)  # at 2x, 1 sim second is 0.5 wall seconds
    now[0] += 2.0
    assert pacer.wait() == pytest.approx(1.5)  # due at 100.5, now 102: 1.5 s late
    clock.advance(10.0)
    pacer.close()
    assert pacer.closed
    assert pacer.wait() == 0.0  # closed: returns at once
    with pytest.raises(SimValueError):
        Pacer(clock, speed=0)


def test_box_footprint_collides_by_its_corners() -> None:
    box = BodySpec(max_wheel_speed=0.5, footprint=(0.2, 0.1), footprint_offset=0.02)
    world = World.empty(2.0, 2.0)  # inner faces of the border at 0.02 and 1.98
    robot = world.add_robot(box, Pose(1.0, 1.0, 0.0))
    robot.set_motors(1.0, 1.0)
    world.run(3.0)
    assert robot.pose.x + 0.02 + 0.1 == pytest.approx(1.98, abs=0.003)  # the front touches
    # along the wall, 1 cm clear of it: a circle of radius 0.08 could not pass here
    robot.teleport(Pose(1.98 - 0.06, 0.5, 90.0))
    robot.set_motors(1.0, 1.0)
    world.run(1.0)
    assert robot.pose.y == pytest.approx(1.0, abs=1e-9)
    assert len(robot.collisions) == 1
    # turning in place there swings a corner into the wall
    robot.set_motors(-0.3, 0.3)
    world.run(1.0)
    assert robot.collisions[-1].obstacle == "border"
    assert 90.0 < robot.pose.heading < 100.0
    corners = robot.outline()
    assert corners[:, 0].max() <= 1.98


def test_a_paced_run_stops_when_the_pacer_closes() -> None:
    world = big_world()
    now = [0.0]
    pacer = Pacer(world.clock, monotonic=lambda: now[0])
    now[0] = 5.0  # the wall clock is ahead: no waiting
    world.run(1.0, dt=0.01, pacer=pacer)
    assert world.time == pytest.approx(1.0)
    pacer.close()
    world.run(1.0, dt=0.01, pacer=pacer)  # returns after one step
    assert world.time == pytest.approx(1.01)
