"""``roboclass flash`` (also ``roboclass bridge flash``): a hub full of boards at once."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text as RichText

from firmware_bridge.boards import KINDS
from firmware_bridge.errors import BridgeError
from firmware_bridge.flash import FlashEnv, FlashResult, flash_many, name_many
from firmware_bridge.inventory import Inventory, check_pattern
from firmware_bridge.ports import list_boards

__all__ = ["flash"]


def _bar(row: dict[str, Any]) -> Table | str:
    """The write's progress on one line: a bar and its percentage."""
    share = row.get("progress")
    if share is None:
        return ""
    line = Table.grid(padding=(0, 1))
    line.add_row(
        ProgressBar(total=100, completed=round(100 * share), width=16),
        RichText(f"{100 * share:3.0f} %"),
    )
    return line


def _table(rows: dict[str, dict[str, Any]], title: str, *, progress: bool = False) -> Table:
    columns = ["port", "board", "status", *(["progress"] if progress else [])]
    table = Table(*columns, "version", "name", "seconds", "problem", title=title)
    for port, row in rows.items():
        status = row.get("status", "waiting")
        style = {"ok": "green", "failed": "red"}.get(status, "yellow")
        table.add_row(
            port,
            row.get("board", ""),
            f"[{style}]{status}[/{style}]",
            *([_bar(row)] if progress else []),
            row.get("version") or "",
            row.get("name") or "",
            "" if row.get("seconds") is None else f"{row['seconds']:.1f}",
            row.get("problem") or "",
        )
    return table


def _print_inventory(path: str | None, as_json: bool) -> None:
    with Inventory(path) as inv:
        boards = inv.boards()
        where = str(inv.path)
    if as_json:
        click.echo(json.dumps({"inventory": where, "boards": boards}, indent=2, default=str))
        return
    table = Table(
        "name", "board", "instance", "serial / location", "firmware", "result", "flashed at",
        title=f"boards in {where}",
    )  # fmt: skip
    for b in boards:
        where_ = b["serial_number"] or b["location"] or b["port"]
        table.add_row(
            b["name"] or "", b["kind"] or "", b["instance_id"] or "", where_,
            b["firmware"] or "", b["result"], b["flashed_at"],
        )  # fmt: skip
    Console().print(table)


def _run(
    targets: list[str],
    board: str,
    jobs: int | None,
    as_json: bool,
    env: FlashEnv,
    **options: Any,
) -> list[FlashResult]:
    """Flash ``targets``; without ``as_json`` show a live table, one row per board.

    Each row: the board's status (the step it is at) and a progress bar of
    its write (avrdude's bars, esptool's percentages, the UF2 copy).
    """
    rows: dict[str, dict[str, Any]] = {port: {"status": "waiting"} for port in targets}
    lock = threading.Lock()

    def on_status(port: str, status: str) -> None:
        with lock:
            rows[port]["status"] = status

    def on_progress(port: str, share: float) -> None:
        with lock:
            rows[port]["progress"] = share

    def on_done(r: FlashResult) -> None:
        with lock:
            rows[r.port].update(
                status="ok" if r.ok else "failed", board=r.kind, version=r.version,
                seconds=r.seconds, problem=r.problem,
            )  # fmt: skip

    try:
        if as_json:
            return flash_many(targets, board=board, jobs=jobs, on_done=on_done, env=env, **options)
        done = threading.Event()
        with Live(
            _table(rows, "flashing", progress=True), refresh_per_second=4, transient=True
        ) as live:

            def refresh() -> None:
                while not done.wait(0.25):
                    with lock:
                        live.update(_table(rows, "flashing", progress=True))

            painter = threading.Thread(target=refresh, name="flash-progress", daemon=True)
            painter.start()
            try:
                return flash_many(
                    targets,
                    board=board,
                    jobs=jobs,
                    on_done=on_done,
                    on_status=on_status,
                    on_progress=on_progress,
                    env=env,
                    **options,
                )
            finally:
                done.set()
                painter.join(timeout=2)
                live.update(_table(rows, "flashed", progress=True))
    except BridgeError as e:  # avrdude or the firmware is missing
        raise click.ClickException(str(e)) from None


def _report(results: list[FlashResult], inventory: str, as_json: bool, lang: str = "en") -> None:
    failed = [r for r in results if not r.ok]
    if as_json:
        report = {
            "boards": [r.as_dict() for r in results],
            "ok": len(results) - len(failed),
            "failed": len(failed),
            "inventory": inventory,
        }
        click.echo(json.dumps(report, indent=2, default=str))
        return
    rows = {
        r.port: {
            "status": "ok" if r.ok else "failed", "board": r.kind, "version": r.version,
            "name": r.name, "seconds": r.seconds, "problem": r.problem,
        }
        for r in results
    }  # fmt: skip
    console = Console()
    console.print(_table(rows, f"summary: {len(results) - len(failed)} ok, {len(failed)} failed"))
    for r in failed:
        console.print(f"[red]{escape(r.port)}[/red]: {escape(r.message(lang))}", highlight=False)
    console.print(f"inventory: {inventory}", highlight=False)


