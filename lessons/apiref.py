"""The student API as data, for the editor's completions: made from the code itself.

What a student writes (``from hardware import Robot``, ``robot.drive.forward(0.5)``,
``Classifier("traffic-signs")``) is read from the packages with :mod:`inspect`:
the names in each student package's ``__all__``, every public method and
property of their classes with its signature and the first paragraph of its
docstring, and the parts a kit gives ``robot`` (its profile's parts, each of the
class the robot would build for it, found from the robot's typed properties and
the part classes' constructors, without opening any hardware)::

    from lessons.apiref import api_reference

    ref = api_reference("sim")                  # JSON-able, cached per kit
    ref["classes"]["DifferentialDrive"]["members"][0]
    # {'name': 'arc', 'kind': 'method', 'signature': '(power: float, turn: float)', ...}

The shape (``schema`` 1), which ``fleet/console/static/vendor/editor.js`` reads::

    {"schema": 1, "kit": "sim" | None,
     "modules":   {"hardware": {"doc": Doc, "names": ["Robot", ...]}, ...},
     "variables": {"robot": "Robot"},
     "classes":   {"Robot": {"module", "signature", "params", "doc", "members": [Member]}},
     "functions": {"report": {"module", "signature", "params", "doc"}}}
    Member = {"name", "kind": "method" | "property" | "part", "signature" (methods),
              "params" (methods), "type" (a class in "classes", or None),
              "annotation" (properties), "doc", "deprecated"}
    Doc = {"en": str, "zh": str (only where the docstring has Chinese)}

``kit=None`` gives the robot every standard part (``robot.distance``,
``robot.camera``, ...); a kit's name gives exactly that kit's parts.
"""

from __future__ import annotations

import copy
import functools
import importlib
import inspect
import logging
import re
import sys
import typing
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any

__all__ = [
    "OUR_PACKAGES",
    "SCHEMA",
    "STUDENT_MODULES",
    "api_reference",
    "build_reference",
    "part_classes",
]

logger = logging.getLogger(__name__)

SCHEMA = 1

STUDENT_MODULES: Mapping[str, str] = {
    "hardware": "hardware",
    "vision": "vision",
    "lessons": "lessons.student",
}
"""What a student imports from (``from lessons import report``), and the module whose
``__all__`` lists what that import offers a student."""

OUR_PACKAGES = frozenset({"hardware", "vision", "lessons", "rcbase", "models"})
"""Members are taken from classes of these packages only (not ``object``, ``Exception``,
pydantic's ``BaseModel``): what RoboClass itself documents."""

_CJK = re.compile(r"[\u3400-\u9fff]")
_ROLE = re.compile(r":[\w:]+:`~?([^`<]+?)(?:\s*<[^>]+>)?`")
_DEPRECATED = "Old name of"


def _ours(obj: object, packages: frozenset[str] = OUR_PACKAGES) -> bool:
    module = getattr(obj, "__module__", None) or ""
    return module.split(".")[0] in packages


def _doc(obj: object) -> dict[str, str]:
    """The first paragraph of ``obj``'s docstring, without reST markup, en (and zh)."""
    text = inspect.getdoc(obj) or ""
    para = text.strip().split("\n\n")[0]
    para = " ".join(line.strip() for line in para.splitlines())
    para = _ROLE.sub(lambda m: m.group(1).split(".")[-1], para)
    para = para.replace("``", "").strip()
    if para.endswith("::"):
        para = para[:-1]
    en, sep, zh = para.partition(" / ")
    if sep and _CJK.search(zh) and not _CJK.search(en):
        return {"en": en.strip(), "zh": zh.strip()}
    return {"en": para}


def _annotation(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, type):
        return value.__qualname__
    return repr(value).replace("typing.", "")


