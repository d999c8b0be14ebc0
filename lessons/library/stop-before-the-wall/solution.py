import time

from hardware import Robot

with Robot() as robot:
    robot.drive.forward(0.4)
    while not robot.distance.cm < 15:  # until the wall is close / 直到墙很近
        time.sleep(0.02)
    robot.drive.stop()
