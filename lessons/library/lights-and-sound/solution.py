import time

from hardware import Robot

with Robot() as robot:
    robot.led.on()
    time.sleep(1)
    robot.led.off()
    for colour in [(1, 0, 0), (0, 1, 0), (0, 0, 1), (1, 1, 0)]:
        robot.rgb.color = colour
        time.sleep(0.5)
    robot.rgb.off()
    for note in ["C4", "D4", "E4", "C4"]:
        robot.buzzer.play(note)
        time.sleep(0.3)
    robot.buzzer.stop()
