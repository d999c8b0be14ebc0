"""Old names that still work for one release, with a warning in English and Chinese.

When a name of RoboClass's API changes, the old one keeps working until the
next release and warns with a :class:`RoboClassDeprecationWarning` (a
:class:`DeprecationWarning`) that says what to write instead, pointing at the
caller's line. Two kinds:

- a renamed method or attribute calls :func:`renamed`::

      robot.release()
      # RoboClassDeprecationWarning: robot.release() is an old name: write
      # robot.clear_stop() instead (the old name goes in the next release) / ...

- a name that left a package's top level is sent to the module it lives in
  by a module ``__getattr__`` from :func:`moved_names`; only the names in
  ``__all__`` are defined, so editors and mypy offer just those::

      # vision/__init__.py
      if not TYPE_CHECKING:
          __getattr__ = moved_names(__name__, {"decode_yolo": "vision.nms"})

      from vision import decode_yolo      # warns: use `from vision.nms import ...`
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable, Mapping

from rcbase.i18n import Text

__all__ = ["RoboClassDeprecationWarning", "moved_names", "moved_text", "renamed"]


class RoboClassDeprecationWarning(DeprecationWarning):
    """A name of RoboClass's API is old: the message says what to write instead."""


_RENAMED = Text(
    "{old} is an old name: write {new} instead (the old name goes in the next release)",
    "{old} 是旧名字：请改写成 {new}（下一个版本将删除旧名字）",
)


def renamed(old: str, new: str, *, stacklevel: int = 3) -> None:
    """Warn that ``old`` is now called ``new``, pointing at the student's line."""
    text = _RENAMED.format(old=old, new=new)
    warnings.warn(f"{text.en} / {text.zh}", RoboClassDeprecationWarning, stacklevel=stacklevel)


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
    it lives in now) is looked up there, with one :class:`RoboClassDeprecationWarning` each time."""
    homes = dict(moved)

    def __getattr__(name: str) -> object:
        module = homes.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        text = moved_text(package, module, name)
        warnings.warn(f"{text.en}\n{text.zh}", RoboClassDeprecationWarning, stacklevel=2)
        return getattr(importlib.import_module(module), name)

    return __getattr__
