"""Shared test helpers.

``system_part(name)`` finds a program the integration tests need. Without it
the test is skipped with the reason; under ``CI=true`` it fails instead, so a
missing install step can never hide behind a skip.
"""

from __future__ import annotations

import os
import shutil
import socket
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
