import time

from hardware import Robot
from lessons import report

K = 1.5  # how hard to steer / 转向力度
POWER = 0.6  # power / 功率

with Robot() as robot:
    start = time.monotonic()
    while time.monotonic() - start < 30:
        where = robot.line.position
        if where is None:
            robot.drive.forward(0.3)
        else:
            turn = max(-1.0, min(1.0, -K * where))
            robot.drive.arc(POWER, turn)
        time.sleep(0.01)
    robot.drive.stop()
    report("done", True)
