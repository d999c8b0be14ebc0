import time

from hardware import Robot
from lessons import report
from vision import ArucoReader

ORDER = [1, 4, 6]  # visit these markers, in this order / 按这个顺序去找这些标记
CENTRE_X = 160  # the middle column of the 320-pixel-wide picture / 320 像素宽画面的中间一列
KP = 0.004  # steering per pixel the marker is off the middle / 标记偏离中间每个像素的转向量
POWER = 0.4  # power driving towards a marker / 朝标记开的功率
SPIN = 0.35  # power turning on the spot while searching / 原地转圈找标记的功率
STOP_AT = 0.12  # metres to the wall: stop here / 离墙这么多米就停下
PERIOD = 0.1  # seconds between two pictures / 两张照片之间的秒数
LOOK_TIME = 10  # seconds / 秒


def go_to(robot, reader, wanted):
    """Search, turn towards the marker and drive to it. / 找到标记，转向它，开过去。"""
    start = time.monotonic()
    while time.monotonic() - start < LOOK_TIME:
        markers = reader(robot.camera.read())
        print([(m.id, round(m.centre[0])) for m in markers])  # what do we see? / 看到了什么？
        # SEARCH: spin until marker `wanted` is in the picture.
        # APPROACH: steer with -KP * (x - CENTRE_X) and drive on.
        # CLOSE: when the marker is big, go straight until robot.distance.metres < STOP_AT.
        # SEARCH：原地转，直到画面里出现标记 wanted。
        # APPROACH：用 -KP * (x - CENTRE_X) 转向，继续往前开。
        # CLOSE：标记很大时，直着开，直到 robot.distance.metres < STOP_AT。
        robot.drive.left(SPIN)
        time.sleep(PERIOD)
    robot.drive.stop()


with Robot() as robot:
    reader = ArucoReader("DICT_4X4_50")
    for wanted in ORDER[:1]:  # start with the first marker / 先从第一个标记开始
        go_to(robot, reader, wanted)
        report("reached", wanted)
    robot.drive.stop()
