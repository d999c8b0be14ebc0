"""Integration tests' shared set-up."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _mosquitto_reaches_tmp_path(request: pytest.FixtureRequest) -> None:
    """Run as root, let the ``mosquitto`` user through ``tmp_path``'s folders (never list them).

    A classroom made by root runs Mosquitto as ``mosquitto`` (it never runs as
    root), which reads its ACL after dropping root's rights: pytest's folders
    are 0700. Only the traverse bit for others is added, as ``/srv`` has it.
    """
    if os.geteuid() != 0 or "tmp_path" not in request.fixturenames:
        return
    folder: Path = request.getfixturevalue("tmp_path")
    for path in (folder, *folder.parents):
        if path == Path("/tmp") or path == path.parent:
            break
        path.chmod(path.stat().st_mode | 0o001)
