import time

from hardware import Robot
from lessons import report
from vision import find_line

POWER = 0.8  # forward power, 0..1 / 前进的功率（0 到 1）
KP = 0.9  # how hard to steer back to the line / 回到线上的转向力度
# We measured it: in the picture the line also leans when the robot is beside it (perspective),
# so a small NEGATIVE angle term keeps the robot closest to the line on this track.
# 我们测过了：机器人在线旁边时，画面里的线也会倾斜（透视），
# 所以在这条跑道上，一个小小的“负”角度项能让机器人离线最近。
KA = -0.005  # steering per degree of line angle / 每度线角度的转向量
RUN_TIME = 20  # seconds / 秒
PERIOD = 0.1  # seconds between two pictures / 两张照片之间的秒数


def clamp(value, low=-1.0, high=1.0):
    """Keep value between low and high. / 把数值限制在 low 和 high 之间。"""
    return max(low, min(high, value))


with Robot() as robot:
    start = time.monotonic()
    last_turn = 0.0
    frames = 0
    while time.monotonic() - start < RUN_TIME:
        line = find_line(robot.camera.read())
        frames += 1
        if line.found:
            # the position term brings us back onto the line / 位置项把车拉回线上
            last_turn = clamp(-(KP * line.position + KA * line.angle))
            robot.drive.arc(POWER, last_turn)
        else:
            # lost it: turn the way we last turned, slowly / 丢线了：慢慢朝上次的方向转
            robot.drive.arc(0.2, 1.0 if last_turn >= 0 else -1.0)
        time.sleep(PERIOD)
    robot.drive.stop()
    report("frames", frames)
