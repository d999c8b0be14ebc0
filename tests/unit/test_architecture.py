"""Imports point only down the layer list of docs/architecture.md."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Top to bottom. A package may import packages below it, never above.
LAYERS = [
    "roboclass",
    "district",
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


# Small modules, small classes (docs/architecture.md, STYLE.md guideline 8).
MAX_LINES = 500
MAX_PUBLIC_METHODS = 20
_PROPERTY_DECORATORS = ("property", "cached_property", "setter", "getter", "deleter")


def _name(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def our_modules() -> list[Path]:
    """Every module of our packages (not tests, benches or scripts)."""
    return sorted(path for package in LAYERS for path in (ROOT / package).rglob("*.py"))


def too_long(path: Path) -> str | None:
    """Why ``path`` is too long, or None: over MAX_LINES lines and its docstring's first
    paragraph does not say why it is longer."""
    text = path.read_text(encoding="utf-8")
    lines = len(text.splitlines())
    if lines <= MAX_LINES:
        return None
    first = (ast.get_docstring(ast.parse(text, str(path))) or "").split("\n\n")[0]
    if "longer" in first.lower():
        return None
    return f"{_name(path)}: {lines} lines, and its docstring does not say why"


def public_methods(cls: ast.ClassDef) -> list[str]:
    """The public methods ``cls`` defines itself (properties are not methods)."""
    found: list[str] = []
    for node in cls.body:
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        decorators = [ast.unparse(d).rsplit(".", 1)[-1] for d in node.decorator_list]
        if node.name.startswith("_") or any(d in _PROPERTY_DECORATORS for d in decorators):
            continue
        found.append(node.name)
    return found


def big_classes(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    return [
        f"{_name(path)}: {node.name} has {len(public_methods(node))} public methods"
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef) and len(public_methods(node)) > MAX_PUBLIC_METHODS
    ]


def test_no_module_is_over_500_lines_without_saying_why() -> None:
    wrong = [why for path in our_modules() if (why := too_long(path)) is not None]
    assert not wrong, wrong


def test_no_class_has_more_than_20_public_methods() -> None:
    wrong = [why for path in our_modules() for why in big_classes(path)]
    assert not wrong, wrong


def test_size_checkers_see_a_long_module_and_a_big_class(tmp_path: Path) -> None:
    body = "\n".join(f"x{i} = {i}" for i in range(MAX_LINES))
    long = tmp_path / "long.py"
    long.write_text(f'"""A module."""\n{body}\n', encoding="utf-8")
    said = tmp_path / "said.py"
    said.write_text(f'"""A module. It is longer: one table.\n\nMore."""\n{body}\n', "utf-8")
    later = tmp_path / "later.py"
    later.write_text(f'"""A module.\n\nIt is longer: said too late."""\n{body}\n', "utf-8")
    short = tmp_path / "short.py"
    short.write_text('"""A module."""\nx = 1\n', encoding="utf-8")
    assert too_long(long) is not None
    assert too_long(later) is not None  # only the first paragraph counts
    assert too_long(said) is None
    assert too_long(short) is None
    methods = "".join(f"    def m{i}(self) -> None: ...\n" for i in range(MAX_PUBLIC_METHODS))
    extras = (
        "    @property\n    def p(self) -> int: return 1\n"
        "    @p.setter\n    def p(self, v: int) -> None: ...\n"
        "    def _private(self) -> None: ...\n    def __len__(self) -> int: return 0\n"
    )
    ok = ast.parse(f"class Ok:\n{methods}{extras}").body[0]
    big = ast.parse(f"class Big:\n{methods}    def one_more(self) -> None: ...\n").body[0]
    assert isinstance(ok, ast.ClassDef) and isinstance(big, ast.ClassDef)
    assert len(public_methods(ok)) == MAX_PUBLIC_METHODS
    assert len(public_methods(big)) == MAX_PUBLIC_METHODS + 1


def test_district_never_imports_the_console_or_the_agent() -> None:
    """The district speaks to schools over the link (fleet.core), never through their parts."""
    wrong = set()
    for path in sorted((ROOT / "district").rglob("*.py")):
        runtime, types = fleet_imports(path)
        wrong |= {f"{path.relative_to(ROOT)} imports fleet.{p}" for p in (runtime | types)
                  if p in ("console", "agent", "enrol")}  # fmt: skip
    assert not wrong, sorted(wrong)
