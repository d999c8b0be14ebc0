"""``roboclass flash`` (also ``roboclass bridge flash``): a hub full of boards at once."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.live import Live
from rich.table import Table

from firmware_bridge.boards import KINDS
from firmware_bridge.exc import BridgeError
from firmware_bridge.flash import FlashResult, flash_many, name_many
from firmware_bridge.inventory import Inventory, check_pattern
from firmware_bridge.ports import list_boards

__all__ = ["flash"]


def _table(rows: dict[str, dict[str, Any]], title: str) -> Table:
    table = Table("port", "board", "status", "version", "name", "seconds", "problem", title=title)
    for port, row in rows.items():
        status = row.get("status", "waiting")
        style = {"ok": "green", "failed": "red"}.get(status, "yellow")
        table.add_row(
            port,
            row.get("board", ""),
            f"[{style}]{status}[/{style}]",
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
    hexfile: Path | None,
    board: str,
    jobs: int | None,
    as_json: bool,
) -> list[FlashResult]:
    """Flash ``targets``; without ``as_json`` show a live table, one row per board."""
    rows: dict[str, dict[str, Any]] = {port: {"status": "waiting"} for port in targets}
    lock = threading.Lock()

    def on_status(port: str, status: str) -> None:
        with lock:
            rows[port]["status"] = status

    def on_done(r: FlashResult) -> None:
        with lock:
            rows[r.port].update(
                status="ok" if r.ok else "failed", board=r.kind, version=r.version,
                seconds=r.seconds, problem=r.problem,
            )  # fmt: skip

    try:
        if as_json:
            return flash_many(targets, hexfile, board=board, jobs=jobs, on_done=on_done)
        done = threading.Event()
        with Live(_table(rows, "flashing"), refresh_per_second=4, transient=True) as live:

            def refresh() -> None:
                while not done.wait(0.25):
                    with lock:
                        live.update(_table(rows, "flashing"))

            painter = threading.Thread(target=refresh, name="flash-progress", daemon=True)
            painter.start()
            try:
                return flash_many(
                    targets,
                    hexfile,
                    board=board,
                    jobs=jobs,
                    on_done=on_done,
                    on_status=on_status,
                )
            finally:
                done.set()
                painter.join(timeout=2)
                live.update(_table(rows, "flashed"))
    except BridgeError as e:  # avrdude or the firmware is missing
        raise click.ClickException(str(e)) from None


def _report(results: list[FlashResult], inventory: str, as_json: bool) -> None:
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
        console.print(f"[red]{r.port}[/red]: {r.error}", highlight=False)
    console.print(f"inventory: {inventory}", highlight=False)


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
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Intel HEX to flash (default: the reference firmware built by `make firmware`).",
)
@click.option("--jobs", type=int, default=None, help="Boards at the same time (default: all).")
@click.option(
    "--name-pattern",
    default=None,
    metavar="PATTERN",
    help="Name the boards that pass, e.g. robot-{n:02d} (kept in the inventory).",
)
@click.option("--inventory", "show_inventory", is_flag=True, help="Print the inventory and stop.")
@click.option(
    "--inventory-file",
    type=click.Path(dir_okay=False),
    default=None,
    help="Inventory to use (default: boards.sqlite in the data folder).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def flash(
    ports: tuple[str, ...],
    more_ports: tuple[str, ...],
    all_boards: bool,
    board: str,
    bootloader: str | None,
    firmware: str | None,
    jobs: int | None,
    name_pattern: str | None,
    show_inventory: bool,
    inventory_file: str | None,
    as_json: bool,
) -> None:
    """Flash the firmware onto boards in parallel and check each one.

    Each board: port checks (exists, permission, not in use), avrdude at the
    board's bootloader speed(s), then a HELLO check that the expected firmware
    version runs, and with --name-pattern the board's name written to its
    EEPROM and read back. One log file per board; a summary at the end; the exit
    status is 1 if any board failed. Results (and names, with
    --name-pattern) go into the inventory (--inventory prints it).
    """
    if show_inventory:
        _print_inventory(inventory_file, as_json)
        return
    if name_pattern:
        try:
            check_pattern(name_pattern)
        except ValueError as e:
            raise click.BadParameter(str(e), param_hint="--name-pattern") from None
    if bootloader and board == "auto":
        board = {"optiboot": "uno", "old": "nano-old"}[bootloader]
    targets = list(dict.fromkeys([*ports, *more_ports]))
    if all_boards:
        targets += [p.device for p in list_boards() if p.kind and p.device not in targets]
    if not targets:
        raise click.UsageError("name the boards' ports (see `roboclass bridge ports`) or use --all")
    hexfile = Path(firmware) if firmware else None
    with Inventory(inventory_file) as inv:
        results = _run(targets, hexfile, board, jobs, as_json)
        if name_pattern:  # names in the order the ports were given, then into each EEPROM
            names = {r.port: inv.claim_name(r.identity, name_pattern) for r in results if r.ok}
            results = name_many(results, names, jobs=jobs)
        results = inv.record(results, name_pattern=name_pattern)
        where = str(inv.path)
    failed = [r for r in results if not r.ok]
    _report(results, where, as_json)
    if failed:
        raise SystemExit(1)
