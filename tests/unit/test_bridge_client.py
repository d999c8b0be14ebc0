"""Bridge on the FakeBoard transport: the client's own logic, fast and without simavr."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator

import pytest

import firmware_bridge
from firmware_bridge import (
    Bridge,
    BridgeClosed,
    BridgeError,
    BridgeTimeout,
    CommandRefused,
    NoBoard,
    NotArmed,
    VersionMismatch,
)
from firmware_bridge.commands import Commands
from firmware_bridge.connection import Connection
from firmware_bridge.fake import FakeBoard
from firmware_bridge.protocol import (
    PROTOCOL_MAJOR,
    PROTOCOL_MINOR,
    ErrorCode,
    Flag,
    MsgType,
    encode_frame,
    pack,
    table_hash,
)
from firmware_bridge.protocol import Frame as WireFrame
from firmware_bridge.setpoints import SetpointStreamer


@pytest.fixture
def fake() -> FakeBoard:
    return FakeBoard()


@pytest.fixture
def bridge(fake: FakeBoard) -> Iterator[Bridge]:
    with Bridge("fake0", transport=fake.transport, timeout=1.0) as b:
        yield b


def wait_until(predicate: object, timeout: float = 2.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.005)
    return False


def test_opening_sends_hello_then_config_byte_for_byte(fake: FakeBoard, bridge: Bridge) -> None:
    hello, config = fake.received[0], fake.frames_of(MsgType.CONFIG)[0]
    assert encode_frame(hello) == encode_frame(
        WireFrame(MsgType.HELLO, hello.seq, bytes([PROTOCOL_MAJOR, PROTOCOL_MINOR]))
    )
    assert hello.flags == 0
    assert config.flags == Flag.ACK_REQUESTED
    assert config.payload == pack(MsgType.CONFIG, 300, 20)
    assert bridge.hello.firmware == "1.0.0"
    assert bridge.hello.as_dict()["boot_id"] == f"{fake.boot_id:08x}"
    assert bridge.connected


def test_drive_is_streamed_as_the_heartbeat(fake: FakeBoard, bridge: Bridge) -> None:
    bridge.arm()
    bridge.drive(0.5, -0.25)
    assert wait_until(lambda: fake.motors == (500, -250))
    before = len(fake.frames_of(MsgType.DRIVE))
    assert wait_until(lambda: len(fake.frames_of(MsgType.DRIVE)) >= before + 5)
    assert all(
        f.payload == pack(MsgType.DRIVE, 500, -250) for f in fake.frames_of(MsgType.DRIVE)[-5:]
    )
    assert all(f.flags == 0 for f in fake.frames_of(MsgType.DRIVE)[-5:])  # streamed: no ACK asked
    bridge.setpoints.motor(1, 1.0)
    assert wait_until(lambda: fake.motors == (500, 1000))
    assert bridge.wait_telemetry(lambda t: t.armed).armed


def test_arm_resets_the_setpoint(fake: FakeBoard, bridge: Bridge) -> None:
    bridge.arm()
    bridge.drive(0.8, 0.8)
    bridge.stop_all()
    bridge.arm()
    after_arm = len(fake.frames_of(MsgType.DRIVE))
    assert wait_until(lambda: len(fake.frames_of(MsgType.DRIVE)) >= after_arm + 3)
    assert fake.motors == (0, 0)


def test_nak_becomes_a_typed_error(fake: FakeBoard, bridge: Bridge) -> None:
    with pytest.raises(NotArmed, match="arm\\(\\) first"):
        bridge.drive(0.1, 0.1, ack=True)
    fake.nak = ErrorCode.BAD_PIN
    with pytest.raises(CommandRefused) as refused:
        bridge.commands.setup_ultrasonic(3, 4)
    assert refused.value.code == ErrorCode.BAD_PIN
    assert isinstance(refused.value, RuntimeError) and isinstance(refused.value, BridgeError)


def test_a_silent_board_times_out_with_advice(fake: FakeBoard) -> None:
    fake.answering = False
    with pytest.raises(NoBoard, match="roboclass bridge flash --port fake0"):
        Bridge("fake0", transport=fake.transport, timeout=0.3)
    assert not fake._open  # the port was closed again


def test_a_command_that_gets_no_answer_raises_timeout(fake: FakeBoard, bridge: Bridge) -> None:
    fake.answering = False
    with pytest.raises(BridgeTimeout, match="after 3 tries"):
        bridge.arm()
    assert bridge.stats.retries == 2
    with pytest.raises(BridgeTimeout):
        bridge.ping(timeout=0.1)


def test_a_newer_board_asks_to_update_roboclass(fake: FakeBoard) -> None:
    fake.protocol_major = PROTOCOL_MAJOR + 1
    with pytest.raises(VersionMismatch, match="newer") as error:
        Bridge("fake0", transport=fake.transport, timeout=1)
    assert "roboclass bridge flash --port fake0" in str(error.value)


def test_close_stops_the_board_and_is_idempotent(fake: FakeBoard) -> None:
    bridge = Bridge("fake0", transport=fake.transport)
    bridge.arm()
    bridge.drive(0.3, 0.3)
    assert wait_until(lambda: fake.motors == (300, 300))
    bridge.close()
    bridge.close()
    assert bridge.closed and not bridge.connected
    assert fake.received[-1].type == MsgType.STOP_ALL
    assert fake.motors == (0, 0) and not fake.armed
    assert not fake._open
    assert not any(t.name.startswith("bridge-") and t.is_alive() for t in threading.enumerate())
    with pytest.raises(BridgeClosed):
        bridge.drive(0, 0)


def test_reboot_resends_configuration_but_never_arms(fake: FakeBoard, bridge: Bridge) -> None:
    bridge.commands.setup_ultrasonic(3, 4)
    bridge.commands.subscribe("digital", 8)
    bridge.arm()
    rebooted = threading.Event()
    bridge.on_reboot(lambda hello: rebooted.set())
    fake.reboot()
    assert rebooted.wait(3)
    assert bridge.stats.reboots == 1
    assert len(fake.frames_of(MsgType.ULTRASONIC)) == 2
    assert len(fake.frames_of(MsgType.SUBSCRIBE)) == 2
    assert len(fake.frames_of(MsgType.ARM)) == 1
    assert not fake.armed


def test_unplug_and_replug_reconnects(fake: FakeBoard, bridge: Bridge) -> None:
    fake.unplug()
    assert wait_until(lambda: not bridge.connected)
    with pytest.raises(NoBoard, match="disconnected"):
        bridge.drive(0, 0)
    fake.replug()
    assert bridge.wait_connected(5)
    assert bridge.stats.reconnects == 1
    assert wait_until(lambda: bridge.stats.reboots == 1)


def test_garbage_is_counted_and_skipped(fake: FakeBoard, bridge: Bridge) -> None:
    fake.inject(b"\x12\x34\x56\x00\xff" * 3 + b"\x00")
    fake.inject(
        encode_frame(WireFrame(MsgType.LOG, 200, b"\x14hello from the board"))[:-3] + b"\x00"
    )
    assert bridge.ping()["rtt"] > 0
    assert wait_until(lambda: bridge.stats.corrupt_in >= 4)


def test_telemetry_values_in_si_units(fake: FakeBoard, bridge: Bridge) -> None:
    fake.distance_mm, fake.encoders, fake.battery_mv = 250, (12, -3), 7400
    t = bridge.wait_telemetry(lambda t: t.distance is not None)
    assert t.distance == 0.25 and bridge.telemetry.distance == 0.25
    assert bridge.telemetry.encoders == (12, -3)
    assert bridge.telemetry.voltage == 7.4
    assert bridge.telemetry.heading is None and bridge.telemetry.rates is None
    fake.distance_mm = 0xFFFF
    assert bridge.wait_telemetry(lambda t: t.distance == float("inf")).distance == float("inf")


def test_a_failing_callback_does_not_stop_the_reader(
    fake: FakeBoard, bridge: Bridge, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(_: object) -> None:
        raise RuntimeError("student bug")

    unsubscribe = bridge.on_telemetry(broken)
    with caplog.at_level(logging.ERROR, logger="firmware_bridge"):
        bridge.wait_telemetry()
        bridge.wait_telemetry()
    unsubscribe()
    assert any(r.exc_info and "student bug" in str(r.exc_info[1]) for r in caplog.records)
    assert bridge.ping()["rtt"] > 0


def test_watchdog_failsafe_is_reported(fake: FakeBoard) -> None:
    with Bridge("fake0", transport=fake.transport, setpoint_hz=0) as bridge:
        bridge.arm()
        bridge.drive(0.5, 0.5, ack=True)
        t = bridge.wait_telemetry(lambda t: t.failsafe, timeout=2)
        assert not t.armed and bridge.failsafe
        with pytest.raises(NotArmed, match="watchdog"):
            bridge.drive(0.5, 0.5, ack=True)


def test_values_out_of_range_are_value_errors(bridge: Bridge) -> None:
    with pytest.raises(ValueError, match=r"-1\.\.1"):
        bridge.drive(0, -1.01)
    with pytest.raises(ValueError, match="motors 0 and 1"):
        bridge.setpoints.motor(2, 0.1)
    with pytest.raises(ValueError, match=r"0\.\.1"):
        bridge.commands.pwm_write(3, 1.5)


def test_public_names_are_exported() -> None:
    for name in firmware_bridge.__all__:
        assert getattr(firmware_bridge, name) is not None
    public = {n for n in vars(firmware_bridge) if not n.startswith("_") and n[0].isupper()}
    assert public <= set(firmware_bridge.__all__)


def test_a_refused_config_after_reboot_does_not_stop_the_heartbeat(
    fake: FakeBoard, bridge: Bridge, caplog: pytest.LogCaptureFixture
) -> None:
    bridge.commands.setup_ultrasonic(3, 4)
    with caplog.at_level(logging.WARNING, logger="firmware_bridge"):
        fake.nak = ErrorCode.NO_RESOURCE
        fake.reboot()
        assert wait_until(lambda: bridge.stats.reboots == 1)
        assert wait_until(lambda: any("re-sending" in r.getMessage() for r in caplog.records))
    fake.nak = None
    drives = len(fake.frames_of(MsgType.DRIVE))
    assert wait_until(lambda: len(fake.frames_of(MsgType.DRIVE)) >= drives + 3)  # still streaming


def test_other_firmware_flashed_meanwhile_is_a_lasting_error(
    fake: FakeBoard, bridge: Bridge
) -> None:
    fake.protocol_major = PROTOCOL_MAJOR + 1
    fake.reboot()
    # not just "not connected": that is true from the start of the new handshake on,
    # before its HELLO_REPLY shows the other firmware and the bridge gives up the port
    assert wait_until(lambda: not fake._open)
    assert not bridge.connected
    with pytest.raises(VersionMismatch, match="newer"):
        bridge.drive(0, 0)
    with pytest.raises(VersionMismatch, match="newer"):
        bridge.arm()


def test_a_replug_without_reboot_resends_config_but_is_no_reboot(
    fake: FakeBoard, bridge: Bridge
) -> None:
    bridge.commands.setup_encoders()
    reboots: list[object] = []
    bridge.on_reboot(reboots.append)
    fake.unplug()
    assert wait_until(lambda: not bridge.connected)
    fake.replug(reboot=False)  # e.g. a powered hub kept the board running
    assert bridge.wait_connected(5)
    assert wait_until(lambda: len(fake.frames_of(MsgType.ENCODERS)) == 2)
    assert bridge.stats.reboots == 0 and reboots == []


# --- protocol 1.1: the board's name ----------------------------------------------------


def test_set_name_is_stored_read_back_and_survives_a_reboot(
    fake: FakeBoard, bridge: Bridge
) -> None:
    assert bridge.name is None and bridge.hello.as_dict()["name"] is None
    hellos = len(fake.frames_of(MsgType.HELLO))
    bridge.commands.set_name("robot-07")
    (frame,) = fake.frames_of(MsgType.SET_NAME)
    assert frame.payload == b"robot-07" and frame.flags == Flag.ACK_REQUESTED
    assert len(fake.frames_of(MsgType.HELLO)) == hellos + 1  # read back with a new HELLO
    assert fake.name == "robot-07" and bridge.name == "robot-07"
    fake.reboot()  # the name is in EEPROM
    assert wait_until(lambda: bridge.stats.reboots == 1)
    assert bridge.name == "robot-07"
    bridge.commands.set_name("")  # clears it
    assert fake.name is None and bridge.name is None


@pytest.mark.parametrize("name", ["Robot-1", "robot 1", "r" * 17, "robot\n", "rübe"])
def test_a_bad_name_is_a_value_error_and_never_sent(
    fake: FakeBoard, bridge: Bridge, name: str
) -> None:
    with pytest.raises(ValueError, match="a-z, 0-9"):
        bridge.commands.set_name(name)
    assert not fake.frames_of(MsgType.SET_NAME)


def test_a_1_0_board_works_but_cannot_be_named(
    fake: FakeBoard, caplog: pytest.LogCaptureFixture
) -> None:
    fake.protocol_minor = 0
    with (
        caplog.at_level(logging.WARNING, logger="firmware_bridge"),
        Bridge("fake0", transport=fake.transport, timeout=1.0) as bridge,
    ):
        assert bridge.hello.protocol == (1, 0) and bridge.hello.table_hash == table_hash(0)
        assert bridge.name is None
        with pytest.raises(CommandRefused, match=r"names need 1\.1") as error:
            bridge.commands.set_name("robot-01")
        assert error.value.code == ErrorCode.UNKNOWN_TYPE
    assert not fake.frames_of(MsgType.SET_NAME)
    assert not any("message table" in r.getMessage() for r in caplog.records)


def test_a_1_0_host_gets_the_1_0_table_from_a_1_1_board(fake: FakeBoard) -> None:
    """The board answers a 1.0 HELLO with 1.0's table hash: an old RoboClass sees no change."""
    port = fake.transport("fake0", 115200)
    port.write(encode_frame(WireFrame(MsgType.HELLO, 0, bytes([PROTOCOL_MAJOR, 0]))))
    reply = port.read(200)
    frames = firmware_bridge.protocol.FrameDecoder().feed(reply)
    (hello,) = [f for f in frames if f.type == MsgType.HELLO_REPLY]
    assert hello.payload[17:21] == table_hash(0).to_bytes(4, "little")
    assert hello.payload[1] == PROTOCOL_MINOR  # the board still says what it speaks


