"""What ``roboclass doctor``'s checks see and say: :class:`System` and :class:`Result`.

The checks (:mod:`roboclass.doctor`) read the computer only through
:class:`System`, so tests can hand them any situation; each answers with a
:class:`Result`.
"""

from __future__ import annotations

import datetime as dt
import glob as globmod
import grp
import importlib
import os
import platform
import shutil
import struct
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from rcbase.i18n import Lang, Text
from rcbase.paths import paths
from roboclass.doctor_roles import Setup, find_setup

if TYPE_CHECKING:
    from lessons.sandbox import SandboxCheck

__all__ = ["Check", "Result", "Status", "System", "detect_setup"]


class Status(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class Result:
    """What one check found: a status, what it saw, and what to do."""

    check: str
    status: Status
    detail: Text
    advice: Text = field(default_factory=lambda: Text("", ""))

    def as_dict(self, lang: Lang) -> dict[str, str]:
        return {
            "check": self.check,
            "status": self.status.value,
            "detail": self.detail(lang),
            "advice": self.advice(lang),
        }


def _read_text(path: str) -> str | None:
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def _group_names() -> set[str]:
    names = set()
    for gid in os.getgroups():
        try:
            names.add(grp.getgrgid(gid).gr_name)
        except KeyError:
            continue
    return names


def _module_version(name: str) -> str:
    module = importlib.import_module(name)
    return str(getattr(module, "__version__", "?"))


def _requires() -> list[str]:
    return list(metadata.requires("roboclass") or [])


def _dist_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _sandbox() -> SandboxCheck:
    from lessons.sandbox import check  # noqa: PLC0415 - it starts a sandbox to be sure

    return check()


def _on_pi() -> bool:
    return "raspberry pi" in (_read_text("/proc/device-tree/model") or "").lower()


def detect_setup(role: str | None = None, kit: str | None = None) -> Setup:
    """This computer's role and kit (:func:`~roboclass.doctor_roles.find_setup`)."""
    return find_setup(
        role, kit, on_pi=_on_pi, has_console=lambda: _dist_version("fastapi") is not None
    )


@dataclass(frozen=True)
class System:
    """Everything the checks read from the computer, replaceable in tests."""

    python: tuple[int, int, int] = tuple(sys.version_info[:3])  # type: ignore[assignment]
    pointer_bits: int = struct.calcsize("P") * 8
    machine: str = platform.machine()
    is_root: bool = os.geteuid() == 0
    which: Callable[[str], str | None] = shutil.which
    read_text: Callable[[str], str | None] = _read_text
    glob: Callable[[str], list[str]] = globmod.glob
    groups: Callable[[], set[str]] = _group_names
    module_version: Callable[[str], str] = _module_version
    requires: Callable[[], list[str]] = _requires
    dist_version: Callable[[str], str | None] = _dist_version
    disk_free: Callable[[Path], int] = lambda p: shutil.disk_usage(p).free
    data_dir: Path = field(default_factory=lambda: paths().data)
    today: Callable[[], dt.date] = dt.date.today
    sandbox: Callable[[], SandboxCheck] = _sandbox
    setup: Setup = field(default_factory=detect_setup)

    def on_pi(self) -> bool:
        model = self.read_text("/proc/device-tree/model") or ""
        return "raspberry pi" in model.lower()


Check = Callable[[System], Result]
