import time

from hardware import Robot
from lessons import report
from vision import ArucoReader

ORDER = [1, 4, 6]  # visit these markers, in this order / 按这个顺序去找这些标记
CENTRE_X = 160  # the middle column of the 320-pixel-wide picture / 320 像素宽画面的中间一列
KP = 0.004  # steering per pixel the marker is off the middle / 标记偏离中间每个像素的转向量
POWER = 0.6  # power driving towards a marker / 朝标记开的功率
SPIN = 0.35  # power turning on the spot while searching / 原地转圈找标记的功率
BIG = 60  # pixels: a marker this wide is close / 像素：标记有这么宽就说明很近了
STOP_AT = 0.12  # metres to the wall: stop here / 离墙这么多米就停下
PERIOD = 0.1  # seconds between two pictures / 两张照片之间的秒数
BACK_OFF = 1.2  # seconds backing away from a wall, to see the next marker / 离墙后退的秒数，好看到下一个标记


def width(marker):
    """How wide the marker looks, in pixels. / 标记看起来有多宽（像素）。"""
    xs = [x for x, y in marker.corners]
    return max(xs) - min(xs)


def find(reader, picture, wanted):
    """The marker with id `wanted` in the picture, or None. / 画面里编号为 wanted 的标记，没有就是 None。"""
    for marker in reader(picture):
        if marker.id == wanted:
            return marker
    return None


def go_to(robot, reader, wanted):
    """Search, turn towards the marker and drive to it. / 找到标记，转向它，开过去。"""
    state = "SEARCH"
    while True:
        marker = find(reader, robot.camera.read(), wanted)
        if state == "SEARCH":
            if marker is None:
                robot.drive.left(SPIN)
            else:
                state = "APPROACH"
        if state == "APPROACH":
            if marker is not None:
                error = (
                    marker.centre[0] - CENTRE_X
                )  # + when the marker is to the right / 在右边为正
                robot.drive.arc(POWER, max(-1.0, min(1.0, -KP * error)))
                if width(marker) > BIG:
                    state = "CLOSE"
            else:
                state = "SEARCH"  # lost it while still far: look again / 还远就丢了：重新找
        if state == "CLOSE":
            # too close for the camera to see all of it: go straight on, watch the wall
            # 太近了，摄像头看不全标记：直着开，看着墙
            robot.drive.forward(POWER / 2)
            if robot.distance.metres < STOP_AT:
                robot.drive.stop()
                return
        time.sleep(PERIOD)


with Robot() as robot:
    reader = ArucoReader("DICT_4X4_50")
    start = time.monotonic()
    for wanted in ORDER:
        go_to(robot, reader, wanted)
        print(f"reached marker {wanted} / 到达标记 {wanted}", round(time.monotonic() - start, 1))
        report("reached", wanted)
        # back off into the room: from there the next marker is in sight
        # 退回场地中间：从那里能看到下一个标记
        robot.drive.backward(0.8)
        time.sleep(BACK_OFF)
    robot.drive.stop()
