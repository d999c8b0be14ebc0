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


# fleet's parts (docs/architecture.md): who may import whom inside fleet.
FLEET_PARTS: dict[str, set[str]] = {
    "core": set(),
    "broker": {"core"},
    "enrol": {"core", "broker"},
    "agent": {"core", "enrol"},
    "console": {"core", "enrol", "broker"},
}
# Imports for type checking only (``if TYPE_CHECKING:``) that a part may also make:
# the console's side of enrolment names the console it works for.
FLEET_TYPES_ONLY = {"enrol": {"console"}}


def fleet_imports(path: Path) -> tuple[set[str], set[str]]:
    """The fleet parts ``path`` imports: (at run time, for type checking only)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    typing_only = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            typing_only.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    runtime: set[str] = set()
    types: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        parts = {n.split(".")[1] for n in names if n.startswith("fleet.") and n.count(".") >= 1}
        (types if id(node) in typing_only else runtime).update(parts)
    return runtime, types


def test_fleet_has_only_its_parts_at_the_top() -> None:
    top = sorted(p.name for p in (ROOT / "fleet").glob("*.py"))
    parts = sorted(p.name for p in (ROOT / "fleet").iterdir() if (p / "__init__.py").is_file())
    assert top == ["__init__.py"]
    assert parts == sorted(FLEET_PARTS)


@pytest.mark.parametrize("part", sorted(FLEET_PARTS))
def test_fleet_parts_import_only_what_they_may(part: str) -> None:
    wrong = set()
    for path in sorted((ROOT / "fleet" / part).rglob("*.py")):
        runtime, types = fleet_imports(path)
        allowed = FLEET_PARTS[part] | {part}
        wrong |= {f"{path.relative_to(ROOT)} imports fleet.{p}" for p in runtime - allowed}
        types_allowed = allowed | FLEET_TYPES_ONLY.get(part, set())
        wrong |= {f"{path.relative_to(ROOT)} imports fleet.{p}" for p in types - types_allowed}
    assert not wrong, sorted(wrong)


def test_agent_and_console_never_import_each_other() -> None:
    assert "console" not in FLEET_PARTS["agent"] | FLEET_TYPES_ONLY.get("agent", set())
    assert "agent" not in FLEET_PARTS["console"] | FLEET_TYPES_ONLY.get("console", set())


def test_fleet_checker_sees_a_wrong_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(
        "from typing import TYPE_CHECKING\nfrom fleet.agent.agent import Agent\n"
        "if TYPE_CHECKING:\n    from fleet.console.console import Console\n"
    )
    assert fleet_imports(bad) == ({"agent"}, {"console"})


def test_checker_sees_a_wrong_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from fleet.broker.cli import broker\nimport hardware.sim as sim\nimport os\n")
    assert our_imports(bad) == {"fleet", "hardware"}
