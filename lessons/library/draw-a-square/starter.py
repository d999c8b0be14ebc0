import time

from hardware import Robot

with Robot() as robot:
    # one side: 30 cm forward / 一条边：向前 30 厘米
    robot.drive.set_speed(0.1)  # 10 cm each second / 每秒 10 厘米
    time.sleep(30 / 10)
    robot.drive.stop()
    # a corner: turn left 90 degrees / 一个角：向左转 90 度
    robot.drive.set_speed(0, 45)  # 45 degrees each second / 每秒 45 度
    time.sleep(90 / 45)
    robot.drive.stop()
    # now do it four times! / 现在重复四次！
