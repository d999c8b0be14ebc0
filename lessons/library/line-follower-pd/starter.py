import time

from hardware import Robot

POWER = 1.0
# P: steer by how far the line is from the middle
# P：按线离中间有多远来转向
KP = 1.8
# D: steer against how fast the line is moving sideways
# D：按线横着移动得有多快来反向修正
KD = 0.0
# seconds between readings (20 readings a second)
# 两次读数之间的秒数（每秒读 20 次）
DT = 0.05
RUN_TIME = 18

with Robot() as robot:
    start = time.monotonic()
    last_error = 0.0
    while time.monotonic() - start < RUN_TIME:
        # -1: the line is on the left, 0: in the middle, 1: on the right
        # -1：线在左边，0：在中间，1：在右边
        error = robot.line.position
        if error is None:
            # lost the line: it went off on the side where we saw it last
            # 丢线了：线是从刚才看到它的那一边跑掉的
            error = 1.0 if last_error > 0 else -1.0
        # Only P so far. Work out `rate` (how fast the error changes per second)
        # and add the D part: turn = -(KP * error + KD * rate)
        # 现在只有 P。算出 `rate`（误差每秒变化多少），
        # 再加上 D 的部分：turn = -(KP * error + KD * rate)
        turn = -KP * error
        turn = max(-1.0, min(1.0, turn))
        robot.drive.arc(POWER, turn)
        print(round(error, 2), round(turn, 2))
        last_error = error
        time.sleep(DT)
    robot.drive.stop()
