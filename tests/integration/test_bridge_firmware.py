"""The host client against the REAL reference firmware running under simavr.

Every test boots its own simulated ATmega328P (real-time mode) and talks to it
over the harness's pty, exactly as it would over a USB cable.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from firmware_bridge.client import Bridge
from firmware_bridge.errors import CommandRefused, NotArmed, VersionMismatch
from firmware_bridge.messages import Capability, Hello, PinMode
from firmware_bridge.protocol import (
    PROTOCOL_MAJOR,
    PROTOCOL_MINOR,
    TABLE_HASH,
    ErrorCode,
    Frame,
    FrameDecoder,
    MsgType,
    StateFlag,
    encode_frame,
    table_hash,
)
from firmware_bridge.simboard import SimBoard, build_dir
from tests.conftest import missing, system_part

pytestmark = pytest.mark.integration

LEFT_PWM, LEFT_DIR, RIGHT_PWM, RIGHT_DIR = 5, 4, 6, 7


def built(name: str) -> Path:
    system_part("avr-gcc")
    path = build_dir() / name
    if not path.exists():
        missing(f"{path} is missing: run `make firmware`")
    return path


@pytest.fixture
def board() -> Iterator[SimBoard]:
    built("simboard")
    with SimBoard(built("roboclass_firmware.elf")) as sim:
        yield sim


@pytest.fixture
def bridge(board: SimBoard) -> Iterator[Bridge]:
    with Bridge.open(board.port) as b:
        yield b
    assert b.closed


def test_handshake_reports_the_firmware(bridge: Bridge) -> None:
    hello = bridge.hello
    assert hello.protocol == (PROTOCOL_MAJOR, PROTOCOL_MINOR)
    assert hello.firmware == "1.2.0"
    assert hello.board == "ATmega328P (Arduino UNO/Nano)"
    assert hello.rx_buffer == 64
    assert hello.table_hash == TABLE_HASH
    assert Capability.MOTORS in hello.capabilities and Capability.IMU in hello.capabilities
    assert Capability.NAME in hello.capabilities
    assert hello.name is None  # a blank EEPROM (all 0xFF) has no name
    assert hello.boot_id != 0
    ping = bridge.ping()
    assert 0 < ping["rtt"] < 1
    assert ping["board_corrupt"] == 0
    first = bridge.wait_telemetry()
    second = bridge.wait_telemetry()
    assert second.seq == (first.seq + 1) & 0xFFFF
    assert second.board_ms > first.board_ms
    assert not second.armed and not second.failsafe


def test_outputs_are_safe_until_armed(board: SimBoard, bridge: Bridge) -> None:
    assert board.output(LEFT_PWM) == 0 and board.output(RIGHT_PWM) == 0
    with pytest.raises(NotArmed, match="arm"):
        bridge.drive(0.5, 0.5, ack=True)
    with pytest.raises(NotArmed):
        bridge.setpoints.motor(0, 0.5)
    assert board.output(LEFT_PWM) == 0


def test_drive_motor_and_stop_all_move_the_pins(board: SimBoard, bridge: Bridge) -> None:
    bridge.arm()
    bridge.drive(0.5, -0.25, ack=True)
    board.wait_output(LEFT_PWM, lambda v: v == 127)
    board.wait_output(RIGHT_PWM, lambda v: v == 63)
    assert board.output(LEFT_DIR) == 0 and board.output(RIGHT_DIR) == 255
    assert bridge.wait_telemetry().armed
    bridge.setpoints.motor(0, -1.0)
    board.wait_output(LEFT_PWM, lambda v: v == 255)
    assert board.output(LEFT_DIR) == 255
    bridge.stop_all()
    board.wait_output(LEFT_PWM, lambda v: v == 0)
    board.wait_output(RIGHT_PWM, lambda v: v == 0)
    assert not bridge.wait_telemetry().armed
    with pytest.raises(NotArmed):
        bridge.drive(0.1, 0.1, ack=True)
    with pytest.raises(ValueError, match=r"-1\.\.1"):
        bridge.drive(1.5, 0)


def test_servo_pulses(board: SimBoard, bridge: Bridge) -> None:
    board.watch(9)
    bridge.commands.servo_attach(0, 9, min_us=1000, max_us=2000, safe_us=1500)
    assert abs(_pulse_width(board, 9) - 1500) <= 20
    with pytest.raises(NotArmed):
        bridge.commands.servo_write_us(0, 1200)
    bridge.arm()
    bridge.commands.servo_write_us(0, 1200)
    board.edges.clear()
    assert abs(_pulse_width(board, 9) - 1200) <= 20
    bridge.commands.servo_write_us(0, 2400)  # clamped to max_us
    board.edges.clear()
    assert abs(_pulse_width(board, 9) - 2000) <= 20
    with pytest.raises(CommandRefused) as refused:
        bridge.commands.servo_attach(1, LEFT_PWM)
    assert refused.value.code == ErrorCode.BAD_PIN


def _pulse_width(board: SimBoard, pin: int) -> int:
    """Width in us of the last complete high pulse seen after now (waits for 3 periods)."""
    start = board.now_us()
    with board._cond:
        board._cond.wait_for(
            lambda: sum(1 for t, p, v in board.edges if p == pin and t > start) >= 6, 5
        )
        edges = [(t, v) for t, p, v in board.edges if p == pin and t > start]
    rises = [t for t, v in edges if v == 1]
    falls = [t for t, v in edges if v == 0 and rises and t > rises[0]]
    assert rises and falls, edges
    return falls[-1] - max(r for r in rises if r < falls[-1])


def test_pins_and_subscriptions(board: SimBoard, bridge: Bridge) -> None:
    bridge.commands.pin_mode(12, PinMode.OUTPUT)
    bridge.commands.pin_mode(11, PinMode.OUTPUT)
    with pytest.raises(NotArmed):
        bridge.commands.digital_write(12, True)
    bridge.arm()
    bridge.commands.digital_write(12, True)
    board.wait_output(12, lambda v: v == 255)
    bridge.commands.pwm_write(11, 0.5)
    board.wait_output(11, lambda v: v == 128)
    with pytest.raises(CommandRefused) as refused:
        bridge.commands.pin_mode(LEFT_PWM, PinMode.OUTPUT)  # a motor pin
    assert refused.value.code == ErrorCode.BAD_PIN

    bridge.commands.subscribe("digital", 8)  # on change
    bridge.commands.subscribe("analog", 0, period_ms=20)
    board.drive_pin(8, True)
    board.set_adc(0, 2500)
    t = bridge.wait_telemetry(lambda t: t.level(8) is True and t.analog.get(0, 0) > 0, 3)
    assert abs(t.analog[0] - 511) <= 2
    board.drive_pin(8, False)
    bridge.wait_telemetry(lambda t: t.digital is not None and not t.digital >> 8 & 1, 3)
    bridge.commands.unsubscribe("analog", 0)
    assert 0 not in bridge.wait_telemetry(lambda t: 0 not in t.analog, 3).analog


def test_sensors(board: SimBoard, bridge: Bridge) -> None:
    trig, echo = 15, 16  # A1, A2
    board.set_distance(trig, echo, 0.5)
    bridge.commands.setup_ultrasonic(trig, echo, period_ms=40)
    t = bridge.wait_telemetry(lambda t: t.distance is not None and t.distance < 5, 3)
    assert t.distance == pytest.approx(0.5, abs=0.005)
    board.set_distance(trig, echo, None)
    assert bridge.wait_telemetry(lambda t: t.distance == float("inf"), 3)

    bridge.commands.setup_encoders()
    bridge.arm()
    bridge.drive(0.3, -0.3, ack=True)
    board.pulse(2, 10, period_us=1000)
    assert bridge.wait_telemetry(lambda t: t.encoders == (10, 0), 3), bridge.telemetry
    board.pulse(3, 4, period_us=1000)
    assert bridge.wait_telemetry(lambda t: t.encoders == (10, -4), 3), bridge.telemetry

    bridge.commands.setup_battery(3, divider=2.0)
    board.set_adc(3, 3700)
    t = bridge.wait_telemetry(lambda t: t.voltage is not None and t.voltage > 1, 3)
    assert t.voltage == pytest.approx(7.4, abs=0.03)
    assert bridge.telemetry.voltage == t.voltage

    with pytest.raises(CommandRefused) as refused:  # no MPU-6050 on the I2C bus yet
        bridge.commands.setup_imu()
    assert refused.value.code == ErrorCode.NO_DEVICE
    assert bridge.telemetry.heading is None
    board.set_imu((1.5, -2.0, 90.0))  # now one turning left at 90 deg/s
    board.now_us()  # the harness answers in order: the IMU is on the bus before the board looks
    bridge.commands.setup_imu(period_ms=10)
    first = bridge.wait_telemetry(lambda t: t.heading is not None, 3)
    later = bridge.wait_telemetry(lambda t: t.board_ms - first.board_ms >= 500, 3)
    assert later.rates == pytest.approx((1.5, -2.0, 90.0), abs=0.11)
    assert later.heading is not None and first.heading is not None
    turned = (later.heading - first.heading) % 360
    assert turned == pytest.approx(90 * (later.board_ms - first.board_ms) / 1000, abs=1.0)


def test_version_mismatch_names_the_flash_command() -> None:
    built("simboard")
    with (
        SimBoard(built("roboclass_firmware_v0.elf")) as old,
        pytest.raises(VersionMismatch) as error,
    ):
        Bridge.open(old.port, timeout=3)
    message = str(error.value)
    assert "firmware 0.9.0" in message
    assert "older" in message
    assert f"roboclass bridge flash --port {old.port}" in message
    assert error.value.board_major == 0


def test_watchdog_stops_the_motors_and_needs_arm(
    board: SimBoard, caplog: pytest.LogCaptureFixture
) -> None:
    # setpoint_hz=0: this host streams nothing by itself, so it goes silent when we stop calling.
    with Bridge.open(board.port, setpoint_hz=0, watchdog_ms=300) as bridge:
        bridge.arm()
        bridge.drive(0.5, 0.5, ack=True)
        board.wait_output(LEFT_PWM, lambda v: v > 0)
        silent_from = board.now_us()
        with caplog.at_level(logging.WARNING, logger="firmware_bridge"):
            stopped = board.wait_output(LEFT_PWM, lambda v: v == 0, timeout=3)
            board.wait_output(RIGHT_PWM, lambda v: v == 0, timeout=1)
            # simulated time: at most the watchdog + a loop pass after the last frame
            assert stopped - silent_from <= 300_000 + 50_000
            t = bridge.wait_telemetry(lambda t: t.failsafe, 2)
        assert not t.armed and bridge.failsafe
        assert any("link watchdog" in r.getMessage() for r in caplog.records)
        with pytest.raises(NotArmed, match="watchdog"):
            bridge.drive(0.5, 0.5, ack=True)
        assert board.output(LEFT_PWM) == 0
        bridge.arm()
        assert not bridge.wait_telemetry().failsafe
        bridge.drive(0.5, 0.5, ack=True)
        board.wait_output(LEFT_PWM, lambda v: v > 0)
        assert bridge.ping()["watchdog_trips"] == 1

        bridge.commands.configure(watchdog_ms=100)  # configurable
        bridge.drive(0.2, 0.2, ack=True)
        silent_from = board.now_us()
        stopped = board.wait_output(LEFT_PWM, lambda v: v == 0, timeout=3)
        assert stopped - silent_from <= 100_000 + 50_000


def test_streaming_keeps_the_watchdog_fed(board: SimBoard, bridge: Bridge) -> None:
    bridge.arm()
    bridge.drive(0.4, 0.4)
    board.wait_output(LEFT_PWM, lambda v: v > 0)
    start = board.now_us()
    # 0.9 s of the board's own time, more than 3 watchdog periods (in wall time it
    # may take longer on a busy machine, and the host streams all along)
    deadline = time.monotonic() + 60
    while board.now_us() - start < 900_000:
        assert time.monotonic() < deadline, "the simulated board stopped advancing"
        time.sleep(0.05)
    end = board.now_us()
    stops = [t for t, pin, value in list(board.history) if pin == LEFT_PWM and value == 0]
    assert not [t for t in stops if start <= t <= end], "the watchdog stopped a streamed drive"
    assert not bridge.failsafe


def test_close_stops_the_robot(board: SimBoard) -> None:
    bridge = Bridge.open(board.port)
    bridge.arm()
    bridge.drive(0.6, 0.6, ack=True)
    board.wait_output(LEFT_PWM, lambda v: v > 0)
    closed_at = board.now_us()
    bridge.close()
    bridge.close()  # idempotent
    assert bridge.closed
    stopped = board.wait_output(LEFT_PWM, lambda v: v == 0, timeout=2)
    assert stopped - closed_at < 300_000  # STOP_ALL, not the watchdog
    assert not any(t.is_alive() for t in threading.enumerate() if t.name.startswith("bridge-"))


def test_board_reboot_is_detected_and_configuration_resent(board: SimBoard, bridge: Bridge) -> None:
    trig, echo = 15, 16
    board.set_distance(trig, echo, 0.3)
    bridge.commands.setup_ultrasonic(trig, echo, period_ms=40)
    bridge.wait_telemetry(lambda t: t.distance is not None and t.distance < 1, 3)
    old_boot = bridge.hello.boot_id
    rebooted = threading.Event()
    seen: list[Hello] = []
    bridge.on_reboot(lambda hello: (seen.append(hello), rebooted.set()))
    bridge.arm()
    board.reset()
    assert rebooted.wait(5)
    assert seen[0].boot_id != old_boot
    assert bridge.stats.reboots == 1
    t = bridge.wait_telemetry(lambda t: t.distance is not None and t.distance < 1, 3)
    assert t.distance == pytest.approx(0.3, abs=0.005)  # ultrasonic configured again
    assert not t.armed  # a reboot never re-arms by itself


def test_port_closed_mid_stream_then_reopened(tmp_path: Path) -> None:
    built("simboard")
    link = tmp_path / "ttyRC0"
    with (
        SimBoard(built("roboclass_firmware.elf"), link=link) as board,
        Bridge.open(board.port) as bridge,
    ):
        bridge.commands.setup_encoders()
        bridge.arm()
        bridge.drive(0.5, 0.5)
        board.wait_output(LEFT_PWM, lambda v: v > 0)
        board.unplug()
        with pytest.raises(TimeoutError):
            bridge.wait_telemetry(timeout=0.5)
        assert not bridge.connected
        board.replug()
        assert bridge.wait_connected(5)
        t = bridge.wait_telemetry(lambda t: t.encoders is not None, 3)  # configuration re-sent
        assert not t.armed
        assert bridge.stats.reconnects >= 1
        assert bridge.stats.reboots == 1  # a replugged board is a rebooted board
        assert board.output(LEFT_PWM) == 0
        bridge.arm()
        bridge.drive(0.5, 0.5, ack=True)
        board.wait_output(LEFT_PWM, lambda v: v > 0)


def test_hardware_watchdog_resets_a_hung_firmware() -> None:
    """A test build (-DRC_TEST_HOOKS) hangs its main loop on message 0x7F; nothing else differs."""
    built("simboard")
    with (
        SimBoard(built("roboclass_firmware_hang.elf")) as board,
        Bridge.open(board.port) as bridge,
    ):
        bridge.arm()
        bridge.drive(0.5, 0.5, ack=True)
        board.wait_output(LEFT_PWM, lambda v: v > 0)
        hung_at = board.now_us()
        bridge.link.send(0x7F, b"")  # type: ignore[arg-type]  # the test hook has no MsgType
        stopped = board.wait_output(LEFT_PWM, lambda v: v <= 0, timeout=3)  # reset: input, then low
        assert stopped - hung_at <= 250_000 + 50_000  # the 250 ms hardware watchdog
        assert board.resets >= 1
        t = bridge.wait_telemetry(lambda t: bool(t.state & StateFlag.WATCHDOG_RESET), 5)
        assert not t.armed
        assert bridge.stats.reboots == 1


def test_the_name_is_kept_in_eeprom_across_a_reset(board: SimBoard, bridge: Bridge) -> None:
    """simavr keeps the EEPROM for the process's lifetime, as a real board keeps it forever."""
    instance = bridge.hello.instance_id
    bridge.commands.set_name("robot-07")  # acked, then read back with HELLO
    assert bridge.name == "robot-07"
    rebooted = threading.Event()
    bridge.on_reboot(lambda hello: rebooted.set())
    board.reset()
    assert rebooted.wait(5)
    assert bridge.hello.name == "robot-07" and bridge.hello.instance_id == instance
    bridge.commands.set_name("robot_12-b")  # a shorter rewrite leaves no tail of the old one
    bridge.commands.set_name("r2")
    assert bridge.name == "r2"
    with pytest.raises(CommandRefused) as error:  # the board checks too, not only the host
        bridge.link.request(MsgType.SET_NAME, b"Robot!")
    assert error.value.code == ErrorCode.BAD_VALUE
    with pytest.raises(CommandRefused) as error:
        bridge.link.request(MsgType.SET_NAME, b"r" * 17)
    assert error.value.code == ErrorCode.BAD_LENGTH
    bridge.commands.set_name("")
    assert bridge.name is None
    board.reset()
    assert wait_for_boot(bridge, instance).name is None


