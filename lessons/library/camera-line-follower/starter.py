import time

from hardware import Robot
from vision import find_line

POWER = 0.4  # forward power, 0..1 / 前进的功率（0 到 1）
KP = 0.0  # how hard to steer back to the line: try 0.5 / 回到线上的转向力度：试试 0.5
KA = 0.0  # steering per degree of line angle: measure which sign helps / 每度线角度的转向量：测一测用正的还是负的
RUN_TIME = 25  # seconds / 秒
PERIOD = 0.1  # seconds between two pictures / 两张照片之间的秒数

with Robot() as robot:
    start = time.monotonic()
    while time.monotonic() - start < RUN_TIME:
        line = find_line(robot.camera.read())
        print(line.found, round(line.position, 2), round(line.angle, 1))
        # Steer: turn = -(KP * position + KA * angle), kept between -1 and 1
        # 转向：turn = -(KP * position + KA * angle)，限制在 -1 到 1 之间
        turn = 0.0
        robot.drive.arc(POWER, turn)
        time.sleep(PERIOD)
    robot.drive.stop()
