"""Telemetry at the wire's limit: how much of the wire it fills, and what it costs the link.

Part of ``roboclass bridge bench`` (:func:`firmware_bridge.bench.run_bench`).
For a frame of ``channels`` analog channels (A0.., read by the board as fast
as its ADC goes) sent every ``period_ms`` (1: back to back), with the
host's 50 Hz setpoint stream running as on any robot:

- frames and values a second against the wire limit (115200 baud, 8N1:
  11,520 bytes a second over the frame's bytes on the wire), by the board's
  own clock; lost frames (telemetry sequence gaps) and corrupt ones;
- the host's CPU per telemetry frame received (the whole process);
- setpoint + ACK round trips (acked DRIVE, one every 10 ms) with this
  telemetry and without it, in alternating blocks on the same board so that
  load from elsewhere falls on both alike; p99 with / p99 without.

No figure here is a test: benchmarks report, tests never assert speed.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from firmware_bridge.client import Bridge
from firmware_bridge.errors import BridgeTimeout, NotArmed
from firmware_bridge.protocol import Frame, MsgType, encode_frame

__all__ = ["frame_bytes", "telemetry_bench"]

# docs/benchmarks.md: "a Pi Zero 2 W is about 10x slower than this machine" (for Python)
PI_ZERO_2W_SLOWER = 10
ROUND_TRIP_EVERY = 0.01  # seconds between acked setpoints: a fast control loop
BLOCKS = 6  # alternating blocks with and without telemetry


def frame_bytes(channels: int) -> int:
    """Bytes on the wire of a telemetry frame with ``channels`` analog channels and nothing else."""
    payload = bytes(9) + bytes([(1 << channels) - 1]) + bytes(2 * channels)
    return len(encode_frame(Frame(MsgType.TELEMETRY, 0, payload)))


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _summary(ms: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(statistics.median(ms), 3),
        "p90_ms": round(_pct(ms, 0.90), 3),
        "p95_ms": round(_pct(ms, 0.95), 3),
        "p99_ms": round(_pct(ms, 0.99), 3),
        "n": len(ms),
    }


def _paced_round_trips(
    bridge: Bridge, count: int, timeouts: list[int], rearmed: list[int]
) -> list[float]:
    """``count`` acked setpoints, one every ROUND_TRIP_EVERY; round trips in ms.

    An ACK that does not come within 0.2 s is counted in ``timeouts``; a board
    whose link watchdog stopped it (this host got no CPU for 300 ms: a busy
    machine) is armed again and counted in ``rearmed``. Both are left out.
    """
    times = []
    next_at = time.perf_counter()
    for _ in range(count):
        next_at += ROUND_TRIP_EVERY
        start = time.perf_counter()
        try:
            bridge.drive(0, 0, ack=True)  # zero: a real robot stays still
        except BridgeTimeout:
            timeouts.append(bridge.stats.frames_in)
            continue
        except NotArmed:
            rearmed.append(bridge.stats.frames_in)
            bridge.arm()
            continue
        times.append((time.perf_counter() - start) * 1000)
        time.sleep(max(0.0, next_at - time.perf_counter()))  # pacing, on purpose
    return times


def _configure(bridge: Bridge, period_ms: int, timeouts: list[int]) -> None:
    """CONFIG, tried again when a starved host missed its ACK (counted in ``timeouts``)."""
    for _ in range(2):
        try:
            bridge.commands.configure(telemetry_ms=period_ms)
            return
        except BridgeTimeout:
            timeouts.append(bridge.stats.frames_in)
    bridge.commands.configure(telemetry_ms=period_ms)


def _rate(bridge: Bridge, seconds: float, wire_bytes: int) -> dict[str, float]:
    """Telemetry frames a second over ``seconds`` (the board's clock), losses and host CPU."""
    stats = bridge.stats
    first = bridge.wait_telemetry(timeout=2)
    frames, corrupt, lost = stats.frames_in, stats.corrupt_in, stats.telemetry_gaps
    cpu, wall = time.process_time(), time.perf_counter()
    time.sleep(seconds)  # the measured window: the reader thread does the work
    last = bridge.wait_telemetry(timeout=2)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    received = stats.frames_in - frames
    per_second = ((last.seq - first.seq) & 0xFFFF) / ((last.board_ms - first.board_ms) / 1000)
    limit = bridge.link.baud / 10 / wire_bytes
    return {
        "seconds": round(wall, 1),
        "frames_per_second": round(per_second, 1),
        "wire_limit_per_second": round(limit, 1),
        "x_wire": round(per_second / limit, 3),
        "lost": stats.telemetry_gaps - lost,
        "corrupt": stats.corrupt_in - corrupt,
        "host_us_per_frame": round(1e6 * cpu / max(received, 1), 1),
        "host_core_percent": round(100 * cpu / wall, 2),
        "pi_zero_2w_core_percent_estimate": round(PI_ZERO_2W_SLOWER * 100 * cpu / wall, 1),
    }


def telemetry_bench(
    port: str, *, channels: int, seconds: float = 5.0, count: int = 300, period_ms: int = 1
) -> dict[str, Any]:
    """Telemetry of ``channels`` analog channels every ``period_ms`` on ``port``: see the module."""
    wire = frame_bytes(channels)
    with Bridge.open(port, telemetry_ms=0, setpoint_hz=50) as bridge:
        bridge.arm()
        bridge.drive(0, 0)
        for ch in range(channels):
            bridge.commands.subscribe("analog", ch, 0)
        bridge.commands.configure(telemetry_ms=period_ms)
        rate = _rate(bridge, seconds, wire)
        rate["values_per_second"] = round(rate["frames_per_second"] * channels, 1)
        pools: dict[bool, list[float]] = {False: [], True: []}
        timeouts: list[int] = []
        rearmed: list[int] = []
        during = []
        per_block = max(1, count // BLOCKS)
        board_before, host_before = bridge.ping(), bridge.stats.as_dict()
        for _ in range(BLOCKS):
            for on in (False, True):
                _configure(bridge, period_ms if on else 0, timeouts)
                before = bridge.wait_telemetry(timeout=2) if on else None
                pools[on] += _paced_round_trips(bridge, per_block, timeouts, rearmed)
                after = bridge.telemetry
                if on and before is not None and after is not None and after is not before:
                    span = (after.board_ms - before.board_ms) / 1000
                    during.append(((after.seq - before.seq) & 0xFFFF) / max(span, 1e-3))
        board_after, host_after = bridge.ping(), bridge.stats.as_dict()
        for ch in range(channels):
            bridge.commands.unsubscribe("analog", ch)
    link = {  # over the round trips: both directions, as each receiver counted
        "board_corrupt": board_after["board_corrupt"] - board_before["board_corrupt"],
        "board_gaps": board_after["board_gaps"] - board_before["board_gaps"],
        **{
            k: host_after[k] - host_before[k]
            for k in ("corrupt_in", "gaps_in", "telemetry_gaps", "cut_in")
        },
    }
    off, on_ = pools[False], pools[True]
    return {
        "channels": channels,
        "period_ms": period_ms,
        "frame_bytes": wire,
        **rate,
        "round_trip": {
            "without_telemetry": _summary(off),
            "with_telemetry": _summary(on_),
            "timeouts": len(timeouts),
            "rearmed_after_watchdog": len(rearmed),
            "link": link,
            "p99_ratio": round(_pct(on_, 0.99) / _pct(off, 0.99), 3),
            "telemetry_frames_per_second": round(statistics.median(during), 1) if during else 0.0,
        },
    }
