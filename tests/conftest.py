"""Shared test helpers.

``system_part(name)`` finds a program the integration tests need. Without it
the test is skipped with the reason; under ``CI=true`` it fails instead, so a
missing install step can never hide behind a skip.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"

# program -> Debian package that provides it
PARTS = {
    "mosquitto": "mosquitto",
    "mosquitto_pub": "mosquitto-clients",
    "simavr": "simavr",
    "avr-gcc": "gcc-avr",
    "avrdude": "avrdude",
    "chromium": "chromium",
    "bwrap": "bubblewrap",
}


def system_part(program: str) -> Path:
    found = shutil.which(program) or shutil.which(program, path="/usr/sbin:/usr/bin:/sbin:/bin")
    if found:
        return Path(found)
    package = PARTS.get(program, program)
    missing(f"{program} not found: install the Debian package {package} (make system-deps)")


def missing(message: str) -> NoReturn:
    """A system part the test needs is absent: skip locally, fail under CI=true."""
    if IN_CI:
        pytest.fail(f"CI=true and {message}")
    pytest.skip(message)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point RoboClass's data, cache and config folders into a temp dir."""
    for name in ("DATA", "CACHE", "CONFIG"):
        monkeypatch.setenv(f"ROBOCLASS_{name}_DIR", str(tmp_path / name.lower()))
    return tmp_path


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


#: Lines of each failed test's captured errors repeated at the very end of the output.
ERROR_TAIL = 25


def pytest_unconfigure(config: pytest.Config) -> None:
    """After the last line, each failed test's last captured error lines (a server's traceback
    logged on its own thread, say), so a log that keeps only its end still shows why."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return
    for report in reporter.stats.get("failed", []):
        lines = [
            line
            for name, text in report.sections
            if name.startswith(("Captured stderr", "Captured log"))
            for line in text.splitlines()
            if line.strip()
        ]
        if lines:
            reporter.write_sep("-", f"errors captured in {report.nodeid}")
            for line in lines[-ERROR_TAIL:]:
                reporter.write_line(line[:300])
