"""The worlds shipped with RoboClass (``hardware/sim/worlds/*.yaml``).

::

    from hardware.sim import load_world, world_path
    world = load_world(world_path("oval-track"))
"""

from __future__ import annotations

from pathlib import Path

from hardware.sim.errors import UnknownWorldError

__all__ = ["WORLDS_DIR", "list_worlds", "world_path"]

WORLDS_DIR = Path(__file__).resolve().parent / "worlds"


def list_worlds() -> list[str]:
    """Names of the shipped worlds, sorted."""
    return sorted(p.stem for p in WORLDS_DIR.glob("*.yaml"))


def world_path(name: str) -> Path:
    """The file of the shipped world ``name`` (e.g. ``"oval"``)."""
    path = WORLDS_DIR / f"{name}.yaml"
    if not path.is_file():
        raise UnknownWorldError(f"no shipped world {name!r}; there are: {', '.join(list_worlds())}")
    return path
