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
from firmware_bridge.messages import Telemetry
from firmware_bridge.simboard import SimBoard, build_dir
from tests.conftest import missing, system_part

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


def test_low_interrupt_pins_do_not_slow_the_simulated_board(fast_board: SimBoard) -> None:
    """simavr 1.6 checked a low INT0/INT1 pin on every cycle (its issue #465): ~4x slower."""
    high: list[float] = []
    low: list[float] = []
    for _ in range(3):  # alternate, so load from elsewhere hits both sides alike
        _levels(fast_board, True)
        high.append(_speed(fast_board))
        _levels(fast_board, False)
        low.append(_speed(fast_board))
    assert sum(low) >= 0.7 * sum(high), f"D2/D3 low: {low}, high: {high} (x real time)"

    # simavr turns strict level triggering on again at every reset: the harness must not
    fast_board.reset()
    _levels(fast_board, True)
    high_after = _speed(fast_board)
    _levels(fast_board, False)
    low_after = _speed(fast_board)
    assert low_after >= 0.7 * high_after, f"after a reset: low {low_after}, high {high_after}"


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
