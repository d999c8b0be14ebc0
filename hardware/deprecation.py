"""Old names that still work for one release, with a warning in English and Chinese.

When a name in the student API changes, the old one keeps working until the
next release and warns with a :class:`RoboClassDeprecationWarning` that says
what to write instead::

    robot.release()
    # RoboClassDeprecationWarning: robot.release() is an old name: write
    # robot.clear_stop() instead (the old name goes in the next release) /
    # robot.release() 是旧名字：请改写成 robot.clear_stop()（下一个版本将删除旧名字）
"""

from __future__ import annotations

import warnings

from rcbase.i18n import Text

__all__ = ["RoboClassDeprecationWarning", "renamed"]


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
