import time
from collections import Counter

from hardware import Robot
from lessons import report
from vision import Classifier

MY_MODEL = (
    "my-signs"  # the model you taught in "Teach your robot" / 你在“教机器人认东西”里教出的模型
)
SPEED = 0.4  # metres per second along a street / 沿街行驶的速度（米/秒）
NEAR = 0.4  # metres to the wall: stop here and read the sign / 离墙这么多米就停下读标志
CLOSE = 0.2  # metres: how close to drive up to the stop sign / 开到离停车标志这么近


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


def read_sign(robot, sign):
    """Look three times and take the answer seen most often. / 看三次，取出现最多的答案。"""
    answers = []
    for _ in range(3):
        label, score = sign(robot.camera.read())
        print(f"  {label} {score:.2f}")  # how sure is it? / 它有多大把握？
        answers.append(label)
        time.sleep(0.05)
    return Counter(answers).most_common(1)[0][0]


with Robot() as robot:
    sign = Classifier(MY_MODEL)
    robot.imu.reset_heading()
    goal = 0  # the way along the street, degrees / 沿街方向（度）
    for street in range(5):  # never more than 5 streets / 最多 5 条街
        drive_to_wall(robot, goal, NEAR)
        seen = read_sign(robot, sign)
        print(f"street {street + 1}: my model says {seen} / 我的模型说：{seen}")
        report("sign", seen)
        if seen == "left":
            goal = (goal + 90) % 360
        elif seen == "right":
            goal = (goal - 90) % 360
        else:  # stop: drive up to the sign and stay there / 停车：开到标志跟前停住
            drive_to_wall(robot, goal, CLOSE)
            break
        turn_to(robot, goal)
    robot.drive.stop()
    time.sleep(1)
