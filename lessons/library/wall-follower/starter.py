import time

from hardware import DistanceSensor, Robot

POWER = 0.8
# metres we want between the side sensor and the wall
# 我们希望侧面传感器和墙之间保持的距离（米）
TARGET = 0.25
# stop when the wall ahead is this close (metres)
# 前面的墙这么近（米）时停车
STOP_AT = 0.3

with Robot() as robot:
    # the second sensor, on the left side / 第二个传感器，在左侧
    side = robot.part("side", DistanceSensor)
    while robot.distance.metres > STOP_AT:
        gap = side.metres
        print(round(gap, 3))
        # Steer: too far from the wall, turn left; too close, turn right.
        # robot.drive.arc(POWER, turn) with turn = KP * (gap - TARGET)
        # 转向：离墙太远就向左转，太近就向右转。
        # robot.drive.arc(POWER, turn)，其中 turn = KP * (gap - TARGET)
        robot.drive.forward(POWER)
        time.sleep(0.02)
    robot.drive.stop()