def _firmware_files(values: tuple[str, ...]) -> list[tuple[str, Path]]:
    """``--firmware [KIND=]PATH`` values as (kind, path); kind "" for a plain PATH."""
    files = []
    for value in values:
        kind, sep, rest = value.partition("=")
        if sep and kind in KINDS:
            path = Path(rest)
        else:
            kind, path = "", Path(value)
        if not path.is_file():
            raise click.BadParameter(f"{path} is not a file", param_hint="--firmware")
        files.append((kind, path))
    return files


@click.command()
@click.argument("ports", nargs=-1)
@click.option("--port", "more_ports", multiple=True, hidden=True, help="Same as PORT.")
@click.option("--all", "all_boards", is_flag=True, help="Every USB board `bridge ports` knows.")
@click.option(
    "--board",
    type=click.Choice(["auto", *KINDS]),
    default="auto",
    show_default=True,
    help="Board kind (auto: from the USB IDs; unknown ones try 115200 then 57600).",
)
@click.option(
    "--bootloader",
    type=click.Choice(["optiboot", "old"]),
    default=None,
    hidden=True,
    help="Older spelling: optiboot = --board uno, old = --board nano-old.",
)
@click.option(
    "--firmware",
    "firmware",
    multiple=True,
    metavar="[KIND=]PATH",
    help="Firmware to flash: an Intel HEX (AVR), a .uf2 (RP2040) or a merged .bin at 0x0 "
    "(ESP32); KIND= gives it to one kind only (leonardo=robot.hex). Repeatable. Default: "
    "RoboClass's own build (ATmega328P boards only; other kinds have none yet).",
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Boards at the same time (default: all).",
)
@click.option(
    "--name-pattern",
    default=None,
    metavar="PATTERN",
    help="Name the boards that pass, e.g. robot-{n:02d} (kept in the inventory).",
)
@click.option(
    "--skip-hello",
    is_flag=True,
    help="Do not check HELLO afterwards (firmware that is not RoboClass's).",
)
@click.option(
    "--uf2-drive",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="RP2040: copy the UF2 to this mounted RPI-RP2 folder (one board; no picotool).",
)
@click.option("--inventory", "show_inventory", is_flag=True, help="Print the inventory and stop.")
@click.option(
    "--inventory-file",
    type=click.Path(dir_okay=False),
    default=None,
    help="Inventory to use (default: boards.sqlite in the data folder).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def flash(
    ctx: click.Context,
    ports: tuple[str, ...],
    more_ports: tuple[str, ...],
    all_boards: bool,
    board: str,
    bootloader: str | None,
    firmware: tuple[str, ...],
    jobs: int | None,
    name_pattern: str | None,
    skip_hello: bool,
    uf2_drive: Path | None,
    show_inventory: bool,
    inventory_file: str | None,
    as_json: bool,
) -> None:
    """Flash the firmware onto boards in parallel and check each one.

    Each board: port checks (exists, permission, not in use), the board's
    backend (avrdude for UNO/Nano at the bootloader's speed(s); a 1200-baud
    touch and avr109 for Leonardo/Pro Micro; a 1200-baud touch and a UF2 copy
    for RP2040; esptool for ESP32), then a HELLO check that the expected
    firmware version runs, and with --name-pattern the board's name written
    to its EEPROM and read back. One log file per board; a summary at the end;
    the exit status is 1 if any board failed. Results (and names, with
    --name-pattern) go into the inventory (--inventory prints it).

    RoboClass has firmware for ATmega328P boards only: Leonardo, RP2040 and
    ESP32 boards need --firmware KIND=FILE.
    """
    lang = (ctx.find_root().obj or {}).get("lang", "en")
    if show_inventory:
        _print_inventory(inventory_file, as_json)
        return
    if name_pattern:
        try:
            check_pattern(name_pattern)
        except ValueError as e:
            raise click.BadParameter(str(e), param_hint="--name-pattern") from None
    files = _firmware_files(firmware)
    if bootloader and board == "auto":
        board = {"optiboot": "uno", "old": "nano-old"}[bootloader]
    targets = list(dict.fromkeys([*ports, *more_ports]))
    if all_boards:
        targets += [p.device for p in list_boards() if p.kind and p.device not in targets]
    if not targets:
        raise click.UsageError("name the boards' ports (see `roboclass bridge ports`) or use --all")
    if uf2_drive is not None and len(targets) > 1:
        raise click.UsageError("--uf2-drive is for one board at a time")
    env = FlashEnv()
    options = {"firmware": files, "check": not skip_hello, "uf2_drive": uf2_drive}
    with Inventory(inventory_file) as inv:
        results = _run(targets, board, jobs, as_json, env, **options)
        if name_pattern:  # names in the order the ports were given, then into each EEPROM
            names = {r.port: inv.claim_name(r.identity, name_pattern) for r in results if r.ok}
            results = name_many(results, names, jobs=jobs, env=env)
        results = inv.record(results, name_pattern=name_pattern)
        where = str(inv.path)
    failed = [r for r in results if not r.ok]
    _report(results, where, as_json, lang)
    if failed:
        raise SystemExit(1)
