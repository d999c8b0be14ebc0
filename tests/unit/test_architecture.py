"""Imports point only down the layer list of docs/architecture.md."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Top to bottom. A package may import packages below it, never above.
LAYERS = [
    "roboclass",
    "fleet",
    "lessons",
    "vision",
    "models",
    "hardware",
    "firmware_bridge",
    "rcbase",
]
# These import nothing of ours but the base layer.
LEAVES = {"models", "firmware_bridge"}
BASE = "rcbase"


def our_imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found.update(n.split(".")[0] for n in names if n.split(".")[0] in LAYERS)
    return found


@pytest.mark.parametrize("package", LAYERS)
def test_imports_point_down(package: str) -> None:
    allowed = {BASE} if package in LEAVES else set(LAYERS[LAYERS.index(package) + 1 :])
    allowed.add(package)
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"package {package} has no modules"
    wrong = {
        f"{path.relative_to(ROOT)} imports {name}"
        for path in files
        for name in our_imports(path) - allowed
    }
    assert not wrong, sorted(wrong)


def test_checker_sees_a_wrong_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from fleet.cli import broker\nimport hardware.sim as sim\nimport os\n")
    assert our_imports(bad) == {"fleet", "hardware"}
