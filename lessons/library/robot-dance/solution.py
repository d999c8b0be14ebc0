import time

from hardware import Robot

SPEED = 0.5  # driving speed / 前进后退的速度
SPIN = 0.3  # spinning speed / 转圈的速度

with Robot() as robot:
    for _ in range(2):  # the dance twice / 这支舞跳两遍
        robot.drive.forward(SPEED)  # forward / 向前
        time.sleep(1)
        robot.drive.backward(SPEED)  # back the same time / 退回同样的时间
        time.sleep(1)
        robot.drive.left(SPIN)  # spin left / 向左转
        time.sleep(1)
        robot.drive.right(SPIN)  # spin right the same time / 向右转同样的时间
        time.sleep(1)
    robot.drive.stop()  # bow! / 鞠躬！