def _signature(func: Callable[..., Any], *, drop_self: bool) -> tuple[str, list[str]]:
    """``(power: float = 0.5)`` as a student would call it, and the names they may pass."""
    try:
        sig = inspect.signature(func)
    except (TypeError, ValueError):
        return "(...)", []
    params = list(sig.parameters.values())
    if drop_self and params and params[0].name in ("self", "cls"):
        params = params[1:]
    parts: list[str] = []
    names: list[str] = []
    star_done = False
    for i, p in enumerate(params):
        text = p.name
        if p.kind is p.VAR_POSITIONAL:
            text, star_done = f"*{p.name}", True
        elif p.kind is p.VAR_KEYWORD:
            text = f"**{p.name}"
        elif p.kind is p.KEYWORD_ONLY and not star_done:
            parts.append("*")
            star_done = True
        if p.annotation is not p.empty:
            text += f": {_annotation(p.annotation)}"
        if p.default is not p.empty:
            text += f" = {p.default!r}" if p.annotation is not p.empty else f"={p.default!r}"
        parts.append(text)
        if p.kind is p.POSITIONAL_ONLY:
            last_positional = all(q.kind is not q.POSITIONAL_ONLY for q in params[i + 1 :])
            if last_positional:
                parts.append("/")
        elif p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
            names.append(p.name)
    out = f"({', '.join(parts)})"
    ret = sig.return_annotation
    if ret is not sig.empty and _annotation(ret) not in ("None", "NoneType"):
        out += f" -> {_annotation(ret)}"
    return out, names


def _return_class(func: Callable[..., Any], packages: frozenset[str]) -> type | None:
    """The class a property or method gives back, when it is one of ours."""
    try:
        found: object = typing.get_type_hints(func).get("return")
    except Exception:  # a name only imported for type checkers: look it up by name
        raw = getattr(func, "__annotations__", {}).get("return")
        module = sys.modules.get(getattr(func, "__module__", ""), None)
        found = getattr(module, raw, None) if isinstance(raw, str) and module else None
    return found if isinstance(found, type) and _ours(found, packages) else None


def _defining(cls: type, name: str) -> type | None:
    for base in cls.__mro__:
        if name in vars(base):
            return base
    return None


def _members(cls: type, queue: list[type], packages: frozenset[str]) -> list[dict[str, Any]]:
    """Every public method and property ``cls`` has from our packages, sorted by name."""
    out: list[dict[str, Any]] = []
    for name in sorted(dir(cls)):
        if name.startswith("_"):
            continue
        owner = _defining(cls, name)
        if owner is None or not _ours(owner, packages):
            continue
        raw = vars(owner)[name]
        doc = _doc(raw)
        entry: dict[str, Any] = {"name": name, "doc": doc, "type": None}
        if isinstance(raw, property):
            hint = (raw.fget.__annotations__ if raw.fget else {}).get("return", "")
            entry |= {"kind": "property", "annotation": _annotation(hint) if hint else ""}
            target = _return_class(raw.fget, packages) if raw.fget else None
        elif isinstance(raw, (staticmethod, classmethod)) or inspect.isfunction(raw):
            func = raw.__func__ if isinstance(raw, (staticmethod, classmethod)) else raw
            signature, params = _signature(func, drop_self=not isinstance(raw, staticmethod))
            entry |= {"kind": "method", "signature": signature, "params": params}
            target = None
        else:
            continue  # constants and attributes set in __init__ have no signature to show
        if target is not None:
            entry["type"] = target.__name__
            queue.append(target)
        entry["deprecated"] = doc["en"].startswith(_DEPRECATED)
        out.append(entry)
    return out


def _class_entry(cls: type, queue: list[type], packages: frozenset[str]) -> dict[str, Any]:
    is_error = issubclass(cls, BaseException)
    signature, params = ("(message)", []) if is_error else _signature(cls, drop_self=False)
    return {
        "module": cls.__module__,
        "signature": signature,
        "params": params,
        "doc": _doc(cls),
        "members": [] if is_error else _members(cls, queue, packages),
    }


def _part_kinds() -> dict[str, type]:
    """Every part spec kind (``ultrasonic``, ``servo``, ...) and its spec class."""
    from hardware.kit import PartSpec  # noqa: PLC0415 - the kit format is hardware's

    union = typing.get_args(PartSpec)[0]
    kinds: dict[str, type] = {}
    for spec in typing.get_args(union):
        (kind,) = typing.get_args(spec.model_fields["kind"].annotation)
        kinds[kind] = spec
    return kinds


def part_classes(robot: type, packages: frozenset[str] = OUR_PACKAGES) -> dict[str, type]:
    """The device class the robot builds for each part kind.

    A standard part name (``distance`` is always ``ultrasonic``) is a typed
    property of the robot, which says its class; any other kind is the part
    class whose constructor takes that kind's spec (``Servo(..., spec: ServoSpec)``).
    """
    from hardware.device import Device  # noqa: PLC0415
    from hardware.kit import STANDARD_PARTS  # noqa: PLC0415

    found: dict[str, type] = {}
    for name, kind in STANDARD_PARTS.items():
        prop = inspect.getattr_static(robot, name, None)
        fget = prop.fget if isinstance(prop, property) else None
        cls = _return_class(fget, packages) if fget is not None else None
        if cls is not None:
            found[kind] = cls
    devices = [c for c in _subclasses(Device) if _ours(c, packages)]
    for kind, spec in _part_kinds().items():
        if kind in found:
            continue
        for cls in devices:
            hints = getattr(inspect.getattr_static(cls, "__init__"), "__annotations__", {})
            if any(h in (spec, spec.__name__) for h in hints.values()):
                found[kind] = cls
                break
        else:
            raise LookupError(f"no part class of {robot.__name__} takes a {spec.__name__}")
    return found


