import time

from hardware import Robot

with Robot() as robot:
    print(robot.distance.cm, "cm to the wall / 离墙的厘米数")
    robot.drive.forward(0.4)
    time.sleep(2)  # is 2 seconds right? Use the distance instead! / 2 秒对吗？用距离来判断！
    robot.drive.stop()
