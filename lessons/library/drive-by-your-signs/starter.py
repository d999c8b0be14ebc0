import time

from hardware import Robot
from lessons import report
from vision import Classifier

MY_MODEL = (
    "my-signs"  # the model you taught in "Teach your robot" / 你在“教机器人认东西”里教出的模型
)
SPEED = 0.4  # metres per second along a street / 沿街行驶的速度（米/秒）
NEAR = 0.4  # metres to the wall: stop here and read the sign / 离墙这么多米就停下读标志


def off_course(goal, heading):
    """Degrees from heading to goal, -180..180 (+ means turn left). / 从当前朝向到目标的角度。"""
    return (goal - heading + 180) % 360 - 180


def turn_to(robot, goal):
    """Spin on the spot until the robot faces `goal`. / 原地转，直到朝向 goal。"""
    while True:
        error = off_course(goal, robot.imu.heading)
        if abs(error) < 1.5:
            break
        # degrees per second, slower near the goal / 每秒转的度数，接近目标时转得慢
        rate = max(-120, min(120, 4 * error))
        robot.drive.set_speed(0, rate)
        time.sleep(0.03)
    robot.drive.stop()


def drive_to_wall(robot, goal, near):
    """Drive straight along `goal` until the wall ahead is `near` metres away.
    沿 goal 方向直行，直到前面的墙只有 near 米远。"""
    while robot.distance.metres > near:
        robot.drive.set_speed(SPEED, 3 * off_course(goal, robot.imu.heading))
        time.sleep(0.05)
    robot.drive.stop()


with Robot() as robot:
    sign = Classifier(MY_MODEL)
    robot.imu.reset_heading()
    goal = 0  # the way along the street, degrees / 沿街方向（度）
    drive_to_wall(robot, goal, NEAR)
    label, score = sign(robot.camera.read())
    print(f"my model says {label} ({score:.2f}) / 我的模型说：{label}")
    report("sign", label)
    # Now obey it: for left, turn_to(robot, goal + 90) and drive to the next wall; for right,
    # goal - 90; for stop, drive up to the sign. Then read the next sign, and the next...
    # 现在照着做：是 left 就 turn_to(robot, goal + 90)，再开到下一面墙；是 right 就 goal - 90；
    # 是 stop 就开到标志跟前。然后读下一块标志，再下一块……
    robot.drive.stop()