def wait_for_boot(bridge: Bridge, instance: int) -> Hello:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if bridge.stats.reboots >= 2 and bridge.connected:
            assert bridge.hello.instance_id == instance
            return bridge.hello
        time.sleep(0.02)
    raise AssertionError("the board did not come back after reset")


def test_a_1_0_host_sees_the_1_0_table_and_reply(board: SimBoard) -> None:
    """What an older RoboClass (protocol 1.0) gets from this firmware, byte for byte."""
    import serial  # noqa: PLC0415

    with serial.Serial(board.port, 115200, timeout=0.1) as port:
        decoder = FrameDecoder()
        deadline = time.monotonic() + 5
        reply: Frame | None = None
        while reply is None and time.monotonic() < deadline:
            port.write(encode_frame(Frame(MsgType.HELLO, 0, bytes([PROTOCOL_MAJOR, 0]))))
            for frame in decoder.feed(port.read(256)):
                if frame.type == MsgType.HELLO_REPLY:
                    reply = frame
        assert reply is not None
    assert reply.payload[:2] == bytes([PROTOCOL_MAJOR, PROTOCOL_MINOR])
    assert reply.payload[17:21] == table_hash(0).to_bytes(4, "little")
    assert len(reply.payload) == 37  # a 1.0 host reads the first 21 bytes and ignores the rest
