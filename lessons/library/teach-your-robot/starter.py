import time
from pathlib import Path

from hardware import Robot
from lessons import report
from vision import Classifier
from vision.teach import Dataset, capture, train

HERE = Path(".")  # the pictures are saved beside this program / 图片保存在程序旁边
# Where each teaching sign is, seen from the start (degrees, counter-clockwise from east).
# The right sign is at 270 degrees: add it.
# 从起点看，每块教学标志在哪个方向（度，从正东逆时针数）。右转标志在 270 度：把它加上。
TEACH = {"stop": 90, "left": 180}
ZH = {"stop": "停车", "left": "左转", "right": "右转"}
PICTURES = 16  # pictures of each sign / 每个标志拍几张
SPEED = 0.4  # metres per second / 米每秒


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


def teach(robot, data, label):
    """Face the sign and take pictures of it. / 面向标志，给它拍照。"""
    turn_to(robot, TEACH[label])
    # All these pictures look the same. Turn slowly across the sign while taking them
    # (robot.drive.set_speed(0, degrees_per_second)), so the model sees it in different places.
    # 这些照片都一模一样。拍照时让机器人慢慢转过标志（robot.drive.set_speed(0, 每秒度数)），
    # 让模型看到标志出现在画面的不同位置。
    capture(data, robot.camera, label, count=PICTURES, every=0.05, zh=ZH[label])


def drive(robot, goal, seconds):
    """Drive straight along `goal` for `seconds`. / 沿 goal 方向直行 seconds 秒。"""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        robot.drive.set_speed(SPEED, 3 * off_course(goal, robot.imu.heading))
        time.sleep(0.05)
    robot.drive.stop()


with Robot() as robot:
    robot.imu.reset_heading()
    # 1. Collect examples / 收集例子
    data = Dataset("my-signs", root=HERE)
    data.delete()  # start afresh every run / 每次运行都从头开始
    for label in TEACH:
        teach(robot, data, label)
    print("pictures / 图片:", data.counts())

    # 2. Train and look at the report / 训练，看报告
    model = train(data)
    print(model.report)
    report("accuracy", round(model.report.accuracy, 2))
    model.export("my-signs", zh="我的标志")  # kept on this robot / 保存在这台机器人上
    sign = Classifier("my-signs")

    # 3. Drive to the test spot and read the sign ahead / 开到测试点，读前面的标志
    turn_to(robot, 0)
    drive(robot, 0, 2.0 / SPEED)
    label, score = sign(robot.camera.read())
    print("ahead I see / 前面看到:", label, round(score, 2))
    report("sign", label)
    # Now turn to the signs at 90 and 270 degrees and read them too; then turn to the one that
    # says stop and drive up to it (stop when robot.distance.metres is about 0.2 m).
    # 再转向 90 度和 270 度的标志，也读一读；然后转向写着停车的那块，开到它跟前
    # （robot.distance.metres 约为 0.2 米时停下）。
    robot.drive.stop()
