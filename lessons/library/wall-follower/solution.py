import time

from hardware import DistanceSensor, Robot

POWER = 0.8
# metres we want between the side sensor and the wall
# 我们希望侧面传感器和墙之间保持的距离（米）
TARGET = 0.25
# P: steer by how far we are from TARGET
# P：按离 TARGET 差多少来转向
KP = 4.0
# D: steer against how fast the gap is changing
# D：按距离变化得有多快来反向修正
KD = 0.8
# stop when the wall ahead is this close (metres)
# 前面的墙这么近（米）时停车
STOP_AT = 0.3

with Robot() as robot:
    # the second sensor, on the left side / 第二个传感器，在左侧
    side = robot.part("side", DistanceSensor)
    last_error = side.metres - TARGET
    last_time = time.monotonic()
    while robot.distance.metres > STOP_AT:
        gap = side.metres
        now = time.monotonic()
        # positive: too far from the wall, negative: too close
        # 正数：离墙太远；负数：离墙太近
        error = gap - TARGET
        rate = (error - last_error) / max(now - last_time, 0.001)
        # too far: turn left, towards the wall; too close: turn right
        # 太远：向左转，靠近墙；太近：向右转
        turn = KP * error + KD * rate
        turn = max(-0.6, min(0.6, turn))
        robot.drive.arc(POWER, turn)
        last_error, last_time = error, now
        time.sleep(0.02)
    robot.drive.stop()
