"""Where RoboClass keeps its files on this computer.

Paths follow the XDG base directories, and each can be moved with an
environment variable (useful in tests and on read-only robot images):

==========================  ===============================================
``ROBOCLASS_DATA_DIR``      models, datasets, results (``~/.local/share/roboclass``)
``ROBOCLASS_CACHE_DIR``     downloaded bundles and models (``~/.cache/roboclass``)
``ROBOCLASS_CONFIG_DIR``    settings (``~/.config/roboclass``)
==========================  ===============================================
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Paths", "paths"]


def _xdg(env: Mapping[str, str], own: str, xdg: str, fallback: str) -> Path:
    if env.get(own):
        return Path(env[own]).expanduser()
    base = env.get(xdg) or str(Path.home() / fallback)
    return Path(base).expanduser() / "roboclass"


@dataclass(frozen=True)
class Paths:
    data: Path
    cache: Path
    config: Path


def paths(environ: Mapping[str, str] | None = None) -> Paths:
    """The data, cache and config folders for this user (not created here)."""
    env = os.environ if environ is None else environ
    return Paths(
        data=_xdg(env, "ROBOCLASS_DATA_DIR", "XDG_DATA_HOME", ".local/share"),
        cache=_xdg(env, "ROBOCLASS_CACHE_DIR", "XDG_CACHE_HOME", ".cache"),
        config=_xdg(env, "ROBOCLASS_CONFIG_DIR", "XDG_CONFIG_HOME", ".config"),
    )
