"""Errors a child understands: what went wrong in a run, at the student's own line.

:func:`explain` reads what a finished run left (the output's tail with its
traceback, the student's code, how the run ended) and gives an
:class:`Explanation`: the line (and column, where Python says) in the
student's own file — never the runner's or the library's —, the exception
and its original message, a short explanation in English and Chinese that
says what to do next, and a did-you-mean where one fits (from the names in
the student's code, Python's builtins and the student API)::

    from lessons.explain import explain

    found = explain(result.output, code, entry="main.py", status="error", error=result.error)
    if found is not None:
        print(found.line, found.text("zh"), found.did_you_mean)
        page_data = found.to_json()

:func:`lessons.runner.run_lesson` puts ``to_json()`` in the result's
``explanation``. What each text says is in :mod:`lessons.explain_texts`.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Any, Literal

from lessons.explain_rules import explain_exception
from lessons.explain_texts import TEXTS, Kind
from lessons.grading import RunStatus
from lessons.sandbox import HOME
from lessons.tracebacks import Frame, ParsedTraceback, columns_of, last_traceback
from rcbase.i18n import Lang, Text

__all__ = ["Explanation", "Kind", "explain"]


#: Kinds that are no mistake in the student's program.
NOT_YOURS = frozenset({Kind.TIME_UP, Kind.ESTOP, Kind.STOPPED, Kind.CRASH})


@dataclass(frozen=True)
class Explanation:
    """What went wrong, where in the student's code, and what to do next."""

    kind: Kind
    text: Text
    exception: str | None = None  # the class name: "NameError", "BadValueError"
    message: str | None = None  # the original message, or the runner's line
    line: int | None = None  # 1-based, in the student's file
    column: int | None = None  # 1-based, where Python says
    end_column: int | None = None  # 1-based, just after what Python marks (for underlining)
    code: str | None = None  # the student's line, as written (stripped)
    did_you_mean: str | None = None

    @property
    def yours(self) -> bool:
        """Whether changing the program is what fixes it (False: the teacher's STOP...)."""
        return self.kind not in NOT_YOURS

    def __call__(self, lang: Lang) -> str:
        return self.text(lang)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "exception": self.exception,
            "message": self.message,
            "line": self.line,
            "column": self.column,
            "end_column": self.end_column,
            "code": self.code,
            "did_you_mean": self.did_you_mean,
            "text": {"en": self.text.en, "zh": self.text.zh},
            "yours": self.yours,
        }


def explain(  # noqa: PLR0911 - one return per way a run ends
    output: str,
    code: str,
    *,
    entry: str = "main.py",
    status: RunStatus | str = RunStatus.ERROR,
    error: str | None = None,
    stopped_by: Literal["teacher", "student"] | None = None,
) -> Explanation | None:
    """Explain how a run ended; None when nothing went wrong.

    ``output`` is the run's output (its tail is enough), ``code`` the
    student's program, ``entry`` its file name in the sandbox (the lesson's
    ``entry``), ``status`` and ``error`` the runner's. A stopped run is the
    teacher's e-stop unless ``stopped_by="student"`` (their own Stop button).
    """
    status = RunStatus(status)
    lines = code.splitlines()
    if status is RunStatus.STOPPED:
        kind = Kind.STOPPED if stopped_by == "student" else Kind.ESTOP
        return Explanation(kind, TEXTS[kind.name.lower()], message=error)
    if status is RunStatus.TIMEOUT or (status is RunStatus.CRASHED and "SIGXCPU" in (error or "")):
        return _endless_loop(code, lines, error)
    if status is RunStatus.CRASHED:
        found = re.search(r"\bSIG[A-Z0-9]+", error or "")
        text = TEXTS["crash"].format(signal=found[0] if found else "?")
        return Explanation(Kind.CRASH, text, message=error)
    if status is RunStatus.TIME_UP:
        return Explanation(Kind.TIME_UP, TEXTS["time_up"], message=error)
    if status is RunStatus.FINISHED:
        return None
    tb = last_traceback(output)
    processes = _too_many_processes(output, error)
    if tb is None:
        if processes is not None:
            return Explanation(Kind.PROCESSES, TEXTS["processes"], "BlockingIOError", processes)
        if "MemoryError" in (error or ""):
            return Explanation(Kind.MEMORY, TEXTS["memory"], "MemoryError", error)
        return Explanation(Kind.EXIT, TEXTS["exit"], message=error)
    frame = tb.last_frame_in(str(HOME / entry))
    real = lines[frame.line - 1] if frame and 0 < frame.line <= len(lines) else None
    if processes is not None:  # many processes print at once: the last traceback may be any
        kind, text, suggestion = Kind.PROCESSES, TEXTS["processes"], None
        tb = ParsedTraceback(tb.frames, "BlockingIOError", processes.partition(": ")[2])
    else:
        kind, text, suggestion = explain_exception(tb, code, real or "")
    columns = _columns(kind, frame, real)
    return Explanation(
        kind,
        text,
        exception=tb.name,
        message=tb.message,
        line=frame.line if frame else None,
        column=columns[0] if columns else None,
        end_column=columns[1] if columns else None,
        code=real.strip() if real is not None else None,
        did_you_mean=suggestion,
    )


def _columns(kind: Kind, frame: Frame | None, real: str | None) -> tuple[int, int] | None:
    """Where Python's ``^`` marks are; an indentation error is about the line's start."""
    if frame is None or real is None:
        return None
    if kind is Kind.INDENTATION:
        return 1, max(2, len(real) - len(real.lstrip()) + 1)
    return columns_of(frame, real)


def _too_many_processes(output: str, error: str | None) -> str | None:
    """The line that says the program could not start another process, if one does."""
    return next(
        (
            line
            for line in [error or "", *reversed(output.splitlines())]
            if line.startswith("BlockingIOError") and "Resource temporarily unavailable" in line
        ),
        None,
    )


def _endless_loop(code: str, lines: list[str], error: str | None) -> Explanation:
    found = _busy_loop(code)
    if found is None:
        return Explanation(Kind.ENDLESS_LOOP, TEXTS["endless_loop"], message=error)
    line, forever = found
    return Explanation(
        Kind.ENDLESS_LOOP,
        TEXTS["endless_loop_at" if forever else "busy_loop_at"],
        message=error,
        line=line,
        code=lines[line - 1].strip(),
    )


_WAITS = frozenset({"sleep", "wait", "wait_for_press", "wait_for_release", "exit", "_exit", "quit"})


def _busy_loop(code: str) -> tuple[int, bool] | None:
    """The loop that most likely ran out the time, and whether it is a ``while True:``.

    First a ``while True:`` that neither waits (``sleep``...) nor can be left;
    else a ``while`` that never waits: one that only checks, again and again,
    spends the wall-clock time while the simulated robot hardly moves (a
    reading takes a few simulated milliseconds).
    """
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return None
    loops = sorted(
        (node for node in ast.walk(tree) if isinstance(node, ast.While)), key=lambda n: n.lineno
    )
    busy = [
        loop
        for loop in loops
        if not any(_waits_or_leaves(inner) for stmt in loop.body for inner in ast.walk(stmt))
    ]
    forever = [n for n in busy if isinstance(n.test, ast.Constant) and n.test.value]
    if forever:
        return forever[0].lineno, True
    waiting = [n for n in busy if not isinstance(n.test, ast.Constant)]
    return (waiting[0].lineno, False) if waiting else None


def _waits_or_leaves(node: ast.AST) -> bool:
    if isinstance(node, ast.Break | ast.Return | ast.Raise):
        return True
    if isinstance(node, ast.Call):
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        return name in _WAITS
    return False
