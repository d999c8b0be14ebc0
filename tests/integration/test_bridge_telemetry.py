"""Telemetry as fast as the wire carries, against the REAL firmware under simavr.

And the simulated board itself: it keeps its speed whatever its pins do.
Figures (frames a second against the wire limit, 60 s runs) belong to
``bench/bench_bridge.py``; these tests check counts, never wall-clock speed.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

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