def test_another_table_is_still_reported(fake: FakeBoard, caplog: pytest.LogCaptureFixture) -> None:
    fake.protocol_minor = 0
    fake.table = 0x12345678
    with (
        caplog.at_level(logging.WARNING, logger="firmware_bridge"),
        Bridge("fake0", transport=fake.transport, timeout=1.0),
    ):
        pass
    assert any("another message table (12345678" in r.getMessage() for r in caplog.records)


def test_a_refused_name_is_a_typed_error(fake: FakeBoard, bridge: Bridge) -> None:
    fake.refuse[MsgType.SET_NAME] = ErrorCode.BAD_VALUE
    with pytest.raises(CommandRefused):
        bridge.commands.set_name("robot-01")
    assert bridge.name is None


# --- the parts: connection, commands, setpoint streamer ------------------------------


@pytest.mark.parametrize("cls", [Bridge, Connection, Commands, SetpointStreamer])
def test_no_part_has_more_than_20_public_names(cls: type) -> None:
    public = [n for n in dir(cls) if not n.startswith("_")]
    assert len(public) <= 20, public


def test_closing_the_bridge_closes_its_parts(fake: FakeBoard) -> None:
    bridge = Bridge("fake0", transport=fake.transport)
    parts = (bridge.link, bridge.setpoints)
    bridge.close()
    assert all(part.closed for part in parts)
    assert not bridge.setpoints._thread.is_alive() and not bridge.link._reader.is_alive()


