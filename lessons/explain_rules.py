"""The rules :mod:`lessons.explain` follows for each exception a student's program raised.

:func:`explain_exception` reads the exception's name and message (and the
student's code, for the names in it) and finds the kind, the text from
:mod:`lessons.explain_texts` and a did-you-mean: over the names in the
student's code, Python's builtins and the student API's own names,
attributes and signatures (looked up in this process: ``hardware``,
``vision``, ``lessons`` and the few standard modules students use; nothing
of the student's is imported)::

    kind, text, suggestion = explain_exception(last_traceback(output), code)
"""

from __future__ import annotations

import ast
import builtins
import difflib
import importlib
import inspect
import keyword
import re
import sys
from collections.abc import Iterable
from types import ModuleType
from typing import Any

from lessons.explain_texts import TEXTS, Kind
from lessons.sandbox import STUDENT_PACKAGES
from lessons.tracebacks import ParsedTraceback
from rcbase.i18n import Text

__all__ = ["Found", "explain_exception"]

# -- exceptions -------------------------------------------------------------------------

Found = tuple[Kind, Text, str | None]
"""What a rule found: the kind, the text, and a did-you-mean (or None)."""


def explain_exception(tb: ParsedTraceback, code: str, line: str = "") -> Found:  # noqa: PLR0911 - one per kind
    name, message = tb.name, tb.message
    if name in ("IndentationError", "TabError"):
        return _indentation(name, message)
    handlers = {
        "SyntaxError": _syntax,
        "NameError": lambda m: _name(m, code),
        "UnboundLocalError": _unbound,
        "AttributeError": lambda m: _attribute(m, line),
        "MissingPartError": lambda m: _attribute(m, line),
        "TypeError": _type,
        "BackendOptionError": _type,
        "BadValueError": _bad_value,
        "ValueError": _bad_value,
        "ModuleNotFoundError": _import,
        "ImportError": _import,
    }
    if name == "SyntaxError":
        found = _syntax_in_line(line)
        if found is not None:
            return found
    if name in handlers:
        found = handlers[name](message)
        if found is not None:
            return found
    simple = {
        "ZeroDivisionError": (Kind.ZERO_DIVISION, "zero"),
        "TclError": (Kind.NO_SCREEN, "no_screen"),
        "MemoryError": (Kind.MEMORY, "memory"),
        "KeyboardInterrupt": (Kind.STOPPED, "stopped"),
        "IndexError": (Kind.OTHER, "index"),
        "RecursionError": (Kind.OTHER, "recursion"),
        "DeviceClosedError": (Kind.ROBOT_CLOSED, "closed"),
    }
    if name in simple:
        kind, key = simple[name]
        return kind, TEXTS[key], None
    if name == "KeyError" and message:
        return Kind.OTHER, TEXTS["key"].format(key=message), None
    two = _bilingual(message)
    if two is not None:
        return Kind.OTHER, two, None
    return Kind.OTHER, TEXTS["other"].format(exception=name, message=message or name), None


def _bilingual(message: str) -> Text | None:
    """A message our student API already gives in both languages ("English / 中文")."""
    found = re.match(r"^(.*?) / (.*[\u4e00-\u9fff].*)$", message)
    return Text(found[1], found[2]) if found else None


# Chinese punctuation a child types with a Chinese keyboard, and what Python wants.
_FULL_WIDTH = dict(
    zip("（）【】｛｝，、。：；“”‘’＝＋－！？", "()[]{},,.:;\"\"''=+-!?", strict=True)
)
_CLOSING = {"(": ")", "[": "]", "{": "}"}


def _syntax_in_line(line: str) -> Found | None:
    """What the student's line shows plainly: ``else if``, or ``While`` with a capital."""
    if re.search(r"\belse\s+if\b", line):
        return Kind.SYNTAX, TEXTS["elif"], "elif"
    first = re.match(r"\s*([A-Z][a-z]+)\b", line)
    if first and first[1].lower() in keyword.kwlist:
        word = first[1].lower()
        return Kind.SYNTAX, TEXTS["keyword_case"].format(word=word, written=first[1]), word
    return None


