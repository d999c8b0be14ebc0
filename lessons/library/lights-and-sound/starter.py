import time

from hardware import Robot

with Robot() as robot:
    robot.led.on()
    time.sleep(1)
    robot.led.off()
    # Show three colours with robot.rgb.color = (red, green, blue)
    # 用 robot.rgb.color = (红, 绿, 蓝) 显示三种颜色

    # Play three notes with robot.buzzer.play("C4")
    # 用 robot.buzzer.play("C4") 演奏三个音符