def test_a_connection_alone_handshakes_answers_and_sends_nothing_on_close(
    fake: FakeBoard,
) -> None:
    with Connection("fake0", transport=fake.transport, timeout=1.0) as link:
        assert link.connected and link.hello.firmware == "1.0.0"
        assert link.ping()["rtt"] > 0
        link.request(MsgType.ARM, b"")
        assert fake.armed
    assert link.closed and not link.connected and not fake._open
    assert [f.type for f in fake.received] == [MsgType.HELLO, MsgType.PING, MsgType.ARM]
    with pytest.raises(BridgeClosed):
        link.send(MsgType.DRIVE, pack(MsgType.DRIVE, 0, 0))


def test_the_setpoint_goes_to_zero_when_the_board_stops_itself(fake: FakeBoard) -> None:
    with Bridge("fake0", transport=fake.transport, setpoint_hz=0) as bridge:
        bridge.arm()
        bridge.drive(0.5, -0.5, ack=True)
        assert bridge.setpoints.setpoint == (0.5, -0.5)
        bridge.wait_telemetry(lambda t: t.failsafe, timeout=2)  # nothing streamed: watchdog
        assert bridge.setpoints.setpoint == (0.0, 0.0)
        bridge.arm()
        bridge.setpoints.motor(1, 0.25)
        assert bridge.setpoints.setpoint == (0.0, 0.25)
        bridge.stop_all()
        assert bridge.setpoints.setpoint == (0.0, 0.0)