def _syntax(message: str) -> Found:  # noqa: PLR0911 - one return per message
    kind = Kind.SYNTAX
    if found := re.match(r"invalid character '(.)'", message):
        char = found[1]
        plain = _FULL_WIDTH.get(char)
        if plain is not None:
            return kind, TEXTS["chinese"].format(char=char, plain=plain), plain
    if message.startswith("invalid non-printable character"):
        return kind, TEXTS["hidden"], None
    if found := re.match(r"'([(\[{])' was never closed", message):
        bracket = found[1]
        return kind, TEXTS["never_closed"].format(bracket=bracket, closing=_CLOSING[bracket]), None
    if found := re.match(r"unmatched '(.)'", message):
        return kind, TEXTS["unmatched"].format(bracket=found[1]), None
    if found := re.match(
        r"closing parenthesis '(.)' does not match opening parenthesis '(.)'", message
    ):
        closing = _CLOSING.get(found[2], "?")
        text = TEXTS["mismatch"].format(bracket=found[1], opening=found[2], closing=closing)
        return kind, text, closing
    if "Maybe you meant '=='" in message:
        return kind, TEXTS["equals"], "=="
    if message.endswith("Perhaps you forgot a comma?"):
        return kind, TEXTS["comma"], ","
    if message.startswith("expected ':'"):
        return kind, TEXTS["colon"], ":"
    if message.startswith("unterminated string"):
        return kind, TEXTS["string"], None
    if message.startswith("Missing parentheses in call to 'print'"):
        return kind, TEXTS["print"], "print(...)"
    return kind, TEXTS["syntax"], None


def _indentation(name: str, message: str) -> Found:
    if name == "TabError":
        key = "tab"
    elif message.startswith("unexpected indent"):
        key = "unexpected_indent"
    elif message.startswith("expected an indented block"):
        key = "expected_indent"
    else:
        key = "unindent"
    return Kind.INDENTATION, TEXTS[key], None


# -- names ------------------------------------------------------------------------------

#: What a name needs to be imported, for the names a student uses without importing them.
_COMMON_MODULES = ("time", "math", "random")


def _api_names() -> dict[str, str]:
    """The student API's top-level names and the import each needs."""
    names = {name: f"import {name}" for name in _COMMON_MODULES}
    for package in ("hardware", "vision"):
        module = _module(package)
        for name in getattr(module, "__all__", ()):
            names[name] = f"from {package} import {name}"
    names["report"] = "from lessons import report"
    return names


def _code_names(code: str) -> set[str]:
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return set(re.findall(r"[A-Za-z_]\w*", code))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            found.add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            found.add(node.name)
        elif isinstance(node, ast.arg):
            found.add(node.arg)
        elif isinstance(node, ast.alias):
            found.add((node.asname or node.name).split(".")[0])
    return found


