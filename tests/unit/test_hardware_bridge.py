"""The bridge backend of ``hardware`` on firmware_bridge's FakeBoard (no simavr, no cable).

The real firmware under simavr is in tests/integration/test_hardware_bridge_sim.py.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from firmware_bridge import FakeBoard
from firmware_bridge.protocol import ErrorCode, MsgType, pack
from hardware import Robot
from hardware.backends.bridge import BridgeBackend
from hardware.errors import BackendError, HardwareError, KitError, SensorError
from hardware.kit import KitProfile, load_kit


def wait_until(predicate: Callable[[], object], timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.005)
    return False


def uno_kit(**parts: dict[str, object]) -> KitProfile:
    """The shipped Pi + UNO kit without its (Pi) camera, plus ``parts``."""
    kit = load_kit("pi-uno-bridge")
    data = kit.model_dump()
    data["parts"].pop("camera")
    data["parts"].update(parts)
    return KitProfile.model_validate(data)


@pytest.fixture
def fake() -> FakeBoard:
    return FakeBoard(
        distance_mm=250,
        encoders=(0, 0),
        battery_mv=7400,
        imu=(30.0, (1.0, -2.0, 45.0)),
        analog={0: 20, 1: 1000, 2: 20},
    )


def open_robot(fake: FakeBoard, kit: KitProfile | str | None = None, **options: object) -> Robot:
    return Robot(
        kit or uno_kit(),
        backend="bridge",
        port="fake0",
        transport=fake.transport,
        timeout=1.0,
        **options,
    )


@pytest.fixture
def robot(fake: FakeBoard, isolated_dirs: Path) -> Iterator[Robot]:
    with open_robot(fake) as r:
        yield r


def payloads(fake: FakeBoard, msg: MsgType) -> list[bytes]:
    return [f.payload for f in fake.frames_of(msg)]


def test_the_kit_configures_the_board_byte_for_byte(fake: FakeBoard, robot: Robot) -> None:
    assert payloads(fake, MsgType.ULTRASONIC) == [pack(MsgType.ULTRASONIC, 8, 12, 60)]
    assert payloads(fake, MsgType.ENCODERS) == [pack(MsgType.ENCODERS, 1)]
    assert payloads(fake, MsgType.IMU) == [pack(MsgType.IMU, 0x68, 20)]
    assert payloads(fake, MsgType.BATTERY) == [pack(MsgType.BATTERY, 3, 3000)]
    assert payloads(fake, MsgType.SUBSCRIBE) == [
        pack(MsgType.SUBSCRIBE, 2, ch, 10) for ch in (0, 1, 2)
    ]
    assert payloads(fake, MsgType.SERVO_ATTACH) == [
        pack(MsgType.SERVO_ATTACH, 0, 9, 500, 2500, 1500)
    ]
    assert payloads(fake, MsgType.CONFIG)[0] == pack(MsgType.CONFIG, 300, 20)
    assert robot.backend.name == "bridge"
    assert not fake.armed and not fake.frames_of(MsgType.ARM)  # nothing armed before a move


def test_drive_arms_the_board_then_streams(fake: FakeBoard, robot: Robot) -> None:
    robot.drive.forward(0.5)
    assert wait_until(lambda: fake.motors == (500, 500))
    assert fake.armed
    kinds = [(f.type, f.payload) for f in fake.received]
    first_move = kinds.index((MsgType.DRIVE, pack(MsgType.DRIVE, 500, 0)))
    assert kinds.index((MsgType.ARM, b"")) < first_move  # armed first
    robot.drive.value = (0.2, -0.4)
    assert wait_until(lambda: fake.motors == (200, -400))
    robot.right_motor.value = 1.0
    assert wait_until(lambda: fake.motors == (200, 1000))
    robot.stop()
    assert wait_until(lambda: fake.motors == (0, 0))
    assert len(fake.frames_of(MsgType.ARM)) == 1  # armed once; stop() does not disarm


def test_inverted_motor_and_swapped_channels(fake: FakeBoard, isolated_dirs: Path) -> None:
    data = uno_kit().model_dump()
    data["drive"]["left"] = {"channel": 1, "inverted": True}
    data["drive"]["right"] = {"channel": 0}
    with open_robot(fake, KitProfile.model_validate(data)) as r:
        r.drive.value = (0.5, 0.25)
        assert wait_until(lambda: fake.motors == (250, -500))


def test_sensors_read_in_si_units(fake: FakeBoard, robot: Robot) -> None:
    assert robot.distance.metres == pytest.approx(0.25)
    fake.distance_mm = 0xFFFF  # no echo: nothing in range
    assert wait_until(lambda: robot.distance.metres == robot.distance.max_distance)
    # analog line sensors, black reads high: A0 and A2 see white floor, A1 the line
    assert robot.line.on_line == (False, True, False)
    assert robot.line.values[0] == pytest.approx(1 - 20 / 1023)
    fake.encoders = (20, 10)  # 20 ticks = one wheel turn
    assert wait_until(lambda: robot.encoders.ticks == (20, 10))
    left, right = robot.encoders.distance
    assert left == pytest.approx(2 * math.pi * 0.033) and right == pytest.approx(left / 2)
    # the board says 30 degrees from the start: that is heading 0, the way the robot started
    assert robot.imu.heading == pytest.approx(0.0)
    fake.imu = (75.0, (1.0, -2.0, 45.0))  # a turn of 45 degrees to the left
    assert wait_until(lambda: robot.imu.heading == pytest.approx(45.0))
    assert robot.imu.rates == pytest.approx((1.0, -2.0, 45.0))
    assert robot.imu.yaw_rate == pytest.approx(45.0)
    assert robot.battery.voltage == pytest.approx(7.4)
    assert robot.battery.percent == pytest.approx(50.0)


def test_sensors_tell_how_often_they_report_and_how_old_the_newest_is(
    fake: FakeBoard, robot: Robot
) -> None:
    assert robot.distance.metres == pytest.approx(0.25)
    assert wait_until(lambda: (robot.distance.rate_hz or 0) > 0)
    # every frame is at least 20 ms after the one before on the board's clock
    for sensor in (robot.distance, robot.encoders, robot.imu, robot.battery, robot.line):
        rate = sensor.rate_hz
        assert rate is not None and 0 < rate <= 1000 / fake.telemetry_ms
        assert 0 <= sensor.age < math.inf
    fake.answering = False  # the board falls silent: no new reports
    assert wait_until(lambda: robot.distance.rate_hz == 0.0)
    assert robot.distance.age > 0.1
    fake.answering = True


def test_sensors_read_on_demand_have_no_rate() -> None:
    with Robot(kit="sim", backend="sim", realtime=False) as robot:
        assert robot.distance.metres > 0
        assert robot.distance.rate_hz is None and robot.distance.age == 0.0


def test_encoder_counts_carry_on_over_a_board_reboot(fake: FakeBoard, robot: Robot) -> None:
    fake.encoders = (100, 50)
    assert wait_until(lambda: robot.encoders.ticks == (100, 50))
    old_boot = robot.backend.bridge.hello.boot_id  # type: ignore[attr-defined]
    fake.encoders = (3, 2)  # the rebooted board counts from 0 again
    fake.reboot()
    assert wait_until(lambda: robot.backend.bridge.hello.boot_id != old_boot)  # type: ignore[attr-defined]
    assert wait_until(lambda: robot.encoders.ticks == (103, 52))


def test_estop_disarms_and_holds_until_release(fake: FakeBoard, robot: Robot) -> None:
    robot.drive.forward(0.6)
    assert wait_until(lambda: fake.motors == (600, 600))
    robot.estop()
    assert fake.motors == (0, 0) and not fake.armed  # STOP_ALL is acked before estop() returns
    assert len(fake.frames_of(MsgType.STOP_ALL)) == 1
    robot.drive.forward(0.6)  # ignored by the latch
    robot.pan.angle = 45  # so is a servo
    time.sleep(0.1)
    assert fake.motors == (0, 0) and not fake.armed
    assert len(fake.frames_of(MsgType.ARM)) == 1
    assert not fake.frames_of(MsgType.SERVO_WRITE)
    robot.clear_stop()  # moves nothing by itself
    time.sleep(0.1)
    assert not fake.armed and fake.motors == (0, 0)
    robot.drive.forward(0.3)  # the next real command re-arms
    assert wait_until(lambda: fake.motors == (300, 300))
    assert fake.armed and len(fake.frames_of(MsgType.ARM)) == 2


def test_after_the_board_watchdog_the_next_command_rearms(fake: FakeBoard, robot: Robot) -> None:
    robot.drive.forward(0.5)
    assert wait_until(lambda: fake.motors == (500, 500))
    with fake._cond:  # stage a link-watchdog trip on the board
        fake.armed, fake.failsafe, fake.motors = False, True, (0, 0)
    assert wait_until(lambda: robot.backend.bridge.failsafe)  # type: ignore[attr-defined]
    time.sleep(0.1)
    assert fake.motors == (0, 0)  # the streamed setpoint does not move a disarmed board
    robot.left_motor.value = 0.4  # re-arms; the right wheel does not resume its old 0.5
    assert wait_until(lambda: fake.motors == (400, 0))
    assert fake.armed and not fake.failsafe
    robot.drive.forward(0.4)
    assert wait_until(lambda: fake.motors == (400, 400))


def test_servo_angles_become_pulse_widths(fake: FakeBoard, robot: Robot) -> None:
    robot.pan.park()  # the safe angle on a disarmed board: nothing to send
    assert not fake.frames_of(MsgType.SERVO_WRITE) and not fake.armed
    robot.pan.angle = 45  # 500 + (45 + 90) / 180 * 2000 us
    assert payloads(fake, MsgType.SERVO_WRITE) == [pack(MsgType.SERVO_WRITE, 0, 2000)]
    assert fake.armed
    robot.pan.min()
    assert payloads(fake, MsgType.SERVO_WRITE)[-1] == pack(MsgType.SERVO_WRITE, 0, 500)
    with pytest.raises(BackendError, match="limp"):
        robot.pan.detach()


def test_button_leds_and_active_buzzer(fake: FakeBoard, isolated_dirs: Path) -> None:
    kit = uno_kit(
        button={"kind": "button", "pin": 8},  # with the pull-up
        led={"kind": "led", "pin": 13},
        glow={"kind": "led", "pin": 11},  # a PWM pin: brightness
        buzzer={"kind": "buzzer", "pin": 10, "active": True},
    )
    kit_data = kit.model_dump()
    kit_data["parts"]["distance"].update(trigger=16, echo=17)  # free D8/D12 for the others
    fake.digital = 1 << 8  # released: the pull-up holds D8 high
    with open_robot(fake, KitProfile.model_validate(kit_data)) as r:
        modes = payloads(fake, MsgType.PIN_MODE)
        assert pack(MsgType.PIN_MODE, 8, 2) in modes and pack(MsgType.PIN_MODE, 13, 1) in modes
        assert pack(MsgType.SUBSCRIBE, 1, 8, 0) in payloads(fake, MsgType.SUBSCRIBE)
        assert not r.button.is_pressed
        fake.digital = 0
        assert wait_until(lambda: r.button.is_pressed)
        r.led.off()  # off on a disarmed board: already off
        assert not fake.frames_of(MsgType.DIGITAL_WRITE)
        r.led.on()
        assert payloads(fake, MsgType.DIGITAL_WRITE) == [pack(MsgType.DIGITAL_WRITE, 13, 1)]
        r.glow.value = 0.5
        assert payloads(fake, MsgType.PWM_WRITE) == [pack(MsgType.PWM_WRITE, 11, 128)]
        r.buzzer.beep()
        assert payloads(fake, MsgType.DIGITAL_WRITE)[-1] == pack(MsgType.DIGITAL_WRITE, 10, 1)
        r.buzzer.stop()
        assert payloads(fake, MsgType.DIGITAL_WRITE)[-1] == pack(MsgType.DIGITAL_WRITE, 10, 0)


def test_unsupported_parts_say_what_to_do(fake: FakeBoard, isolated_dirs: Path) -> None:
    with pytest.raises(BackendError, match="active buzzer"):
        open_robot(fake, uno_kit(buzzer={"kind": "buzzer", "pin": 10}))
    with pytest.raises(KitError, match=r"D2 only"):
        open_robot(fake, uno_kit(encoders={"kind": "encoders", "left": [5], "ticks_per_rev": 20}))
    with pytest.raises(KitError, match="Arduino pin"):
        open_robot(fake, uno_kit(led={"kind": "led", "pin": 25}))
    with pytest.raises(BackendError, match="backend='gpio'"):
        Robot("generic-l298n", backend="bridge", port="fake0", transport=fake.transport)


def test_a_missing_imu_names_its_wires_and_closes_the_link(
    fake: FakeBoard, isolated_dirs: Path
) -> None:
    fake.refuse = {MsgType.IMU: ErrorCode.NO_DEVICE}
    with pytest.raises(SensorError, match=r"A4 \(SDA\)"):
        open_robot(fake)
    assert fake.frames_of(MsgType.STOP_ALL)  # the half-built robot was closed
    assert wait_until(lambda: not any(t.name.startswith("bridge-") for t in threading.enumerate()))


def test_no_board_on_the_port(isolated_dirs: Path) -> None:
    absent = FakeBoard(plugged=False)
    with pytest.raises(BackendError, match="fake0") as error:
        open_robot(absent)
    assert "plugged in" in str(error.value)


def test_a_lost_cable_gives_a_clear_error(fake: FakeBoard, robot: Robot) -> None:
    robot.drive.forward(0.5)
    assert wait_until(lambda: fake.motors == (500, 500))
    fake.unplug()
    assert wait_until(lambda: not robot.backend.bridge.connected)  # type: ignore[attr-defined]
    with pytest.raises(BackendError, match="USB cable") as error:
        robot.drive.forward(0.5)
    assert isinstance(error.value, HardwareError)
    with pytest.raises(SensorError, match="USB cable"):
        _ = robot.distance.metres
    robot.stop()  # stopping never raises
    fake.replug()  # a USB-powered board comes back rebooted: disarmed
    assert robot.backend.bridge.wait_connected(5)  # type: ignore[attr-defined]
    assert not fake.armed
    robot.drive.forward(0.2)
    assert wait_until(lambda: fake.motors == (200, 200))


def test_close_stops_the_board_and_closes_the_link(fake: FakeBoard, isolated_dirs: Path) -> None:
    robot = open_robot(fake)
    backend = robot.backend
    assert isinstance(backend, BridgeBackend)
    robot.drive.forward(0.7)
    assert wait_until(lambda: fake.motors == (700, 700))
    robot.close()
    robot.close()  # idempotent
    assert fake.motors == (0, 0) and not fake.armed
    assert backend.closed and backend.bridge.closed
    backend.close()
    backend.stop_all()  # safe after close
    assert not any(t.name.startswith("bridge-") for t in threading.enumerate())


def test_an_exception_in_the_with_block_stops_the_board(
    fake: FakeBoard, isolated_dirs: Path
) -> None:
    with pytest.raises(ZeroDivisionError), open_robot(fake) as r:
        r.drive.forward(0.5)
        assert wait_until(lambda: fake.motors == (500, 500))
        _ = 1 / 0
    assert fake.motors == (0, 0) and not fake.armed


def test_port_comes_from_the_settings(
    fake: FakeBoard, isolated_dirs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = isolated_dirs / "config"
    config.mkdir(parents=True, exist_ok=True)
    (config / "robot.yaml").write_text("kit: pi-uno-bridge\nport: fake-from-settings\n")
    opened: list[str] = []

    def transport(device: str, baud: int) -> FakeBoard:
        opened.append(f"{device}@{baud}")
        return fake.transport(device, baud)

    with Robot(uno_kit(), backend="bridge", transport=transport, timeout=1.0) as r:
        assert r.backend.port == "fake-from-settings"  # type: ignore[attr-defined]
    assert opened[0] == "fake-from-settings@115200"
