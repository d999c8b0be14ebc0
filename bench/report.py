"""One way for every bench to print its figures: a markdown table under a header line.

The header says how the table was made: the exact command, the date (UTC),
the git commit (short; ``+dirty`` when the work tree has changes) and the
machine (cores, CPU model, memory, load average). docs/benchmarks.md takes
its tables from this output, so a figure there can always be traced back.

    from report import print_markdown      # bench/ is on sys.path for bench/*.py
    print_markdown(["case", "ms"], [["PING", 4.0]], notes=["goal: <= 1.2x floor"])

Run on its own it prints the header line for this machine.

    .venv/bin/python bench/report.py
"""

from __future__ import annotations

import contextlib
import datetime
import os
import shlex
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def command(argv: Sequence[str] | None = None) -> str:
    """The command line as someone would type it from the repository's root."""
    argv = list(sys.argv if argv is None else argv)
    script = Path(argv[0]).resolve() if argv else Path("?")
    try:
        shown = str(script.relative_to(ROOT))
    except ValueError:
        shown = argv[0] if argv else "?"
    return shlex.join([".venv/bin/python", shown, *argv[1:]])


def commit() -> str:
    """Short hash of HEAD, with ``+dirty`` if tracked files changed; ``unknown`` without git."""
    try:
        head = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{head}+dirty" if dirty else head


def _proc_field(path: str, name: str) -> str | None:
    try:
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            key, _, value = line.partition(":")
            if key.strip() == name:
                return value.strip()
    except OSError:
        return None
    return None


def machine() -> str:
    """Cores, CPU model, memory and the 1-minute load average of this computer."""
    parts = [f"{os.cpu_count()} cores"]
    model = _proc_field("/proc/cpuinfo", "model name") or _proc_field("/proc/cpuinfo", "Model")
    parts.append(model or sys.platform)
    mem = _proc_field("/proc/meminfo", "MemTotal")
    if mem and mem.split()[0].isdigit():
        parts.append(f"{int(mem.split()[0]) / 1024**2:.1f} GiB")
    with contextlib.suppress(OSError):
        parts.append(f"load {os.getloadavg()[0]:.1f}")
    return ", ".join(parts)


def header(argv: Sequence[str] | None = None) -> str:
    """`command` · date UTC · commit · machine, as one markdown line."""
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"`{command(argv)}` · {now} · commit {commit()} · {machine()}"


def table(columns: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A markdown table; ``|`` inside a cell is escaped."""

    def cell(value: object) -> str:
        return str(value).replace("|", "\\|")

    lines = ["| " + " | ".join(cell(c) for c in columns) + " |"]
    lines.append("|" + "---|" * len(columns))
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def print_markdown(
    columns: Sequence[str], rows: Iterable[Sequence[object]], *, notes: Iterable[str] = ()
) -> None:
    """Print the header line, the table and any notes (one paragraph each)."""
    print(header())
    print()
    print(table(columns, rows))
    for note in notes:
        print()
        print(note)


if __name__ == "__main__":
    print(header())
