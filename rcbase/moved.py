"""Names that left a package's top level keep working for one release, with a warning.

A package whose public list was trimmed sends its old names to the modules
they live in, through a module ``__getattr__``. Only the names in
``__all__`` are defined, so editors and mypy offer just those; an old name
still imports, and warns (in English and Chinese) where it is used::

    # vision/__init__.py
    if not TYPE_CHECKING:
        __getattr__ = moved_names(__name__, {"decode_yolo": "vision.nms"})

    from vision import decode_yolo      # DeprecationWarning: use `from vision.nms import ...`
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable, Mapping

from rcbase.i18n import Text

__all__ = ["moved_names", "moved_text"]


def moved_text(package: str, module: str, name: str) -> Text:
    """What the warning says when ``package.name`` is now only in ``module``."""
    return Text(
        f"`from {package} import {name}` is deprecated and goes in the next release: "
        f"use `from {module} import {name}`",
        f"`from {package} import {name}` 已弃用，将在下一版本中删除：请改用 "
        f"`from {module} import {name}`",
    )


def moved_names(package: str, moved: Mapping[str, str]) -> Callable[[str], object]:
    """A module ``__getattr__`` for ``package``: each name in ``moved`` (name -> the module
    it lives in now) is looked up there, with one :class:`DeprecationWarning` each time."""
    homes = dict(moved)

    def __getattr__(name: str) -> object:
        module = homes.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        text = moved_text(package, module, name)
        warnings.warn(f"{text.en}\n{text.zh}", DeprecationWarning, stacklevel=2)
        return getattr(importlib.import_module(module), name)

    return __getattr__
