"""The maintainer's inventory of boards: who is who, what runs on it, when it was flashed.

>>> with Inventory(tmp / "boards.sqlite") as inv:          # doctest: +SKIP
...     results = inv.record(flash_many(ports), name_pattern="robot-{n:02d}")
...     inv.boards()[0]["name"]
'robot-01'

One SQLite file in the data folder (``boards.sqlite``): a row per flash in
``flashes``, and the name given to each board in ``names``. A board is known
by its USB serial number when it has one, else by the instance id its
firmware keeps in EEPROM (CH340 clones have no serial number), else by its
USB location, else by its port. Names are stable: a board flashed again
keeps its name, new boards get the lowest free number of the pattern.

Since protocol 1.1 the name is also on the board: after flashing,
``roboclass flash --name-pattern`` claims each good board's name here
(:meth:`Inventory.claim_name`, in the order the ports were given), writes it
to the board's EEPROM (SET_NAME, :func:`firmware_bridge.flash.name_many`) and
reads it back; HELLO reports it (``roboclass bridge ping`` shows it). Boards
with 1.0 firmware keep their name here only.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from firmware_bridge.flash import FlashResult
from firmware_bridge.protocol import name_bytes
from rcbase.closeable import Closeable
from rcbase.paths import paths

__all__ = ["Inventory", "board_key", "check_pattern", "default_path"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS flashes (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL,
    port TEXT NOT NULL,
    kind TEXT,
    vid TEXT, pid TEXT, serial_number TEXT, location TEXT, instance_id TEXT,
    firmware TEXT,
    result TEXT NOT NULL,
    problem TEXT,
    error TEXT,
    flashed_at TEXT NOT NULL,
    duration_s REAL,
    log TEXT
);
CREATE TABLE IF NOT EXISTS names (
    key TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    named_at TEXT NOT NULL
);
"""


def default_path() -> Path:
    """``boards.sqlite`` in the RoboClass data folder."""
    return paths().data / "boards.sqlite"


def check_pattern(pattern: str) -> str:
    """``pattern`` if it makes a name from a number ``n`` (``robot-{n:02d}``), else ValueError."""
    try:
        first, second = pattern.format(n=1), pattern.format(n=2)
    except (KeyError, IndexError, ValueError) as e:
        raise ValueError(f"bad name pattern {pattern!r}: {e}; use e.g. robot-{{n:02d}}") from None
    if first == second:
        raise ValueError(f"name pattern {pattern!r} has no {{n}}: use e.g. robot-{{n:02d}}")
    name_bytes(first)  # ValueError: not a name a board can store (a-z 0-9 - _, 16 at most)
    return pattern


def board_key(identity: dict[str, Any]) -> str:
    """How the inventory knows a board: serial number, else instance id, else location, else port."""
    if identity.get("serial_number"):
        return f"usb:{identity.get('vid')}:{identity.get('pid')}:{identity['serial_number']}"
    if identity.get("instance_id"):
        return f"id:{identity['instance_id']}"
    if identity.get("location"):
        return f"location:{identity['location']}"
    return f"port:{identity.get('device', '')}"


class Inventory(Closeable):
    """The inventory file; a context manager, ``close()`` is safe to call twice."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path else default_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._db.executescript(SCHEMA)
        self._lock = threading.Lock()

    def _close(self) -> None:
        self._db.close()

    def record(
        self, results: Sequence[FlashResult], *, name_pattern: str | None = None
    ) -> list[FlashResult]:
        """Store the results; with ``name_pattern`` (``robot-{n:02d}``) name the boards that passed.

        Returns the results with each board's name (new or already known).
        """
        out = []
        now = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        with self._lock, self._db:
            for r in results:
                key = board_key(r.identity)
                name = self._name_of(key)
                if name is None and name_pattern and r.ok:
                    name = self._next_name(check_pattern(name_pattern))
                    self._db.execute(
                        "INSERT INTO names (key, name, named_at) VALUES (?, ?, ?)", (key, name, now)
                    )
                ident = r.identity
                self._db.execute(
                    "INSERT INTO flashes (key, port, kind, vid, pid, serial_number, location, "
                    "instance_id, firmware, result, problem, error, flashed_at, duration_s, log) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        key,
                        r.port,
                        r.kind,
                        ident.get("vid"),
                        ident.get("pid"),
                        ident.get("serial_number"),
                        ident.get("location"),
                        ident.get("instance_id"),
                        r.version,
                        "ok" if r.ok else "failed",
                        r.problem or None,
                        r.error or None,
                        now,
                        r.seconds,
                        r.log,
                    ),
                )
                out.append(replace(r, name=name))
        return out

    def claim_name(self, identity: dict[str, Any], pattern: str) -> str:
        """The board's name: the one it already has here, else the lowest free one of ``pattern``.

        Safe to call from several flashing workers at once.
        """
        key = board_key(identity)
        with self._lock, self._db:
            name = self._name_of(key)
            if name is None:
                name = self._next_name(check_pattern(pattern))
                now = time.strftime("%Y-%m-%dT%H:%M:%S%z")
                self._db.execute(
                    "INSERT INTO names (key, name, named_at) VALUES (?, ?, ?)", (key, name, now)
                )
        return name

    def name_of(self, identity: dict[str, Any]) -> str | None:
        """The name given to the board with this identity, if any."""
        with self._lock:
            return self._name_of(board_key(identity))

    def boards(self) -> list[dict[str, Any]]:
        """Every board's latest flash, with its name, newest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT f.*, n.name FROM flashes f LEFT JOIN names n ON n.key = f.key "
                "WHERE f.id = (SELECT MAX(id) FROM flashes g WHERE g.key = f.key) "
                "ORDER BY f.id DESC"
            ).fetchall()
        return [dict(row) for row in rows]

    def _name_of(self, key: str) -> str | None:
        row = self._db.execute("SELECT name FROM names WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row["name"])

    def _next_name(self, pattern: str) -> str:
        taken = {row["name"] for row in self._db.execute("SELECT name FROM names")}
        n = 1
        while pattern.format(n=n) in taken:
            n += 1
        return pattern.format(n=n)
