"""Read a Python traceback back from a program's output, as :mod:`lessons.explain` needs it.

The student's program prints its traceback to stderr (``hardware.child``);
the runner keeps the tail of the output. :func:`last_traceback` finds the
last traceback in that text and splits it into frames and the exception::

    tb = last_traceback(output)
    if tb is not None:
        frame = tb.last_frame_in("/home/student/main.py")
        print(tb.exception, tb.message, frame.line if frame else None)

Only the text is read: nothing of the program is imported or run here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

__all__ = ["Frame", "ParsedTraceback", "columns_of", "last_traceback"]

HEADER = "Traceback (most recent call last):"
_FRAME = re.compile(r'^  File "(?P<file>[^"]*)", line (?P<line>\d+)(?:, in (?P<func>.+))?$')
_EXCEPTION = re.compile(r"^(?P<name>[A-Za-z_][\w.]*)(?::\s?(?P<message>.*))?$")
_CARET = re.compile(r"^\s*[\^~]+\s*$")
_SOURCE_INDENT = "    "


@dataclass(frozen=True)
class Frame:
    """One ``File "...", line N, in f`` entry (``function`` is None where Python names none:
    the place of a SyntaxError)."""

    file: str
    line: int
    function: str | None = None
    source: str | None = None  # the line as the traceback shows it (stripped)
    caret: int | None = None  # where the ``^`` marks start in ``source`` (0-based), if shown
    caret_end: int | None = None  # and where they end (exclusive)


@dataclass(frozen=True)
class ParsedTraceback:
    """The last traceback of an output: its frames, outermost first, and the exception."""

    frames: tuple[Frame, ...]
    exception: str  # as printed: ``NameError``, ``hardware.errors.BadValueError``
    message: str  # the first line of its message ("" when there is none)

    @property
    def name(self) -> str:
        """The exception's class name without its module: ``BadValueError``."""
        return self.exception.rsplit(".", 1)[-1]

    def last_frame_in(self, path: str) -> Frame | None:
        """The innermost frame in the file at ``path``; failing that, in a file of the same
        name (a program run outside the sandbox has another folder)."""
        for match in (
            lambda f: f.file == path,
            lambda f: PurePosixPath(f.file).name == PurePosixPath(path).name,
        ):
            for frame in reversed(self.frames):
                if match(frame):
                    return frame
        return None


def last_traceback(output: str) -> ParsedTraceback | None:
    """The last traceback in ``output``, or None when there is none (or it is cut off)."""
    lines = output.splitlines()
    starts = [i for i, line in enumerate(lines) if line == HEADER]
    if not starts:
        return None
    frames: list[Frame] = []
    for line in lines[starts[-1] + 1 :]:
        found = _FRAME.match(line)
        if found:
            frames.append(Frame(found["file"], int(found["line"]), found["func"]))
        elif line.startswith(" "):
            if frames:
                frames[-1] = _with_detail(frames[-1], line)
        else:
            exc = _EXCEPTION.match(line)
            if exc is None:
                return None
            return ParsedTraceback(tuple(frames), exc["name"], (exc["message"] or "").strip())
    return None


def _with_detail(frame: Frame, line: str) -> Frame:
    """The frame with its source line, or where its ``^`` marks are, added."""
    if not line.startswith(_SOURCE_INDENT):
        return frame  # "  [Previous line repeated 987 more times]"
    text = line[len(_SOURCE_INDENT) :]
    if frame.source is None:
        return Frame(frame.file, frame.line, frame.function, text)
    if frame.caret is None and _CARET.match(line):
        start, end = len(text) - len(text.lstrip()), len(text.rstrip())
        return Frame(frame.file, frame.line, frame.function, frame.source, start, end)
    return frame


def columns_of(frame: Frame, real_line: str | None) -> tuple[int, int] | None:
    """Where the traceback's ``^`` marks are in the student's own line: the 1-based column of
    the first and of the one after the last.

    A traceback shows the line with its indentation taken off; the real line
    (from the student's code) puts it back.
    """
    if frame.caret is None or frame.caret_end is None or frame.source is None:
        return None
    shown = frame.source.rstrip()
    start = real_line.find(shown) if shown and real_line is not None else -1
    if start < 0:
        return None
    return start + frame.caret + 1, start + frame.caret_end + 1
