import time

from hardware import Robot

SPEED = 0.8
# metres we want between the side sensor and the wall
# 我们希望侧面传感器和墙之间保持的距离（米）
TARGET = 0.25
# stop when the wall ahead is this close (metres)
# 前面的墙这么近（米）时停车
STOP_AT = 0.3

with Robot() as robot:
    while robot.distance.distance > STOP_AT:
        gap = robot.side.distance
        print(round(gap, 3))
        # Steer: too far from the wall, turn left; too close, turn right.
        # robot.drive.arc(SPEED, turn) with turn = KP * (gap - TARGET)
        # 转向：离墙太远就向左转，太近就向右转。
        # robot.drive.arc(SPEED, turn)，其中 turn = KP * (gap - TARGET)
        robot.drive.forward(SPEED)
        time.sleep(0.02)
    robot.drive.stop()
