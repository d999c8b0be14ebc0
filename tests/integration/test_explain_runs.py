"""Broken programs through the real sandboxed runner: the explanation is at the student's line.

Each run goes through bubblewrap as a lesson run does (``run_lesson``), so
the traceback's format, the file's path inside the sandbox and the line
numbers are the real ones; the result's ``explanation`` is what the
student's page shows.
"""

from __future__ import annotations

from typing import Any

import pytest

from lessons import find_lesson, run_lesson
from tests.conftest import system_part
from tests.unit.explain_programs import PROGRAMS, run

pytestmark = pytest.mark.integration

# program: kind, line, column, did-you-mean
EXPECTED: dict[str, tuple[str, int | None, int | None, str | None]] = {
    "syntax_colon": ("syntax", 3, 22, ":"),
    "indent_expected": ("indentation", 4, 1, None),
    "name_robt": ("name", 3, 6, "Robot"),
    "attr_fowrard": ("attribute", 5, 5, "forward"),
    "type_fast": ("type", 4, None, None),
    "range_forward": ("out-of-range", 4, None, None),
    "zero": ("zero-division", 4, 12, None),
    "import_hardwar": ("import", 1, None, "hardware"),
    "loop": ("endless-loop", 5, None, None),
    "estop": ("e-stop", None, None, None),
}


@pytest.fixture(scope="module", autouse=True)
def sandbox() -> None:
    system_part("bwrap")


@pytest.mark.parametrize("name", list(EXPECTED))
def test_a_broken_program_is_explained_at_its_line(name: str) -> None:
    result = run(name)
    explanation: dict[str, Any] | None = result["explanation"]
    assert explanation is not None, result
    kind, line, column, suggestion = EXPECTED[name]
    got = (
        explanation["kind"],
        explanation["line"],
        explanation["column"],
        explanation["did_you_mean"],
    )
    assert got == (kind, line, column, suggestion), (explanation, result["output"][-2000:])
    if line is not None:
        assert explanation["code"] == PROGRAMS[name].splitlines()[line - 1].strip()
    assert explanation["text"]["en"] and explanation["text"]["zh"]


def test_a_good_run_has_no_explanation() -> None:
    lesson = find_lesson("robot-dance")
    result = run_lesson(lesson, code=lesson.file("solution.py"))
    assert result.run_status == "finished" and result.as_dict()["explanation"] is None
