"""Telemetry as fast as the wire carries, against the REAL firmware under simavr.

And the simulated board itself: it keeps its speed whatever its pins do.
Figures (frames a second against the wire limit, 60 s runs) belong to
``bench/bench_bridge.py``; these tests check counts, never wall-clock speed.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from firmware_bridge.bench_telemetry import frame_bytes
from firmware_bridge.client import Bridge
from firmware_bridge.messages import Telemetry, parse_telemetry
from firmware_bridge.protocol import PROTOCOL_MAJOR, PROTOCOL_MINOR, Flag, MsgType, pack, unpack
from firmware_bridge.simboard import SimBoard, build_dir
from tests.conftest import missing, system_part
from tests.integration.test_bridge_wire import Wire

pytestmark = pytest.mark.integration


def built(name: str) -> Path:
    system_part("avr-gcc")
    path = build_dir() / name
    if not path.exists():
        missing(f"{path} is missing: run `make firmware`")
    return path


@pytest.fixture
def fast_board() -> Iterator[SimBoard]:
    built("simboard")
    with SimBoard(built("roboclass_firmware.elf"), realtime=False) as sim:
        yield sim


def _speed(board: SimBoard, seconds: float = 0.4) -> float:
    """Simulated seconds per wall-clock second, flat out, over ``seconds``."""
    wall, sim = time.perf_counter(), board.now_us()
    time.sleep(seconds)  # the measured window: the simulator runs meanwhile
    return (board.now_us() - sim) / 1e6 / (time.perf_counter() - wall)


def _levels(board: SimBoard, level: bool) -> None:
    board.drive_pin(2, level)
    board.drive_pin(3, level)


def _low_over_high(board: SimBoard, pairs: int) -> list[float]:
    """Speed with D2/D3 low over the speed just before with them high, ``pairs`` times."""
    ratios = []
    for _ in range(pairs):  # adjacent in time, so load from elsewhere hits both alike
        _levels(board, True)
        high = _speed(board)
        _levels(board, False)
        ratios.append(_speed(board) / high)
    return sorted(ratios)


def test_low_interrupt_pins_do_not_slow_the_simulated_board(fast_board: SimBoard) -> None:
    """simavr 1.6 checked a low INT0/INT1 pin on every cycle (its issue #465): ~4x slower."""
    ratios = _low_over_high(fast_board, 5)
    assert ratios[2] >= 0.7, f"D2/D3 low over high, x real time: {ratios}"  # the median
    # simavr turns strict level triggering on again at every reset: the harness must not
    fast_board.reset()
    ratios = _low_over_high(fast_board, 3)
    assert ratios[1] >= 0.7, f"after a reset: {ratios}"


# --- telemetry at the wire's limit ------------------------------------------------------

LEFT_PWM = 5


@pytest.fixture
def board() -> Iterator[SimBoard]:
    built("simboard")
    with SimBoard(built("roboclass_firmware.elf")) as sim:
        yield sim


@pytest.mark.parametrize("channels", [1, 6])
def test_back_to_back_telemetry_carries_only_what_was_asked_and_loses_nothing(
    board: SimBoard, channels: int
) -> None:
    for ch in range(channels):
        board.set_adc(ch, 1000 + 500 * ch)  # millivolts: 205, 307, ... of 1023
    frames: list[Telemetry] = []
    with Bridge.open(board.port, telemetry_ms=0) as bridge:
        for ch in range(channels):
            bridge.commands.subscribe("analog", ch, 0)
        bridge.arm()
        bridge.drive(0, 0)  # the 50 Hz setpoint stream goes on all along
        bridge.commands.configure(telemetry_ms=1)  # shorter than a frame: back to back
        first = bridge.wait_telemetry(lambda t: len(t.analog) == channels, timeout=2)
        unsubscribe = bridge.on_telemetry(frames.append)
        before = bridge.ping()
        last = bridge.wait_telemetry(lambda t: t.board_ms - first.board_ms >= 1500, timeout=30)
        unsubscribe()
        after = bridge.ping()
        stats = bridge.stats
        bridge.drive(0, 0, ack=True)  # setpoints and their ACKs still get through
        assert bridge.telemetry is not None and bridge.telemetry.armed
    assert stats.corrupt_in == 0 and stats.gaps_in == 0 and stats.telemetry_gaps == 0
    assert after["board_corrupt"] == before["board_corrupt"]
    assert after["board_gaps"] == before["board_gaps"]
    assert frames and all(
        t.distance is None and t.encoders is None and t.voltage is None and t.digital is None
        for t in frames
    )
    assert all(set(t.analog) == set(range(channels)) for t in frames)
    expected = {ch: round((1000 + 500 * ch) * 1023 / 5000) for ch in range(channels)}
    assert all(abs(frames[-1].analog[ch] - v) <= 2 for ch, v in expected.items())
    seqs = [t.seq for t in frames]
    assert all((b - a) & 0xFFFF == 1 for a, b in itertools.pairwise(seqs))
    # The board's own clock (simulated time, not the host's): at least 0.8x of what
    # 115200 baud carries of this frame. The UART is simulated cycle by cycle, so a
    # busy host slows the simulation down, not this ratio.
    per_second = ((last.seq - first.seq) & 0xFFFF) / ((last.board_ms - first.board_ms) / 1000)
    assert per_second >= 0.8 * 11520 / frame_bytes(channels), per_second


def test_the_watchdog_stops_the_motors_while_telemetry_streams(board: SimBoard) -> None:
    # setpoint_hz=0: nothing is streamed by itself, so the host goes silent when we stop
    with Bridge.open(board.port, setpoint_hz=0, watchdog_ms=300, telemetry_ms=1) as bridge:
        for ch in range(6):
            bridge.commands.subscribe("analog", ch, 0)
        bridge.arm()
        bridge.drive(0.5, 0.5, ack=True)
        board.wait_output(LEFT_PWM, lambda v: v > 0)
        silent_from = board.now_us()
        stopped = board.wait_output(LEFT_PWM, lambda v: v == 0, timeout=5)
        # simulated time: at most the watchdog + a loop pass after the last frame
        assert 0 < stopped - silent_from <= 300_000 + 50_000
        t = bridge.wait_telemetry(lambda t: t.failsafe, 2)
        assert not t.armed and len(t.analog) == 6
        assert bridge.ping()["watchdog_trips"] == 1
        assert bridge.stats.corrupt_in == 0 and bridge.stats.telemetry_gaps == 0


def test_the_board_takes_periods_from_1_ms(board: SimBoard) -> None:
    with Bridge.open(board.port) as bridge:
        bridge.commands.configure(telemetry_ms=2)
        assert bridge.commands.telemetry_ms == 2
        with pytest.raises(ValueError, match="0 for on change"):
            bridge.commands.configure(telemetry_ms=5001)


def test_a_new_channel_or_battery_is_reported_once_measured_never_as_0(board: SimBoard) -> None:
    board.set_adc(2, 2500)  # millivolts: 511.5 of 1023
    board.set_adc(3, 3700)  # the battery through a 2:1 divider: 7.4 V
    wire = Wire(board.port)
    try:
        wire.send(MsgType.HELLO, pack(MsgType.HELLO, PROTOCOL_MAJOR, PROTOCOL_MINOR))
        wire.expect(MsgType.HELLO_REPLY)
        wire.send(MsgType.CONFIG, pack(MsgType.CONFIG, 300, 1), Flag.ACK_REQUESTED)
        wire.expect(MsgType.ACK)
        # unacknowledged, so the next telemetry frame may follow each at once
        wire.send(MsgType.SUBSCRIBE, pack(MsgType.SUBSCRIBE, 2, 2, 0))
        wire.send(MsgType.BATTERY, pack(MsgType.BATTERY, 3, 2000))
        seen = [parse_telemetry(wire.expect(MsgType.TELEMETRY).payload) for _ in range(40)]
    finally:
        wire.port.close()
    analog = [t.analog[2] for t in seen if 2 in t.analog]
    volts = [t.voltage for t in seen if t.voltage is not None]
    assert analog and all(abs(v - 511.5) <= 2 for v in analog), analog
    assert volts and all(abs(v - 7.4) < 0.05 for v in volts), volts


@pytest.mark.parametrize("host_minor", [PROTOCOL_MINOR, 1])
def test_replies_cut_telemetry_short_only_for_a_host_that_knows_the_mark(
    board: SimBoard, host_minor: int
) -> None:
    for ch in range(6):
        board.set_adc(ch, 1000)
    wire = Wire(board.port)
    try:
        wire.send(MsgType.HELLO, pack(MsgType.HELLO, PROTOCOL_MAJOR, host_minor))
        wire.expect(MsgType.HELLO_REPLY)
        for ch in range(6):
            wire.send(MsgType.SUBSCRIBE, pack(MsgType.SUBSCRIBE, 2, ch, 0), Flag.ACK_REQUESTED)
            wire.expect(MsgType.ACK)
        wire.send(MsgType.CONFIG, pack(MsgType.CONFIG, 5000, 1), Flag.ACK_REQUESTED)
        wire.expect(MsgType.ACK)
        wire.send(MsgType.ARM, b"", Flag.ACK_REQUESTED)
        wire.expect(MsgType.ACK)
        wire.pending.clear()
        for _ in range(60):  # 29-byte frames back to back: most requests land mid-frame
            seq = wire.send(MsgType.DRIVE, pack(MsgType.DRIVE, 0, 0), Flag.ACK_REQUESTED)
            assert unpack(MsgType.ACK, wire.expect(MsgType.ACK).payload) == (seq, MsgType.DRIVE)
        wire.expect(MsgType.TELEMETRY)
    finally:
        wire.port.close()
    stats = wire.decoder.stats
    assert stats.corrupt == 0 and stats.gaps == 0  # link seqs: a cut frame's goes on
    if host_minor >= 2:
        assert stats.cut > 0  # cut short, counted as such, and no sequence gap for it
    else:
        assert stats.cut == 0  # an older host never sees the mark
