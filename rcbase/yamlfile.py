"""Validated YAML files whose errors point at the line that is wrong.

Kit profiles, world files, lesson files and model manifests are YAML read
into pydantic models that reject unknown fields. When something is wrong,
:class:`ConfigError` names the file, line and column, the field, and what to
do, in English and Chinese::

    from pydantic import BaseModel, ConfigDict
    from rcbase import parse_yaml

    class Wheel(BaseModel):
        model_config = ConfigDict(extra="forbid")
        radius: float

    parse_yaml("radius: 0.03\\n", Wheel)       # Wheel(radius=0.03)
    parse_yaml("raduis: 0.03\\n", Wheel)       # ConfigError: <string>:1:1: raduis: unknown field ...
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, get_args

import yaml
from pydantic import BaseModel, ValidationError

from rcbase.i18n import Lang, Text

__all__ = ["ConfigError", "Problem", "load_yaml", "parse_yaml"]

M = TypeVar("M", bound=BaseModel)

MAX_BYTES = 1024 * 1024  # no configuration file of ours is anywhere near this


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a file: where, which field, and what."""

    line: int | None  # 1-based
    column: int | None  # 1-based
    field: str  # dotted path, "" for the whole file
    message: Text

    def where(self, source: str) -> str:
        if self.line is None:
            return source
        return f"{source}:{self.line}:{self.column or 1}"


class ConfigError(ValueError):
    """A configuration file could not be read; every problem found is listed."""

    def __init__(self, source: str, problems: Sequence[Problem]) -> None:
        self.source = source
        self.problems = list(problems)
        super().__init__(self.text("en"))

    def text(self, lang: Lang) -> str:
        lines = []
        for p in self.problems:
            field = f"{p.field}: " if p.field else ""
            lines.append(f"{p.where(self.source)}: {field}{p.message(lang)}")
        return "\n".join(lines)


_ZH_BY_TYPE = {
    "missing": "缺少必填字段",
    "extra_forbidden": "未知字段",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "float_type": "应为数字",
    "float_parsing": "应为数字",
    "bool_type": "应为 true 或 false",
    "bool_parsing": "应为 true 或 false",
    "string_type": "应为文字",
    "list_type": "应为列表",
    "dict_type": "应为映射（键: 值）",
    "model_type": "应为映射（键: 值）",
    "literal_error": "取值不在允许范围内",
    "enum": "取值不在允许范围内",
    "greater_than": "数值太小",
    "greater_than_equal": "数值太小",
    "less_than": "数值太大",
    "less_than_equal": "数值太大",
    "too_short": "项目太少",
    "too_long": "项目太多",
    "string_pattern_mismatch": "格式不正确",
}


def _node_at(root: yaml.Node | None, loc: Sequence[int | str]) -> tuple[yaml.Node | None, bool]:
    """The YAML node at ``loc``; the bool says whether it is a mapping *key* node."""
    node = root
    for i, part in enumerate(loc):
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                    if i == len(loc) - 1:
                        return key, True
                    node = value
                    break
            else:
                return node, False
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if 0 <= part < len(node.value):
                node = node.value[part]
            else:
                return node, False
        else:
            return node, False
    return node, False


def _field_names(model: type[BaseModel], seen: set[type[BaseModel]] | None = None) -> Iterator[str]:
    seen = seen if seen is not None else set()
    if model in seen:
        return
    seen.add(model)
    for name, info in model.model_fields.items():
        yield info.alias or name
        stack: list[Any] = [info.annotation]
        while stack:
            t = stack.pop()
            if isinstance(t, type) and issubclass(t, BaseModel):
                yield from _field_names(t, seen)
            else:
                stack.extend(get_args(t))


def _problem(error: Any, root: yaml.Node | None, model: type[BaseModel]) -> Problem:
    loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and p.startswith("function-")))
    node, _ = _node_at(root, loc)
    line = node.start_mark.line + 1 if node is not None else None
    column = node.start_mark.column + 1 if node is not None else None
    kind = error["type"]
    en = str(error["msg"])
    zh = _ZH_BY_TYPE.get(kind, "取值不正确")
    if kind == "extra_forbidden" and loc:
        name = str(loc[-1])
        guess = difflib.get_close_matches(name, set(_field_names(model)) - {name}, n=1)
        en = "unknown field" + (f" (did you mean {guess[0]!r}?)" if guess else "; remove it")
        zh = "未知字段" + (f"（是不是 {guess[0]!r}？）" if guess else "，请删除")
    elif kind == "missing":
        en = "required field is missing"
    elif zh == "取值不正确" or kind in ("literal_error", "enum"):
        zh = f"{zh}：{en}"
    field = ".".join(str(p) for p in loc)
    return Problem(line, column, field, Text(en, zh))


def parse_yaml(text: str, model: type[M], source: str = "<string>") -> M:
    """Read YAML ``text`` into ``model``; raise :class:`ConfigError` if anything is wrong."""
    if len(text.encode("utf-8", errors="replace")) > MAX_BYTES:
        raise ConfigError(
            source,
            [Problem(None, None, "", Text("file is larger than 1 MB", "文件超过 1 MB"))],
        )
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        reason = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(
            source,
            [
                Problem(
                    mark.line + 1 if mark else None,
                    mark.column + 1 if mark else None,
                    "",
                    Text(
                        f"not valid YAML: {reason} (check indentation and colons)",
                        f"YAML 格式错误：{reason}（请检查缩进和冒号）",
                    ),
                )
            ],
        ) from exc
    if data is None:
        raise ConfigError(
            source, [Problem(None, None, "", Text("the file is empty", "文件是空的"))]
        )
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(source, [_problem(e, root, model) for e in exc.errors()]) from exc


def load_yaml(path: str | Path, model: type[M]) -> M:
    """Read the YAML file at ``path`` into ``model`` (see :func:`parse_yaml`)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(
            str(p), [Problem(None, None, "", Text("file not found", "找不到文件"))]
        ) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(
            str(p),
            [
                Problem(
                    None,
                    None,
                    "",
                    Text("not UTF-8 text: save it as UTF-8", "不是 UTF-8 文本：请另存为 UTF-8"),
                )
            ],
        ) from exc
    return parse_yaml(text, model, source=str(p))
