"""Every Python example in the READMEs and the student API page runs in the simulator."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hardware.simrun import run_script

ROOT = Path(__file__).resolve().parents[2]
READMES = ("README.md", "README.zh-CN.md", "docs/student-api.md")
BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def examples() -> list[tuple[str, str]]:
    found = []
    for name in READMES:
        text = (ROOT / name).read_text(encoding="utf-8")
        for number, block in enumerate(BLOCK.findall(text), 1):
            found.append((f"{name}#{number}", block))
    return found


EXAMPLES = examples()


def test_every_page_has_examples() -> None:
    assert {name.split("#")[0] for name, _ in EXAMPLES} == set(READMES)


@pytest.mark.parametrize(("where", "code"), EXAMPLES, ids=[where for where, _ in EXAMPLES])
def test_readme_example_runs_in_the_simulator(where: str, code: str, tmp_path: Path) -> None:
    script = tmp_path / "example.py"
    script.write_text(code, encoding="utf-8")
    run = run_script(
        script,
        fast=True,
        duration=60,
        timeout=120,
        extra_env={"PYTHONPATH": str(ROOT), "PYTHONWARNINGS": "error::DeprecationWarning"},
    )
    assert run.status == "ok", (where, run.error, run.output[-2000:])
    assert run.exit_code == 0, run.output[-2000:]
    assert "Warning" not in run.output, run.output  # no old names in our own examples
    for robot in run.robots:
        assert robot["collisions"] == [], (where, robot)


OLD_NAMES = re.compile(
    r"\.distance\.distance\b|\.drive\.move\(|robot\.release\(\)|\b(forward|backward|left|right|arc)\(speed="
)


def test_lessons_use_no_old_names() -> None:
    programs = sorted((ROOT / "lessons" / "library").glob("*/*.py"))
    assert programs
    for program in programs:
        if program.name == "check.py":
            continue
        for number, line in enumerate(program.read_text(encoding="utf-8").splitlines(), 1):
            assert not OLD_NAMES.search(line), f"{program}:{number}: {line}"
