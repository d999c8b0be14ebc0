import time

from hardware import Robot

POWER = 0.5  # forward power, 0..1 / 前进的功率（0 到 1）
TURN_POWER = 0.4  # spinning power / 原地转弯的功率
TOO_CLOSE = 0.3  # metres: start turning / 米：开始转弯
CLEAR = 0.6  # metres: the way is clear again / 米：前面空了
EXTRA_TURN = 0.25  # seconds of extra turning so the body is clear / 多转一会儿，让车身也让开
SWEEP = 0.25  # how much the nose wiggles while driving / 前进时车头摆动的幅度
SWEEP_PERIOD = 1.0  # seconds for one wiggle left and right / 左右摆动一次的时间
RUN_TIME = 40  # seconds / 秒

with Robot() as robot:
    start = time.monotonic()
    state = "DRIVE"
    turns = 0
    while time.monotonic() - start < RUN_TIME:
        d = robot.distance.metres
        now = time.monotonic() - start
        if state == "DRIVE":
            if d < TOO_CLOSE:
                state = "TURN"
                turns += 1
            else:
                # wiggle: turn a little left for half a period, then a little right
                # 摆动：半个周期向左一点，半个周期向右一点
                wiggle = SWEEP if (now % SWEEP_PERIOD) < SWEEP_PERIOD / 2 else -SWEEP
                robot.drive.arc(POWER, wiggle)
        if state == "TURN":
            # turn left on odd turns and right on even ones, so we do not go round in circles
            # 单数次向左转、双数次向右转，免得一直在原地绕圈
            if turns % 2:
                robot.drive.left(TURN_POWER)
            else:
                robot.drive.right(TURN_POWER)
            if d > CLEAR:
                time.sleep(EXTRA_TURN)
                state = "DRIVE"
        time.sleep(0.02)
    robot.drive.stop()
