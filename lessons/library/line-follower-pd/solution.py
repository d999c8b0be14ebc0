import time

from hardware import Robot
from lessons import report

POWER = 1.0
# P: steer by how far the line is from the middle
# P：按线离中间有多远来转向
KP = 1.2
# D: steer against how fast the line is moving sideways
# D：按线横着移动得有多快来反向修正
KD = 0.05
# seconds between readings (20 readings a second)
# 两次读数之间的秒数（每秒读 20 次）
DT = 0.05
RUN_TIME = 18

with Robot() as robot:
    start = time.monotonic()
    last_error = 0.0
    last_time = time.monotonic()
    while time.monotonic() - start < RUN_TIME:
        # -1: the line is on the left, 0: in the middle, 1: on the right
        # -1：线在左边，0：在中间，1：在右边
        error = robot.line.position
        now = time.monotonic()
        if error is None:
            # lost the line: it went off on the side where we saw it last
            # 丢线了：线是从刚才看到它的那一边跑掉的
            error = 1.0 if last_error > 0 else -1.0
        # how fast the error changes, per second
        # 误差每秒变化多少
        rate = (error - last_error) / max(now - last_time, 0.001)
        turn = -(KP * error + KD * rate)
        turn = max(-1.0, min(1.0, turn))
        robot.drive.arc(POWER, turn)
        last_error, last_time = error, now
        time.sleep(DT)
    robot.drive.stop()
    report("done", True)
