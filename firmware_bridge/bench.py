"""How fast the link is, against its physical floor measured in the same run.

``roboclass bridge bench --sim --json`` and ``bench/bench_bridge.py`` print:

- round trip p50/p99 of PING->PONG and of DRIVE->ACK through :class:`Bridge`;
- the wire time of the same bytes at the configured baud (the UART limit);
- with ``--sim``, the floor of the simulated link itself: a trivial echo
  firmware on the same harness (same simavr, uart_pty, Arduino serial driver)
  answering requests of exactly the same sizes, timed with bare pyserial;
- the sustained setpoint rate (DRIVE frames the board takes per second, none lost);
- host CPU per message while streaming 50 Hz setpoints and receiving 50 Hz telemetry;
- telemetry at the wire's limit, 1 and 6 analog channels (``bench_telemetry.py``):
  frames and values a second against the wire limit, lost and corrupt frames,
  host CPU per frame, and setpoint + ACK round trips with and without it.

No figure here is a test: benchmarks report, tests never assert speed.
"""

from __future__ import annotations

import logging
import statistics
import time
from typing import Any

import serial

from firmware_bridge.bench_telemetry import telemetry_bench
from firmware_bridge.client import DEFAULT_BAUD, Bridge
from firmware_bridge.protocol import Flag, Frame, MsgType, encode_frame, pack
from firmware_bridge.simboard import SimBoard, artifact

__all__ = ["run_bench"]

logger = logging.getLogger(__name__)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _summary(seconds: list[float]) -> dict[str, float]:
    ms = [s * 1000 for s in seconds]
    return {
        "p50_ms": round(statistics.median(ms), 3),
        "p99_ms": round(_pct(ms, 0.99), 3),
        "min_ms": round(min(ms), 3),
        "n": len(ms),
    }


def _sizes() -> dict[str, tuple[int, int]]:
    """Bytes on the wire (request, answer) of each measured exchange."""
    ping = len(encode_frame(Frame(MsgType.PING, 0, pack(MsgType.PING, 1))))
    pong = len(encode_frame(Frame(MsgType.PONG, 0, pack(MsgType.PONG, 1, 1, 1, 1, 1))))
    drive = len(
        encode_frame(Frame(MsgType.DRIVE, 0, pack(MsgType.DRIVE, 1, 1), Flag.ACK_REQUESTED))
    )
    ack = len(encode_frame(Frame(MsgType.ACK, 0, pack(MsgType.ACK, 1, 5))))
    return {"ping": (ping, pong), "drive": (drive, ack)}


def _echo_floor(count: int, sizes: dict[str, tuple[int, int]]) -> dict[str, dict[str, float]]:
    """Round trips through the echo firmware, same harness, same byte counts."""
    out = {}
    with SimBoard(artifact("echo_firmware.elf")) as echo:
        port = serial.Serial(echo.pty, DEFAULT_BAUD, timeout=1.0)
        try:
            for name, (request, answer) in sizes.items():
                message = bytes([answer]) + b"\x55" * (request - 2) + b"\x00"
                times = []
                for _ in range(count):
                    start = time.perf_counter()
                    port.write(message)
                    got = port.read_until(b"\x00", answer)
                    if len(got) != answer:
                        raise TimeoutError(f"echo firmware answered {len(got)} of {answer} bytes")
                    times.append(time.perf_counter() - start)
                out[name] = _summary(times)
        finally:
            port.close()
    return out


def _round_trips(bridge: Bridge, count: int) -> dict[str, dict[str, float]]:
    pings = [bridge.ping()["rtt"] for _ in range(count)]
    bridge.arm()
    drives = []
    for _ in range(count):
        start = time.perf_counter()
        bridge.drive(0, 0, ack=True)  # same bytes as any speed; a real robot stays still
        drives.append(time.perf_counter() - start)
    return {"ping": _summary(pings), "drive": _summary(drives)}