def _closest(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate ``word`` is most likely a misspelling of, if any is close."""
    pool = sorted({c for c in candidates if c and c != word})
    same = [c for c in pool if c.lower() == word.lower()]
    if same:
        return same[0]
    found = difflib.get_close_matches(word, pool, n=1, cutoff=0.6)
    return found[0] if found else None


def _name(message: str, code: str) -> Found | None:
    found = re.match(r"name '(\w+)' is not defined", message)
    if found is None:
        return None
    name = found[1]
    api = _api_names()
    if name in api:
        return Kind.NAME, TEXTS["name_import"].format(name=name, statement=api[name]), api[name]
    pool = _code_names(code) | set(api) | {n for n in dir(builtins) if not n.startswith("_")}
    suggestion = _closest(name, pool)
    if suggestion is None:
        return Kind.NAME, TEXTS["name"].format(name=name), None
    return Kind.NAME, TEXTS["name_mean"].format(name=name, suggestion=suggestion), suggestion


def _unbound(message: str) -> Found | None:
    found = re.search(r"local variable '(\w+)'", message)
    return (Kind.NAME, TEXTS["unbound"].format(name=found[1]), None) if found else None


# -- attributes ---------------------------------------------------------------------------

_SAFE_MODULES = frozenset({*_COMMON_MODULES, *STUDENT_PACKAGES})
_BUILTIN_TYPES = {t.__name__: t for t in (str, list, dict, int, float, tuple, set, bool, bytes)}


def _module(name: str) -> ModuleType | None:
    """A module we may look into: one already loaded, or ours and the few students use."""
    if name in sys.modules:
        return sys.modules[name]
    if name.split(".", maxsplit=1)[0] not in _SAFE_MODULES:
        return None
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def _public(thing: object) -> list[str]:
    return [name for name in dir(thing) if not name.startswith("_")]


def _api_class(name: str) -> type | None:
    """The student API's class called ``name`` (or a builtin type), if there is one."""
    if name in _BUILTIN_TYPES:
        return _BUILTIN_TYPES[name]
    for package in ("hardware", "vision"):
        found = getattr(_module(package), name, None)
        if isinstance(found, type):
            return found
    return None


def _owner_in(line: str, name: str) -> str | None:
    """What the student wrote before ``.name`` on their line: ``robot.drive`` in
    ``robot.drive.fowrard(0.5)``."""
    found = re.search(rf"([A-Za-z_][\w.]*)\.{re.escape(name)}\b", line)
    return found[1] if found else None


def _attribute(message: str, line: str) -> Found | None:
    if found := re.search(r"has no part called '(\w+)'; its parts are: ([\w, ]+?) /", message):
        return _robot_part(found[1], found[2].split(", "), message)
    if found := re.match(r"'(\w+)' object has no attribute '(\w+)'", message):
        owner, name = found[1], found[2]
        if owner == "NoneType":
            return Kind.ATTRIBUTE, TEXTS["none_attribute"].format(name=name), None
        cls = _api_class(owner)
        return _typo(_owner_in(line, name) or owner, name, _public(cls) if cls else [])
    if found := re.match(r"module '([\w.]+)' has no attribute '(\w+)'", message):
        module = _module(found[1])
        return _typo(found[1], found[2], _public(module) if module else [])
    return None


def _typo(owner: str, name: str, candidates: list[str]) -> Found:
    suggestion = _closest(name, candidates)
    if suggestion is None:
        return Kind.ATTRIBUTE, TEXTS["attribute"].format(owner=owner, name=name), None
    text = TEXTS["attribute_mean"].format(owner=owner, name=name, suggestion=suggestion)
    return Kind.ATTRIBUTE, text, suggestion


def _robot_part(name: str, parts: list[str], message: str) -> Found:
    """``robot.distanse``: the robot's own ``MissingPartError``, with a did-you-mean."""
    drive = _api_class("DifferentialDrive")
    if drive is not None and name in _public(drive):
        return Kind.ATTRIBUTE, TEXTS["drive"].format(name=name), f"drive.{name}"
    robot = _api_class("Robot")
    suggestion = _closest(name, [*parts, *(_public(robot) if robot else [])])
    if suggestion is not None:
        text = TEXTS["attribute_mean"].format(owner="robot", name=name, suggestion=suggestion)
        return Kind.ATTRIBUTE, text, suggestion
    return (
        Kind.ATTRIBUTE,
        _bilingual(message) or TEXTS["attribute"].format(owner="robot", name=name),
        None,
    )


# -- arguments and values -------------------------------------------------------------------


def _callable(qualname: str) -> Any:
    """The student API's function or method called ``qualname`` ("DifferentialDrive.arc")."""
    owner, _, name = qualname.rpartition(".")
    if not owner:
        return getattr(builtins, name, None)
    cls = _api_class(owner)
    return getattr(cls, name, None) if cls is not None else None


def _signature(qualname: str) -> tuple[str, list[str]] | None:
    """``forward(power=0.5)`` and the names of its parameters, for the student API."""
    func = _callable(qualname)
    if func is None:
        return None
    try:
        sig = inspect.signature(func)
    except (TypeError, ValueError):
        return None
    params = [p for p in sig.parameters.values() if p.name != "self"]
    shown = [str(p.replace(annotation=inspect.Parameter.empty)) for p in params]
    return f"{qualname.rpartition('.')[2]}({', '.join(shown)})", [p.name for p in params]


def _with_signature(text: Text, qualname: str) -> Text:
    found = _signature(qualname)
    if found is None:
        return text
    extra = TEXTS["signature"].format(signature=found[0])
    return Text(f"{text.en} {extra.en}", f"{text.zh}{extra.zh}")


def _type(message: str) -> Found | None:  # noqa: PLR0911 - one return per message
    if found := re.match(r"([\w.]+)\(\) missing \d+ required \w+ arguments?: (.+)$", message):
        func, names = found[1], [f"`{n}`" for n in re.findall(r"'(\w+)'", found[2])]
        short, template = func.rpartition(".")[2], TEXTS["missing_args"]
        text = Text(
            template.en.format(func=short, missing=" and ".join(names)),
            template.zh.format(func=short, missing=" 和 ".join(names)),
        )
        return Kind.ARGUMENTS, _with_signature(text, func), None
    if found := re.match(
        r"([\w.]+)\(\) takes (?:from \d+ to )?(\d+|no) positional arguments? but (\d+) (?:was|were) given",
        message,
    ):
        func, self_too = found[1], int("." in found[1])
        most = 0 if found[2] == "no" else int(found[2]) - self_too
        given = int(found[3]) - self_too
        text = TEXTS["too_many_args"].format(
            func=func.rpartition(".")[2], most=most, given=given, s="" if most == 1 else "s"
        )
        return Kind.ARGUMENTS, _with_signature(text, func), None
    if found := re.match(r"([\w.]+)\(\) got an unexpected keyword argument '(\w+)'", message):
        func, name = found[1], found[2]
        short = func.rpartition(".")[2]
        sig = _signature(func)
        suggestion = _closest(name, sig[1]) if sig else None
        if suggestion is None:
            return Kind.ARGUMENTS, TEXTS["keyword"].format(func=short, name=name), None
        text = TEXTS["keyword_mean"].format(func=short, name=name, suggestion=suggestion)
        return Kind.ARGUMENTS, text, suggestion
    if "can only concatenate str" in message or (
        "unsupported operand" in message and "'str'" in message
    ):
        return Kind.TYPE, TEXTS["text_number"].format(), None
    if found := re.match(r"'(\w+)' object is not callable", message):
        return Kind.TYPE, TEXTS["not_callable"].format(type=found[1]), None
    return None


def _bad_value(message: str) -> Found | None:
    """The student API's ``BadValueError``: a value that is not a number, or out of range."""
    if found := re.match(r"(.+?) needs a number, not (.+)$", message):
        return Kind.TYPE, TEXTS["needs_number"].format(what=found[1], value=found[2]), None
    found = re.match(r"(.+?) must be (?:a number )?between (\S+) and (\S+), not (.+)$", message)
    if found is None:
        two = _bilingual(message)  # set_speed's own "... / ..." says what is too fast
        return (Kind.OUT_OF_RANGE, two, None) if two is not None else None
    what, low, high, value = found[1], found[2], found[3], found[4]
    if what == "power" and value.startswith("-") and _number(low) == 0:
        return Kind.OUT_OF_RANGE, TEXTS["direction"].format(what=what, value=value), None
    text = TEXTS["out_of_range"].format(
        what=what, low=low, high=high, value=value, example=_example(low, high)
    )
    return Kind.OUT_OF_RANGE, text, None


def _number(text: str) -> float | None:
    found = re.match(r"-?\d+(?:\.\d+)?", text)
    return float(found[0]) if found else None


def _example(low: str, high: str) -> str:
    """A number in ``low..high`` worth trying: 0.5 when it fits, else the middle."""
    lo, hi = _number(low), _number(high)
    if lo is None or hi is None:
        return low
    return "0.5" if lo <= 0.5 <= hi else f"{(lo + hi) / 2:g}"


# -- modules ----------------------------------------------------------------------------------

_NO_SCREEN = frozenset({"turtle", "tkinter", "_tkinter"})


def _import(message: str) -> Found | None:
    if found := re.match(r"No module named '([\w.]+)'", message):
        top = found[1].split(".")[0]
        if top in _NO_SCREEN:
            return Kind.NO_SCREEN, TEXTS["no_screen"], None
        if top in _SAFE_MODULES:
            return None  # ours, yet a part of it is missing: the message says which
        stdlib = {n for n in sys.stdlib_module_names if not n.startswith("_")}
        suggestion = _closest(top, [*STUDENT_PACKAGES, *stdlib])
        if suggestion is None:
            return Kind.IMPORT, TEXTS["import_missing"].format(name=top), None
        text = TEXTS["import_mean"].format(name=top, suggestion=suggestion)
        return Kind.IMPORT, text, suggestion
    if found := re.match(r"cannot import name '(\w+)' from '([\w.]+)'", message):
        name, owner = found[1], found[2]
        module = _module(owner)
        candidates = list(getattr(module, "__all__", None) or _public(module)) if module else []
        _, text, suggestion = _typo(owner, name, candidates)
        return Kind.IMPORT, text, suggestion
    return None
