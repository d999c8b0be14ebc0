import time

from hardware import Robot
from lessons import report

POWER = 0.4  # slow, so the camera sees every mat / 开慢一点，摄像头才能看清每块垫子
DRIVE_TIME = 15  # seconds to cross the road / 开过整条路要多少秒
ROW, COLUMN = 200, 160  # the dot just in front of the robot / 机器人正前方地面上的一个点
BIG = 150  # more than this is "a lot" / 比这个数大就是“很多”
SMALL = 100  # less than this is "a little" / 比这个数小就是“很少”


def colour_name(blue, green, red):
    """Our rules: three numbers in, a colour name out. / 我们的规则：输入三个数字，输出颜色名字。"""
    if red > BIG and green > BIG and blue < SMALL:
        return "yellow"  # red + green = yellow / 红 + 绿 = 黄
    if red > BIG and green < SMALL and blue < SMALL:
        return "red"
    if blue > BIG and red < SMALL:
        return "blue"
    if green > SMALL and red < SMALL and blue < SMALL:
        return "green"
    return "floor"  # none of the rules fit: the white floor / 都不符合：白色地面


with Robot() as robot:
    last = "floor"
    robot.drive.forward(POWER)
    start = time.monotonic()
    while time.monotonic() - start < DRIVE_TIME:
        picture = robot.camera.read()
        blue, green, red = picture[ROW, COLUMN]
        name = colour_name(blue, green, red)
        if name != last and name != "floor":  # a new mat! / 新的垫子！
            print("I see", name, "/ 我看到了", name)
            report("colour", name)
        last = name
        time.sleep(0.05)
    robot.drive.stop()
