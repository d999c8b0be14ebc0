"""Backends make the ports a robot's devices talk through.

``gpio`` (gpiozero pins), ``bridge`` (a microcontroller over USB serial) and
``sim`` (the simulator). :func:`open_backend` picks one by name; the choice
comes from ``Robot(backend=...)``, else ``ROBOCLASS_BACKEND``, else the kit.

Each backend says which options it understands: its ``OPTIONS`` if it has
them, else the keyword parameters of its ``__init__``. An option a backend
does not understand (``Robot(realtime=False)`` on a real robot) is refused
with :class:`~hardware.errors.BackendOptionError` before anything starts.
"""

from __future__ import annotations

import importlib
import inspect
import os
from collections.abc import Mapping
from typing import Any

from hardware.errors import BackendError, BackendOptionError
from hardware.kit import KitProfile
from hardware.ports import Backend

__all__ = ["BACKENDS", "backend_options", "choose_backend", "open_backend"]

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
    cls = getattr(module, class_name)
    understood = backend_options(cls)
    unknown = sorted(set(options) - understood)
    if unknown:
        names = ", ".join(repr(u) for u in unknown)
        known = ", ".join(sorted(understood)) or "none"
        raise BackendOptionError(
            f"the {name} backend does not understand {names}: its options are {known} "
            f"(options like realtime= or world= are for backend='sim') / "
            f"{name} 后端不认识选项 {names}：它的选项是 {known}"
            f"（realtime=、world= 这类选项只用于 backend='sim'）"
        )
    backend: Backend = cls(kit, **options)
    return backend


def backend_options(cls: type) -> frozenset[str]:
    """The options backend class ``cls`` understands (its ``OPTIONS``, else its keywords)."""
    declared = getattr(cls, "OPTIONS", None)
    if declared is not None:
        return frozenset(declared)
    params = list(inspect.signature(cls).parameters.values())[1:]  # after kit
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        raise TypeError(f"{cls.__name__} takes **options: declare them in {cls.__name__}.OPTIONS")
    return frozenset(
        p.name
        for p in params
        if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    )
