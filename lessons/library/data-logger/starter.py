import csv
import time

from hardware import Robot
from lessons import report

# motor power, 0..1 (this is not metres per second!)
# 电机功率，0 到 1（这不是“米每秒”！）
POWER = 0.5
# stop when the wall is this close (metres)
# 离墙这么近（米）就停下
STOP_AT = 0.3
# seconds between two rows of the table
# 表格里两行之间隔多少秒
EVERY = 0.1

rows = []
with Robot() as robot:
    robot.encoders.reset()
    start = time.monotonic()
    robot.drive.forward(POWER)
    while True:
        t = time.monotonic() - start
        left, right = robot.encoders.distance
        # Also read robot.distance.metres and add it to the row as "wall_m".
        # 再读一下 robot.distance.metres，作为 "wall_m" 加到这一行里。
        rows.append([round(t, 2), round(left, 4), round(right, 4)])
        # Stop when the wall is closer than STOP_AT, not after 3 seconds.
        # 离墙比 STOP_AT 还近时停下，而不是开 3 秒就停。
        if t > 3:
            break
        time.sleep(EVERY)
    robot.drive.stop()

with open("log.csv", "w", newline="") as f:
    writer = csv.writer(f)
    writer.writerow(["time_s", "left_m", "right_m"])
    writer.writerows(rows)
print("time_s,left_m,right_m")
for row in rows:
    print(",".join(str(x) for x in row))

# A guess, not a measurement: work the speed out from the table.
# 这只是猜的，不是量出来的：用表格里的数算出速度。
speed = POWER
report("speed_m_s", speed)
# Then work out how far away the wall was and report("wall_m", ...)
# 再算出墙原来有多远，然后 report("wall_m", ...)
