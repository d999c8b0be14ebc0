import time

from hardware import Robot

with Robot() as robot:
    # Step 1: forward for 1 second / 第一步：向前走 1 秒
    robot.drive.forward(0.5)
    time.sleep(1)

    # Step 2: now go back! robot.drive.backward(0.5)
    # 第二步：现在退回来！robot.drive.backward(0.5)

    # Step 3: spin left and spin right: robot.drive.left(0.3), robot.drive.right(0.3)
    # 第三步：向左转、向右转：robot.drive.left(0.3)、robot.drive.right(0.3)

    robot.drive.stop()
