"""The blocks a lesson may offer, and a lesson's block programs.

The names come from one file, ``lessons/blocks.json``, which the block editor's
bundle (``frontend/src/blockset.js``) is built from too, so the lesson format and
the page agree. A lesson offers blocks in ``lesson.yaml``::

    blocks:
      toolbox: [start, drive_seconds, turn_seconds, repeat, wait]
    steps:
      - title: ...
        toolbox: [start, drive_seconds]     # optional: fewer blocks in this step

and may carry block programs as Blockly's JSON: ``blocks/starter.json`` and
``blocks/solution.json``.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

__all__ = [
    "BLOCK_NAMES",
    "block_names",
    "block_types",
    "check_block_program",
    "program_types",
    "unknown_blocks",
]

_FILE = Path(__file__).with_name("blocks.json")


@functools.cache
def block_names() -> tuple[str, ...]:
    """Every block name a toolbox may list, in the toolbox's order."""
    data = json.loads(_FILE.read_text(encoding="utf-8"))
    return tuple(data["blocks"])


BLOCK_NAMES = block_names()


@functools.cache
def _types() -> dict[str, tuple[str, ...]]:
    data = json.loads(_FILE.read_text(encoding="utf-8"))
    return {name: tuple(data.get("types", {}).get(name, [name])) for name in data["blocks"]}


def block_types(names: list[str]) -> set[str]:
    """The Blockly block types a toolbox of these names offers (``repeat``: controls_repeat_ext)."""
    return {kind for name in names for kind in _types().get(name, ())}


def program_types(program: Any) -> set[str]:
    """Every block type a program (Blockly's JSON) is built of, its shadows left out (the
    number in "wait 1 seconds" comes with the block)."""
    found: set[str] = set()

    def walk(block: Any) -> None:
        if not isinstance(block, dict):
            return
        found.add(str(block.get("type")))
        for child in (block.get("inputs") or {}).values():
            if isinstance(child, dict):
                walk(child.get("block"))
        if isinstance(block.get("next"), dict):
            walk(block["next"].get("block"))

    for top in (program.get("blocks") or {}).get("blocks") or []:
        walk(top)
    return found


def unknown_blocks(names: list[str]) -> str | None:
    """An en/zh message naming the blocks that do not exist, or None when all do."""
    unknown = [n for n in names if n not in BLOCK_NAMES]
    if not unknown:
        return None
    listed = ", ".join(unknown)
    return (
        f"unknown block {listed}: the blocks are {', '.join(BLOCK_NAMES)} "
        f"/ 没有积木 {listed}：请从上面的积木名称里选"
    )


def check_block_program(path: Path) -> dict[str, Any]:
    """A block program (Blockly's JSON) read from ``path``; ValueError says what is wrong."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: not JSON: {exc} / 不是正确的 JSON 文件") from exc
    blocks = data.get("blocks") if isinstance(data, dict) else None
    if not isinstance(blocks, dict) or not isinstance(blocks.get("blocks"), list):
        raise ValueError(
            f'{path}: not a Blockly program (no "blocks": {{"blocks": [...]}}) '
            "/ 不是积木程序（缺少 blocks）"
        )
    if not any(b.get("type") == "start" for b in blocks["blocks"] if isinstance(b, dict)):
        raise ValueError(
            f'{path}: no "when the program starts" block (type "start") / 缺少“程序开始时”积木'
        )
    program: dict[str, Any] = data
    return program
