import time
from collections import Counter
from pathlib import Path

from hardware import Robot
from lessons import report
from vision import Classifier
from vision.teach import Dataset, capture, train

HERE = Path(".")  # the pictures are saved beside this program / 图片保存在程序旁边
# Where each teaching sign is, seen from the start (degrees, counter-clockwise from east).
# 从起点看，每块教学标志在哪个方向（度，从正东逆时针数）。
TEACH = {"stop": 90, "left": 180, "right": 270}
ZH = {"stop": "停车", "left": "左转", "right": "右转"}
LOOK = [90, 0, 270]  # the test signs, seen from the test spot / 从测试点看测试标志的方向
PICTURES = 16  # pictures of each sign / 每个标志拍几张
SWING = 24  # degrees the robot turns while it takes them / 拍照时机器人转过的角度
SPEED = 0.4  # metres per second / 米每秒
NEAR = 0.2  # metres: stop this far from the stop sign / 离停车标志这么多米就停下


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
    """Face the sign, then take pictures while turning slowly across it.
    面向标志，然后一边慢慢转过它一边拍照。"""
    turn_to(robot, TEACH[label] - SWING / 2)
    every = 0.05
    robot.drive.set_speed(0, SWING / (PICTURES * every))  # degrees per second / 度每秒
    capture(data, robot.camera, label, count=PICTURES, every=every, zh=ZH[label])
    robot.drive.stop()


def drive(robot, goal, seconds):
    """Drive straight along `goal` for `seconds`. / 沿 goal 方向直行 seconds 秒。"""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
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
    model.save_confusion(HERE / "mix-ups.png")
    model.export("my-signs", zh="我的标志")  # kept on this robot / 保存在这台机器人上
    sign = Classifier("my-signs")

    # 3. Drive to the test spot and read the signs there / 开到测试点，读那里的标志
    turn_to(robot, 0)
    drive(robot, 0, 2.0 / SPEED)
    seen = {}
    for goal in LOOK:
        turn_to(robot, goal)
        seen[goal] = read_sign(robot, sign)
        print(f"at {goal} degrees I see / 在 {goal} 度看到: {seen[goal]}")
        report("sign", seen[goal])

    # 4. Act on it: drive up to the stop sign / 照着做：开到停车标志前
    stop_at = next((goal for goal, label in seen.items() if label == "stop"), None)
    if stop_at is not None:
        turn_to(robot, stop_at)
        while robot.distance.metres > NEAR:
            robot.drive.set_speed(SPEED / 2, 3 * off_course(stop_at, robot.imu.heading))
            time.sleep(0.05)
    robot.drive.stop()
    time.sleep(1)
