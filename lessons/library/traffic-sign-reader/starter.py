import time

from hardware import Robot
from lessons import report
from vision import Classifier, find_blobs

SPEED = 0.4  # metres per second along a street / 沿街行驶的速度（米/秒）
NEAR = 0.2  # metres to the wall: stop here and obey the sign / 离墙这么多米就停下，照标志做
KEEP = 3.0  # steering (degrees per second) per degree off course / 每偏离一度的修正（度/秒）
SURE = 0.8  # only believe the model when it is this sure / 模型至少这么有把握才相信它
MIN_AREA = 150  # pixels: smaller patches are too far away to read / 像素：更小的色块太远，读不清
PERIOD = 0.1  # seconds between two pictures / 两张照片之间的秒数


def read_sign(model, picture):
    """The whole picture read by the model: (label, score). / 把整张画面交给模型去读：返回 (标签, 把握)。"""
    patches = find_blobs(picture, "red") + find_blobs(picture, "blue")
    print(len(patches), "red or blue patches / 红色或蓝色色块")  # the signs? / 是标志吗？
    # The model was trained on pictures of one sign, close up: cut out the biggest patch
    # (patch.box has x, y, w, h) and give the model only that part.
    # 模型是用只有一个标志的近景图片训练的：把最大的色块剪下来（patch.box 有 x、y、w、h），
    # 只把那一块交给模型。
    label, score = model(picture)
    return label, score


def off_course(goal, heading):
    """Degrees from heading to goal, -180..180 (+ means turn left). / 从当前朝向到目标的角度。"""
    return (goal - heading + 180) % 360 - 180


def drive_to_wall(robot, model, goal):
    """Drive straight along `goal` until the wall is NEAR; return the last sign read on the way.
    沿 goal 方向直行到离墙 NEAR 米，返回路上最后读到的标志。"""
    sign = None
    while robot.distance.metres > NEAR:
        error = off_course(goal, robot.imu.heading)
        robot.drive.set_speed(SPEED, KEEP * error)
        label, score = read_sign(model, robot.camera.read())
        print(label, round(score, 2))
        if score >= SURE and label != "none":
            sign = label
        time.sleep(PERIOD)
    robot.drive.stop()
    return sign


with Robot() as robot:
    model = Classifier("traffic-signs")
    robot.imu.reset_heading()
    goal = 0  # the way along the street, degrees / 沿街方向（度）
    sign = drive_to_wall(robot, model, goal)
    print("the sign says", sign, "/ 标志是", sign)
    report("sign", sign)
    # Obey it: "left" turns the goal by +90 degrees, "right" by -90, "stop" ends the trip.
    # Then spin until robot.imu.heading is the new goal, and drive to the next wall.
    # 照标志做：“left”让目标方向加 90 度，“right”减 90 度，“stop”结束行程。
    # 然后原地转到 robot.imu.heading 等于新的目标方向，再开到下一面墙。
    robot.drive.stop()
