"""Pre-flight checks: exercise every part of a robot before class.

Each part gets a :class:`PartCheck` (ok / warn / fail, what was seen, what to
do, in English and Chinese). The list is plain data: ``as_dict`` gives what
``roboclass hw check --json`` prints and what the fleet agent will publish.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from hardware.camera import Camera
from hardware.device import Device
from hardware.motors import Motor, Servo
from hardware.outputs import LED, RGBLED, Buzzer
from hardware.robot import Robot
from hardware.sensors import IMU, Battery, Button, DistanceSensor, Encoders, LineSensors
from rcbase import Lang, Text

__all__ = ["PartCheck", "run_preflight"]

Status = Literal["ok", "warn", "fail"]
PULSE_POWER = 0.4
PULSE_SECONDS = 0.3


@dataclass(frozen=True)
class PartCheck:
    part: str
    status: Status
    detail: Text
    advice: Text = field(default_factory=lambda: Text("", ""))
    values: dict[str, float | int | str | None] = field(default_factory=dict)

    def as_dict(self, lang: Lang) -> dict[str, object]:
        return {
            "part": self.part,
            "status": self.status,
            "detail": self.detail(lang),
            "advice": self.advice(lang),
            "values": self.values,
        }


def _ok(part: str, en: str, zh: str, **values: float | int | str | None) -> PartCheck:
    return PartCheck(part, "ok", Text(en, zh), values=values)


def _check_drive(robot: Robot) -> list[PartCheck]:
    encoders = next((d for d in robot.parts.values() if isinstance(d, Encoders)), None)
    results = []
    for side, motor in (("left", robot.left_motor), ("right", robot.right_motor)):
        before = encoders.ticks if encoders else None
        motor.value = PULSE_POWER
        robot.sleep(PULSE_SECONDS)
        motor.value = 0
        if encoders is None or before is None:
            results.append(
                PartCheck(
                    motor.name,
                    "warn",
                    Text(
                        "pulsed forward; no encoders to confirm it turned",
                        "已向前转动一下；没有编码器，无法确认",
                    ),
                    Text(
                        "Watch the wheel: it should have turned forward.",
                        "请观察车轮：它应该向前转了一下。",
                    ),
                )
            )
            continue
        i = 0 if side == "left" else 1
        moved = encoders.ticks[i] - before[i]
        other = encoders.ticks[1 - i] - before[1 - i]
        if moved > 0:
            results.append(
                _ok(
                    motor.name,
                    f"turned forward ({moved} ticks)",
                    f"向前转动（{moved} 个脉冲）",
                    ticks=moved,
                )
            )
        elif moved < 0:
            results.append(
                PartCheck(
                    motor.name,
                    "fail",
                    Text(f"turned backward ({moved} ticks)", f"反向转动（{moved} 个脉冲）"),
                    Text(
                        f"Set `inverted: true` for drive.{side} in the kit profile, or swap the motor wires.",
                        f"在套件配置中为 drive.{side} 设置 `inverted: true`，或对调电机接线。",
                    ),
                    {"ticks": moved},
                )
            )
        else:
            crossed = " (the other wheel's encoder counted: encoders swapped?)" if other else ""
            crossed_zh = "（另一侧编码器有计数：编码器接反了？）" if other else ""
            results.append(
                PartCheck(
                    motor.name,
                    "fail",
                    Text(
                        f"no encoder ticks while driving{crossed}",
                        f"驱动时编码器没有计数{crossed_zh}",
                    ),
                    Text(
                        "Check the motor's wires and battery, and the encoder's cable.",
                        "请检查电机接线、电池和编码器连线。",
                    ),
                    {"ticks": 0, "other_side_ticks": other},
                )
            )
    return results


def _check_distance(d: DistanceSensor) -> PartCheck:
    readings = [d.metres for _ in range(3)]
    median = float(np.median(readings))
    if median >= d.max_distance * 0.999:
        return PartCheck(
            d.name,
            "warn",
            Text(
                f"nothing in range (max {d.max_distance:g} m)",
                f"量程内没有物体（最大 {d.max_distance:g} 米）",
            ),
            Text(
                "Hold a hand or book 20 cm in front of the sensor and check again.",
                "请在传感器前 20 厘米处放一本书，再检查一次。",
            ),
            {"distance_m": median},
        )
    if median < 0.02:
        return PartCheck(
            d.name,
            "warn",
            Text(
                f"{median:.3f} m: closer than a sensor can measure",
                f"{median:.3f} 米：太近，无法测量",
            ),
            Text(
                "Something touches the sensor, or its echo wire is loose.",
                "传感器被挡住，或 echo 线松了。",
            ),
            {"distance_m": median},
        )
    return _ok(d.name, f"{median:.2f} m", f"{median:.2f} 米", distance_m=round(median, 4))


def _check_line(line: LineSensors) -> PartCheck:
    values = line.values
    if len(values) != len(line) or not all(0 <= v <= 1 for v in values):
        return PartCheck(
            line.name,
            "fail",
            Text(f"bad readings {values}", f"读数异常 {values}"),
            Text("Check the sensor cable.", "请检查传感器连线。"),
        )
    shown = " ".join(f"{v:.2f}" for v in values)
    return _ok(line.name, f"reflectance {shown}", f"反射率 {shown}", sensors=len(line))


def _check_imu(imu: IMU) -> PartCheck:
    heading, rate = imu.heading, imu.yaw_rate
    if not (0 <= heading < 360) or not math.isfinite(rate) or abs(rate) > 2000:
        return PartCheck(
            imu.name,
            "fail",
            Text(
                f"implausible: heading {heading}, rate {rate}",
                f"读数不合理：方向 {heading}，角速度 {rate}",
            ),
            Text(
                "Check the IMU's I2C wiring (SDA, SCL, 3.3 V, GND).",
                "请检查 IMU 的 I2C 接线（SDA、SCL、3.3V、GND）。",
            ),
        )
    return _ok(
        imu.name,
        f"heading {heading:.1f}°, yaw rate {rate:.1f}°/s",
        f"方向 {heading:.1f}°，角速度 {rate:.1f}°/秒",
        heading_deg=round(heading, 2),
        yaw_rate_dps=round(rate, 2),
    )


def _check_button(button: Button) -> PartCheck:
    if button.is_pressed:
        return PartCheck(
            button.name,
            "warn",
            Text("reads pressed while nobody presses it", "无人按下时读数为按下"),
            Text(
                "Is the button stuck, or pull_up wrong in the kit profile?",
                "按钮卡住了，还是套件配置中的 pull_up 设置错了？",
            ),
        )
    return _ok(button.name, "released", "未按下")


def _check_battery(battery: Battery) -> PartCheck:
    v, pct = battery.voltage, battery.percent
    values: dict[str, float | int | str | None] = {"voltage": round(v, 3), "percent": round(pct, 1)}
    if v < battery.spec.empty_voltage:
        return PartCheck(
            battery.name,
            "fail",
            Text(f"{v:.2f} V: empty", f"{v:.2f} 伏：电量耗尽"),
            Text("Charge or replace the battery before class.", "上课前请充电或更换电池。"),
            values,
        )
    if pct < 20:
        return PartCheck(
            battery.name,
            "warn",
            Text(f"{v:.2f} V ({pct:.0f} %)", f"{v:.2f} 伏（{pct:.0f}%）"),
            Text("Low: charge it soon.", "电量低：请尽快充电。"),
            values,
        )
    return PartCheck(
        battery.name,
        "ok",
        Text(f"{v:.2f} V ({pct:.0f} %)", f"{v:.2f} 伏（{pct:.0f}%）"),
        values=values,
    )


def _check_camera(camera: Camera) -> PartCheck:
    frame = camera.read()
    w, h = camera.resolution
    values: dict[str, float | int | str | None] = {
        "width": int(frame.shape[1]),
        "height": int(frame.shape[0]),
    }
    if frame.ndim != 3 or frame.shape[2] != 3:
        return PartCheck(
            camera.name,
            "fail",
            Text(f"frame of shape {frame.shape}", f"画面形状 {frame.shape}"),
            Text("The camera gave an unexpected picture format.", "摄像头输出格式异常。"),
            values,
        )
    mean = float(frame.mean())
    values["mean_brightness"] = round(mean, 1)
    if mean < 5:
        return PartCheck(
            camera.name,
            "warn",
            Text("the picture is black", "画面全黑"),
            Text("Remove the lens cap, or turn on the light.", "请取下镜头盖，或打开灯。"),
            values,
        )
    if (frame.shape[1], frame.shape[0]) != (w, h):
        return PartCheck(
            camera.name,
            "warn",
            Text(
                f"{frame.shape[1]}x{frame.shape[0]}, asked {w}x{h}",
                f"{frame.shape[1]}x{frame.shape[0]}，要求 {w}x{h}",
            ),
            Text(
                "The camera does not support this size; change it in the kit profile.",
                "摄像头不支持此分辨率；请在套件配置中修改。",
            ),
            values,
        )
    return PartCheck(camera.name, "ok", Text(f"{w}x{h} frame", f"{w}x{h} 画面"), values=values)


def _check_servo(servo: Servo) -> PartCheck:
    for move in (servo.min, servo.max, servo.park):
        move()
    return _ok(
        servo.name,
        f"moved {servo.min_angle:g}° .. {servo.max_angle:g}° and parked",
        f"已在 {servo.min_angle:g}° 到 {servo.max_angle:g}° 间移动并归位",
    )


def _check_output(device: Device, robot: Robot) -> PartCheck:
    if isinstance(device, Buzzer):
        device.beep()
        robot.sleep(0.1)
        device.stop()
        return _ok(device.name, "beeped", "已鸣响")
    if isinstance(device, LED | RGBLED):
        device.on()
        robot.sleep(0.1)
        device.off()
    return _ok(device.name, "blinked", "已闪烁")


def _check_part(device: Device, robot: Robot) -> PartCheck:  # noqa: PLR0911 - one line per kind
    if isinstance(device, DistanceSensor):
        return _check_distance(device)
    if isinstance(device, LineSensors):
        return _check_line(device)
    if isinstance(device, IMU):
        return _check_imu(device)
    if isinstance(device, Button):
        return _check_button(device)
    if isinstance(device, Battery):
        return _check_battery(device)
    if isinstance(device, Camera):
        return _check_camera(device)
    if isinstance(device, Servo):
        return _check_servo(device)
    return _check_output(device, robot)


def _failed(name: str, exc: Exception) -> PartCheck:
    return PartCheck(
        name,
        "fail",
        Text(f"error: {exc}", f"出错：{exc}"),
        Text("Check this part's wiring and the kit profile.", "请检查这个部件的接线和套件配置。"),
    )


def run_preflight(robot: Robot) -> list[PartCheck]:
    """Exercise every part of ``robot``; a part that raises is a ``fail``, the others still run."""
    results: list[PartCheck] = []
    try:
        results.extend(_check_drive(robot))
    except Exception as exc:  # a broken part must not hide the others
        results.append(_failed("drive", exc))
    for name, device in robot.parts.items():
        if isinstance(device, Motor | Encoders):
            continue  # covered by the drive pulse
        try:
            results.append(_check_part(device, robot))
        except Exception as exc:  # a broken part must not hide the others
            results.append(_failed(name, exc))
    robot.stop()
    return results
