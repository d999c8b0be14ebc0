import time

from hardware import Robot

with Robot() as robot:
    start = time.monotonic()
    while time.monotonic() - start < 60:
        where = robot.line.position
        print(robot.line.values, where)
        # Steer towards the line: robot.drive.arc(power, turn)
        # 朝着线转弯：robot.drive.arc(功率, 转向)
        robot.drive.forward(0.3)
        time.sleep(0.05)