def test_telemetry_tells_the_level_of_a_subscribed_pin(fake: FakeBoard, bridge: Bridge) -> None:
    assert bridge.wait_telemetry().level(8) is None  # no pin subscribed
    fake.digital = 1 << 8
    t = bridge.wait_telemetry(lambda t: t.digital is not None)
    assert t.level(8) is True and t.level(9) is False


# --- protocol 1.2: telemetry periods from 1 ms ------------------------------------------


def test_telemetry_periods_from_1_ms_on_a_1_2_board(fake: FakeBoard, bridge: Bridge) -> None:
    bridge.commands.configure(telemetry_ms=1)
    assert fake.frames_of(MsgType.CONFIG)[-1].payload == pack(MsgType.CONFIG, 300, 1)
    assert fake.telemetry_ms == 1 and bridge.commands.telemetry_ms == 1
    for wrong in (-1, 5001):
        with pytest.raises(ValueError, match=r"1\.\.5000 ms, or 0 for on change"):
            bridge.commands.configure(telemetry_ms=wrong)
    assert bridge.commands.telemetry_ms == 1 and len(fake.frames_of(MsgType.CONFIG)) == 2


def test_a_1_1_board_is_not_asked_for_periods_under_10_ms(fake: FakeBoard) -> None:
    fake.protocol_minor = 1
    with Bridge("fake0", transport=fake.transport, timeout=1.0) as bridge:
        with pytest.raises(CommandRefused, match=r"periods from 1 ms need 1\.2") as error:
            bridge.commands.configure(telemetry_ms=5)
        assert "roboclass bridge flash --port fake0" in str(error.value)
        assert error.value.code == ErrorCode.BAD_VALUE
        assert fake.telemetry_ms == 20 and bridge.commands.telemetry_ms == 20
        bridge.commands.configure(telemetry_ms=10)  # what 1.1 takes
        assert fake.telemetry_ms == 10
    with pytest.raises(CommandRefused, match=r"need 1\.2"):  # opening with one, too
        Bridge("fake0", transport=fake.transport, timeout=1.0, telemetry_ms=2)
