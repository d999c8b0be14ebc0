"""Backends make the ports a robot's devices talk through.

``gpio`` (gpiozero pins), ``bridge`` (a microcontroller over USB serial) and
``sim`` (the simulator). :func:`open_backend` picks one by name; the choice
comes from ``Robot(backend=...)``, else ``ROBOCLASS_BACKEND``, else the kit.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping
from typing import Any

from hardware.errors import BackendError
from hardware.kit import KitProfile
from hardware.ports import Backend

__all__ = ["BACKENDS", "choose_backend", "open_backend"]

BACKENDS = ("gpio", "bridge", "sim", "remote")


def choose_backend(
    kit: KitProfile, requested: str | None, environ: Mapping[str, str] | None = None
) -> str:
    env = os.environ if environ is None else environ
    name = requested or env.get("ROBOCLASS_BACKEND") or kit.backend
    if name not in BACKENDS:
        raise BackendError(f"unknown backend {name!r}: use one of {', '.join(BACKENDS)}")
    return name


# name -> "module:class". A backend module is imported only when it is used.
_IMPLEMENTATIONS = {
    "gpio": "hardware.backends.gpio:GpioBackend",
    "bridge": "hardware.backends.bridge:BridgeBackend",
    "sim": "hardware.backends.sim:SimBackend",
    "remote": "hardware.remote:RemoteBackend",  # inside the lesson runner's child
}


def open_backend(name: str, kit: KitProfile, **options: Any) -> Backend:
    """Start backend ``name`` for ``kit``. Options go to the backend (e.g. ``pin_factory``)."""
    if name not in _IMPLEMENTATIONS:
        raise BackendError(f"unknown backend {name!r}: use one of {', '.join(BACKENDS)}")
    module_name, class_name = _IMPLEMENTATIONS[name].split(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        raise BackendError(f"the {name} backend is not part of this version of RoboClass") from exc
    backend: Backend = getattr(module, class_name)(kit, **options)
    return backend
