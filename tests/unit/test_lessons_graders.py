"""Every built-in grader is typed: mypy strict finds nothing in any check.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from lessons import builtin_lessons

mypy_api = pytest.importorskip("mypy.api")
GRADERS = [lesson.file("check.py") for lesson in builtin_lessons()]


@pytest.mark.parametrize("grader", GRADERS, ids=[g.parent.name for g in GRADERS])
def test_grader_is_typed(grader: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    cache = tmp_path_factory.getbasetemp() / "mypy-graders"
    out, err, status = mypy_api.run(
        ["--strict", "--follow-imports=silent", "--cache-dir", str(cache), str(grader)]
    )
    assert status == 0, out + err