def _subclasses(cls: type) -> list[type]:
    out: list[type] = []
    subs: list[type] = cls.__subclasses__()
    for sub in subs:
        out += [sub, *_subclasses(sub)]
    return out


def _robot_entry(
    robot: type, kit: str | None, queue: list[type], packages: frozenset[str]
) -> dict[str, Any]:
    """The robot's members for ``kit``: its methods, the drive and the kit's parts."""
    from hardware.kit import STANDARD_PARTS, load_kit  # noqa: PLC0415

    entry = _class_entry(robot, queue, packages)
    parts = None if kit is None else load_kit(kit).parts
    members = []
    for member in entry["members"]:
        if member["name"] in STANDARD_PARTS:
            if parts is not None and member["name"] not in parts:
                continue  # this kit has no such part: robot.<name> would raise
            member["kind"] = "part"
        elif member["type"] is not None:
            member["kind"] = "part"  # drive, left_motor, right_motor: every robot has them
        members.append(member)
    classes = part_classes(robot, packages)
    for name, spec in (parts or {}).items():
        if name in STANDARD_PARTS:
            continue
        cls = classes[spec.kind]
        queue.append(cls)
        members.append(
            {
                "name": name,
                "kind": "part",
                "doc": spec.title.model_dump() if spec.title else _doc(cls),
                "type": cls.__name__,
                "annotation": cls.__name__,
                "deprecated": False,
            }
        )
    entry["members"] = sorted(members, key=lambda m: m["name"])
    return entry


def build_reference(
    kit: str | None = None,
    *,
    robot: type | None = None,
    modules: Mapping[str, str] = STUDENT_MODULES,
    packages: frozenset[str] = OUR_PACKAGES,
) -> dict[str, Any]:
    """The reference, built now (not cached).

    ``robot`` is the class ``Robot()`` makes, ``modules`` what a student imports,
    ``packages`` those whose classes' members count (:data:`OUR_PACKAGES`).
    """
    if robot is None:
        from hardware import Robot  # noqa: PLC0415

        robot = Robot
    ref: dict[str, Any] = {
        "schema": SCHEMA,
        "kit": kit,
        "modules": {},
        "variables": {"robot": robot.__name__},
        "classes": {},
        "functions": {},
    }
    queue: list[type] = []
    for name, module_name in modules.items():
        module: ModuleType = importlib.import_module(module_name)
        names = list(getattr(module, "__all__", []))
        ref["modules"][name] = {"doc": _doc(module), "names": names}
        for export in names:
            obj = getattr(module, export)
            if isinstance(obj, type):
                queue.append(obj)
            elif callable(obj):
                signature, params = _signature(obj, drop_self=False)
                ref["functions"][export] = {
                    "module": module_name,
                    "signature": signature,
                    "params": params,
                    "doc": _doc(obj),
                }
    ref["classes"][robot.__name__] = _robot_entry(robot, kit, queue, packages)
    while queue:
        cls = queue.pop(0)
        have = ref["classes"].get(cls.__name__)
        if have is not None:
            if have["module"] != cls.__module__ and cls is not robot:
                logger.debug("two classes called %s: %s kept", cls.__name__, have["module"])
            continue
        ref["classes"][cls.__name__] = _class_entry(cls, queue, packages)
    return ref


@functools.cache
def _cached(kit: str | None) -> dict[str, Any]:
    return build_reference(kit)


def api_reference(kit: str | None = None) -> dict[str, Any]:
    """The student API for ``kit`` (None: every standard part), as JSON-able data; cached.

    ::

        ref = api_reference("sim")
        [m["name"] for m in ref["classes"]["Robot"]["members"] if m["kind"] == "part"]
        # ['battery', 'button', 'buzzer', 'camera', 'distance', 'drive', ...]
    """
    return copy.deepcopy(_cached(kit))
