import time

from hardware import Robot

POWER = 0.5  # forward power, 0..1 / 前进的功率（0 到 1）
TOO_CLOSE = 0.3  # metres: start turning / 米：开始转弯
RUN_TIME = 40  # seconds / 秒

with Robot() as robot:
    start = time.monotonic()
    while time.monotonic() - start < RUN_TIME:
        d = robot.distance.metres
        print(round(d, 2))
        # If d < TOO_CLOSE, turn until the way is clear; otherwise drive forward.
        # 如果 d < TOO_CLOSE，就转弯直到前面没有东西；否则向前开。
        robot.drive.forward(POWER)
        time.sleep(0.05)
    robot.drive.stop()
