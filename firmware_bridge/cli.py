"""``roboclass bridge``: find boards, ping, monitor, benchmark, run a simulated board."""

from __future__ import annotations

import json
import signal
import statistics
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click
from rich.console import Console
from rich.live import Live
from rich.table import Table

from firmware_bridge.client import Bridge
from firmware_bridge.errors import BridgeError
from firmware_bridge.flash_cli import flash
from firmware_bridge.messages import Telemetry
from firmware_bridge.ports import list_boards

__all__ = ["bridge"]


def _emit(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


@contextmanager
def _errors(as_json: bool) -> Iterator[None]:
    """A BridgeError becomes a one-line message (or {"error": ...}) and exit status 1."""
    try:
        yield
    except BridgeError as e:
        if as_json:
            _emit({"error": str(e), "kind": type(e).__name__})
        else:
            Console(stderr=True).print(f"[red]error:[/red] {e}", highlight=False)
        raise SystemExit(1) from None


@click.group()
def bridge() -> None:
    """Talk to a robot's microcontroller board.

    Find boards (ports), put the firmware on them (flash), check one (ping),
    watch its sensors (monitor), measure the link (bench), or run the
    firmware on a simulated board (simboard).
    """


@bridge.command()
@click.option("--all", "include_all", is_flag=True, help="Also list serial ports that are not USB.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def ports(include_all: bool, as_json: bool) -> None:
    """List serial ports with VID/PID, serial number, USB location and a board guess."""
    found = list_boards(include_all)
    if as_json:
        _emit([p.as_dict() for p in found])
        return
    if not found:
        click.echo("No USB serial ports. Is the board plugged in (and the cable not charge-only)?")
        return
    table = Table("port", "VID:PID", "serial", "location", "board", "note")
    for p in found:
        vidpid = f"{p.vid:04x}:{p.pid:04x}" if p.vid is not None and p.pid is not None else ""
        table.add_row(p.device, vidpid, p.serial_number or "", p.location or "", p.board, p.note)
    Console().print(table)


@bridge.command()
@click.argument("port")
@click.option("--count", default=10, show_default=True, help="How many PINGs.")
@click.option(
    "--timeout", default=3.0, show_default=True, help="Seconds to wait for the handshake."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def ping(port: str, count: int, timeout: float, as_json: bool) -> None:
    """Handshake with PORT and measure the round trip."""
    with _errors(as_json), Bridge.open(port, timeout=timeout, setpoint_hz=0) as link:
        start = time.perf_counter()
        results = [link.ping() for _ in range(max(1, count))]
        rtts = [r["rtt"] * 1000 for r in results]
        report: dict[str, Any] = {
            "port": port,
            "hello": link.hello.as_dict(),
            "roundtrip_ms": {
                "min": round(min(rtts), 3),
                "p50": round(statistics.median(rtts), 3),
                "max": round(max(rtts), 3),
                "count": len(rtts),
            },
            "board": {k: v for k, v in results[-1].items() if k != "rtt"},
            "seconds": round(time.perf_counter() - start, 3),
        }
    # the board's own name (EEPROM, protocol 1.1); the inventory's for a 1.0 board
    report["inventory_name"] = _inventory_name(port, link.hello.instance_id)
    report["name"] = link.hello.name or report["inventory_name"]
    if as_json:
        _emit(report)
        return
    hello = report["hello"]
    click.echo(
        f"{port}: RoboClass firmware {hello['firmware']} (protocol {hello['protocol']}) "
        f"on {hello['board']}, instance {hello['instance_id']}, boot {hello['boot_id']}"
        + (f", name {report['name']}" if report["name"] else "")
    )
    rt = report["roundtrip_ms"]
    click.echo(
        f"round trip: min {rt['min']} ms, median {rt['p50']} ms, max {rt['max']} ms ({rt['count']} pings)"
    )


def _inventory_name(port: str, instance_id: int) -> str | None:
    """The name `roboclass flash --name-pattern` gave this board, if any."""
    from firmware_bridge.inventory import Inventory, default_path  # noqa: PLC0415
    from firmware_bridge.ports import identify  # noqa: PLC0415

    if not default_path().exists():
        return None
    info = identify(port)
    identity = {"device": port, **(info.as_dict() if info else {})}
    identity["instance_id"] = f"{instance_id:08x}"
    with Inventory() as inv:
        return inv.name_of(identity)


def _row(t: Telemetry) -> dict[str, Any]:
    return {
        "seq": t.seq,
        "board_ms": t.board_ms,
        "armed": t.armed,
        "failsafe": t.failsafe,
        "distance_m": t.distance,
        "encoders": t.encoders,
        "heading_deg": t.heading,
        "rates_dps": t.rates,
        "voltage": t.voltage,
        "digital": None if t.digital is None else f"{t.digital:020b}",
        "analog": t.analog,
    }


@bridge.command()
@click.argument("port")
@click.option(
    "--duration", type=float, default=None, help="Stop after this many seconds (default: Ctrl-C)."
)
@click.option(
    "--ultrasonic",
    metavar="TRIG,ECHO",
    default=None,
    help="Measure distance with an HC-SR04 on these pins.",
)
@click.option("--encoders", is_flag=True, help="Count wheel encoder ticks on D2/D3.")
@click.option("--imu", is_flag=True, help="Read an MPU-6050 on I2C (address 0x68).")
@click.option(
    "--battery", metavar="CH[:DIVIDER]", default=None, help="Battery voltage on an analog channel."
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print the telemetry seen as JSON at the end."
)
def monitor(
    port: str,
    duration: float | None,
    ultrasonic: str | None,
    encoders: bool,
    imu: bool,
    battery: str | None,
    as_json: bool,
) -> None:
    """Show PORT's live telemetry in a table (the robot stays disarmed)."""
    stop = threading.Event()
    rows: list[dict[str, Any]] = []
    with _errors(as_json), Bridge.open(port) as link:
        if ultrasonic:
            trig, echo = (int(x) for x in ultrasonic.split(","))
            link.commands.setup_ultrasonic(trig, echo)
        if encoders:
            link.commands.setup_encoders()
        if imu:
            link.commands.setup_imu()
        if battery:
            channel, _, divider = battery.partition(":")
            link.commands.setup_battery(int(channel), float(divider or 1))
        link.on_telemetry(lambda t: rows.append(_row(t)))
        previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
        deadline = None if duration is None else time.monotonic() + duration
        try:
            if as_json:
                stop.wait(duration)
            else:
                with Live(_table(link, rows), refresh_per_second=10) as live:
                    while not stop.is_set() and (deadline is None or time.monotonic() < deadline):
                        stop.wait(0.1)
                        live.update(_table(link, rows))
        except KeyboardInterrupt:
            pass
        finally:
            signal.signal(signal.SIGTERM, previous)
        report = {
            "port": port,
            "hello": link.hello.as_dict(),
            "stats": link.stats.as_dict(),
            "telemetry": rows[-200:],
        }
    if as_json:
        _emit(report)


def _table(link: Bridge, rows: list[dict[str, Any]]) -> Table:
    table = Table("field", "value", title=f"{link.port} - Ctrl-C to stop")
    last = rows[-1] if rows else {}
    for key, value in last.items():
        table.add_row(key, "" if value is None else str(value))
    table.add_row(
        "frames in / corrupt / gaps",
        f"{link.stats.frames_in} / {link.stats.corrupt_in} / {link.stats.gaps_in}",
    )
    return table


@bridge.command()
@click.argument("port", required=False)
@click.option(
    "--sim", is_flag=True, help="Benchmark a simulated board and measure the echo floor beside it."
)
@click.option("--count", default=300, show_default=True, help="Round trips per figure.")
@click.option(
    "--cpu-seconds", default=5.0, show_default=True, help="Length of the 50 Hz CPU window."
)
@click.option(
    "--telemetry-seconds",
    default=5.0,
    show_default=True,
    help="Window of each telemetry rate, 1 and 6 channels (0: skip).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def bench(
    port: str | None,
    sim: bool,
    count: int,
    cpu_seconds: float,
    telemetry_seconds: float,
    as_json: bool,
) -> None:
    """Round trips, setpoint and telemetry rates, host CPU of PORT (or --sim), against the floor."""
    from firmware_bridge.bench import run_bench  # noqa: PLC0415 - only this command needs it

    if bool(port) == sim:
        raise click.UsageError("give a PORT or --sim (not both)")
    with _errors(as_json):
        report = run_bench(
            port,
            sim=sim,
            count=count,
            cpu_seconds=cpu_seconds,
            telemetry_seconds=telemetry_seconds,
        )
    if as_json:
        _emit(report)
        return
    click.echo(f"{report['port']}, firmware {report['firmware']}, {report['baud']} baud")
    for name, rt in report["round_trip"].items():
        floor = report.get("echo_floor", {}).get(name)
        click.echo(
            f"{name:>5}: p50 {rt['p50_ms']} ms, p99 {rt['p99_ms']} ms; wire {report['wire_ms'][name]['ms']} ms "
            f"(x{rt['x_wire']})"
            + (f"; echo floor p50 {floor['p50_ms']} ms (x{rt['x_echo_floor']})" if floor else "")
        )
    sp, cpu = report["setpoints"], report["cpu_50hz"]
    click.echo(
        f"setpoints: {sp['per_second']}/s sustained (wire limit {sp['wire_limit_per_second']}/s), lost {sp['lost']}"
    )
    click.echo(
        f"50 Hz setpoints + 50 Hz telemetry: {cpu['core_percent']}% of one core, {cpu['us_per_message']} us CPU per message"
    )
    for tm in report["telemetry"]:
        rt = tm["round_trip"]
        click.echo(
            f"telemetry, {tm['channels']} channel(s), {tm['frame_bytes']} B a frame: "
            f"{tm['frames_per_second']} frames/s = {tm['values_per_second']} values/s "
            f"(x{tm['x_wire']} of the wire's {tm['wire_limit_per_second']}/s), "
            f"lost {tm['lost']}, corrupt {tm['corrupt']}, host {tm['host_us_per_frame']} us CPU a frame; "
            f"setpoint+ACK p99 {rt['with_telemetry']['p99_ms']} ms with it, "
            f"{rt['without_telemetry']['p99_ms']} ms without (x{rt['p99_ratio']})"
        )


@bridge.command()
@click.option(
    "--firmware",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="ELF to run (default: the reference firmware).",
)
@click.option("--fast", is_flag=True, help="Run as fast as possible instead of in real time.")
@click.option(
    "--link", type=click.Path(dir_okay=False), default=None, help="Keep a symlink to the pty here."
)
@click.option(
    "--duration", type=float, default=None, help="Stop after this many seconds (default: Ctrl-C)."
)
@click.option(
    "--bootloader",
    default=None,
    metavar="optiboot|atmegaboot|HEX",
    help="Start in a bootloader, like a real UNO (optiboot) or old Nano (atmegaboot): "
    "`roboclass flash` can then flash it.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the port as JSON.")
def simboard(
    firmware: str | None,
    fast: bool,
    link: str | None,
    duration: float | None,
    bootloader: str | None,
    as_json: bool,
) -> None:
    """Run the firmware on a simulated ATmega328P and print the port to open."""
    from firmware_bridge.simboard import ATMEGABOOT, SimBoard, optiboot  # noqa: PLC0415

    stop = threading.Event()
    with _errors(as_json):
        boot = {"optiboot": optiboot, "atmegaboot": lambda: ATMEGABOOT}.get(
            bootloader or "", lambda: bootloader
        )()
    with (
        _errors(as_json),
        SimBoard(firmware, realtime=not fast, link=link, bootloader=boot) as board,
    ):
        info = {
            "port": board.port,
            "pty": board.pty,
            "firmware": str(board.firmware),
            "realtime": not fast,
            "bootloader": None if board.bootloader is None else str(board.bootloader),
        }
        if as_json:
            click.echo(json.dumps(info))
        else:
            click.echo(
                f"simulated board on {board.port}  (try: roboclass bridge ping {board.port}); Ctrl-C stops it"
            )
        previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            stop.wait(duration)
        except KeyboardInterrupt:
            pass
        finally:
            signal.signal(signal.SIGTERM, previous)


bridge.add_command(flash, "flash")  # the same command as `roboclass flash`
