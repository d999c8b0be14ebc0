import time

from hardware import Robot

with Robot() as robot:
    for _ in range(4):  # four sides, four corners / 四条边，四个角
        robot.drive.set_speed(0.1)  # 10 cm each second / 每秒 10 厘米
        time.sleep(30 / 10)
        robot.drive.stop()
        robot.drive.set_speed(0, 45)  # 45 degrees each second / 每秒 45 度
        time.sleep(90 / 45)
        robot.drive.stop()
