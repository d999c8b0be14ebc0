import time

from hardware import Robot

POWER = 0.5  # driving power / 前进后退的功率
SPIN = 0.3  # spinning power / 转圈的功率

with Robot() as robot:
    for _ in range(2):  # the dance twice / 这支舞跳两遍
        robot.drive.forward(POWER)  # forward / 向前
        time.sleep(1)
        robot.drive.backward(POWER)  # back the same time / 退回同样的时间
        time.sleep(1)
        robot.drive.left(SPIN)  # spin left / 向左转
        time.sleep(1)
        robot.drive.right(SPIN)  # spin right the same time / 向右转同样的时间
        time.sleep(1)
    robot.drive.stop()  # bow! / 鞠躬！
