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
        wall = robot.distance.metres
        rows.append([round(t, 2), round(left, 4), round(right, 4), round(wall, 3)])
        if wall < STOP_AT:
            break
        time.sleep(EVERY)
    robot.drive.stop()

# The table: one row per reading, saved as a CSV file and printed
# 表格：每次读数一行，存成 CSV 文件，也打印出来
with open("log.csv", "w", newline="") as f:
    writer = csv.writer(f)
    writer.writerow(["time_s", "left_m", "right_m", "wall_m"])
    writer.writerows(rows)
print("time_s,left_m,right_m,wall_m")
for row in rows:
    print(",".join(str(x) for x in row))

# Speed: distance / time, from a quarter of the way (after speeding up) to the end
# 速度 = 距离 ÷ 时间，从四分之一处（已经加速完了）算到最后
t0, left0, right0, _ = rows[len(rows) // 4]
t1, left1, right1, wall1 = rows[-1]
speed = ((left1 + right1) / 2 - (left0 + right0) / 2) / (t1 - t0)

# The wall: how far the wheels rolled, plus what is left in front of the sensor
# 墙有多远：轮子走过的距离，加上传感器前面还剩的距离
wall_m = (left1 + right1) / 2 + wall1

print("speed (m/s) / 速度（米/秒）:", round(speed, 3))
print("the wall was (m) / 墙原来有多远（米）:", round(wall_m, 3))
report("speed_m_s", round(speed, 3))
report("wall_m", round(wall_m, 3))