def _sustained_rate(bridge: Bridge, frames: int) -> dict[str, float]:
    """Write DRIVE setpoints back to back; the PONG behind them marks when the board had them all."""
    before = bridge.ping()
    start = time.perf_counter()
    for _ in range(frames):
        bridge.drive(0, 0)  # not acked: the streaming path
    after = bridge.ping(timeout=10)
    elapsed = time.perf_counter() - start
    return {
        "frames": frames,
        "per_second": round(frames / elapsed, 1),
        "lost": int(after["board_gaps"] - before["board_gaps"]),
        "corrupt": int(after["board_corrupt"] - before["board_corrupt"]),
    }


def _cpu(port: str, seconds: float) -> dict[str, float]:
    """Host CPU of this process while streaming 50 Hz setpoints and taking 50 Hz telemetry."""
    with Bridge.open(port, setpoint_hz=50, telemetry_ms=20) as bridge:
        bridge.arm()
        bridge.drive(0, 0)  # streamed like any setpoint; zero so a real robot stays still
        frames_before, sent_before = bridge.stats.frames_in, bridge.stats.frames_out
        wall, cpu = time.perf_counter(), time.process_time()
        time.sleep(seconds)  # the measured window, on purpose: the bridge's threads do the work
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        received = bridge.stats.frames_in - frames_before
        sent = bridge.stats.frames_out - sent_before
    messages = received + sent
    return {
        "seconds": round(wall, 2),
        "messages_in": received,
        "messages_out": sent,
        "core_percent": round(100 * cpu / wall, 2),
        "us_per_message": round(1e6 * cpu / max(messages, 1), 1),
    }


def run_bench(
    port: str | None = None,
    *,
    sim: bool = False,
    count: int = 300,
    cpu_seconds: float = 5.0,
    telemetry_seconds: float = 5.0,
) -> dict[str, Any]:
    """Measure the link on ``port``, or on a simulated board (``sim``) with the echo floor.

    ``telemetry_seconds`` is the window of each telemetry rate (1 and 6 channels; 0: none).
    """
    if not sim and port is None:
        raise ValueError("give a port, or sim=True")
    sizes = _sizes()
    board = SimBoard() if sim else None
    try:
        target = board.port if board else str(port)
        with Bridge.open(target, setpoint_hz=0) as bridge:
            hello = bridge.hello.as_dict()
            trips = _round_trips(bridge, count)
            rate = _sustained_rate(bridge, 1000)
            stats = bridge.stats.as_dict()
        cpu = _cpu(target, cpu_seconds)
        telemetry = [
            telemetry_bench(target, channels=n, seconds=telemetry_seconds, count=count)
            for n in ((1, 6) if telemetry_seconds > 0 else ())
        ]
    finally:
        if board is not None:
            board.close()
    report: dict[str, Any] = {
        "port": "simulated ATmega328P (simavr, real time)" if sim else port,
        "baud": DEFAULT_BAUD,
        "firmware": hello["firmware"],
        "round_trip": trips,
        "wire_ms": {},
        "setpoints": rate,
        "cpu_50hz": cpu,
        "telemetry": telemetry,
        "link_stats": stats,
    }
    for name, (request, answer) in sizes.items():
        wire = (request + answer) * 10 / DEFAULT_BAUD * 1000  # 8N1: 10 bits a byte
        report["wire_ms"][name] = {"bytes": request + answer, "ms": round(wire, 3)}
        trips[name]["x_wire"] = round(trips[name]["p50_ms"] / wire, 2)
    report["setpoints"]["wire_limit_per_second"] = round(
        DEFAULT_BAUD / 10 / sizes["drive"][0] * 1, 1
    )
    if sim:
        floor = _echo_floor(count, sizes)
        report["echo_floor"] = floor
        for name in sizes:
            trips[name]["x_echo_floor"] = round(trips[name]["p50_ms"] / floor[name]["p50_ms"], 3)
    return report
