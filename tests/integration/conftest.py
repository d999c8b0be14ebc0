"""Integration tests' shared set-up."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def tmp_path(tmp_path: Path) -> Iterator[Path]:
    """pytest's ``tmp_path``; run as root, a folder the ``mosquitto`` user may pass through.

    A classroom made by root runs Mosquitto as ``mosquitto`` (it never runs as
    root), which reads its ACL after dropping root's rights; pytest keeps its
    folders 0700 (and closes ``/tmp/pytest-of-root`` again at every start).
    So as root the folder is ``/tmp/roboclass-test-*`` with mode 0711: others
    may pass through, never list it.
    """
    if os.geteuid() != 0:
        yield tmp_path
        return
    folder = Path(tempfile.mkdtemp(prefix="roboclass-test-"))
    folder.chmod(0o711)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
