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
    """The biggest red or blue patch, cut out and read by the model: (label, score) or None.
    最大的红色或蓝色色块，剪下来交给模型去读：返回 (标签, 把握) 或 None。"""
    blobs = find_blobs(picture, "red", min_area=MIN_AREA) + find_blobs(
        picture, "blue", min_area=MIN_AREA
    )
    if not blobs:
        return None
    box = max(blobs, key=lambda b: b.area).box
    side = max(box.w, box.h) * 1.3  # a little margin round the sign / 标志周围留一点边
    cx, cy = box.x + box.w / 2, box.y + box.h / 2
    top, left = max(0, int(cy - side / 2)), max(0, int(cx - side / 2))
    crop = picture[top : int(cy + side / 2), left : int(cx + side / 2)]
    label, score = model(crop)
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
        seen = read_sign(model, robot.camera.read())
        if seen is not None and seen[1] >= SURE and seen[0] != "none":
            sign = seen[0]
        time.sleep(PERIOD)
    robot.drive.stop()
    return sign


def turn_to(robot, goal):
    """Spin on the spot until the robot faces `goal`. / 原地转，直到朝向 goal。"""
    while True:
        error = off_course(goal, robot.imu.heading)
        if abs(error) < 2:
            break
        # degrees per second, slower near the goal / 每秒转的度数，接近目标时转得慢
        rate = max(-120, min(120, 3 * error))
        robot.drive.set_speed(0, rate)
        time.sleep(0.05)
    robot.drive.stop()


with Robot() as robot:
    model = Classifier("traffic-signs")
    robot.imu.reset_heading()
    goal = 0  # the way along the street, degrees / 沿街方向（度）
    for street in range(6):  # never more than 6 streets / 最多 6 条街
        sign = drive_to_wall(robot, model, goal)
        print(f"street {street + 1}: the sign says {sign} / 标志是 {sign}")
        report("sign", sign)
        if sign == "left":
            goal = (goal + 90) % 360
        elif sign == "right":
            goal = (goal - 90) % 360
        else:  # stop, or a sign we cannot read: stop here / 停车，或者读不懂的标志：就停在这里
            break
        turn_to(robot, goal)
    robot.drive.stop()
    time.sleep(2)  # stay stopped in front of the stop sign / 在停车标志前停稳
