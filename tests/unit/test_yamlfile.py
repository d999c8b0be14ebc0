from __future__ import annotations

from pathlib import Path
from typing import Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field

from rcbase import ConfigError, load_yaml, parse_yaml


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Wheel(Strict):
    radius: float = Field(gt=0)
    inverted: bool = False


class Kit(Strict):
    name: str
    drive: Literal["differential", "none"] = "differential"
    wheels: list[Wheel]


GOOD = """\
name: car
wheels:
  - radius: 0.03
  - radius: 0.03
    inverted: true
"""


def test_good_file() -> None:
    kit = parse_yaml(GOOD, Kit)
    assert kit.wheels[1].inverted is True


def test_unknown_field_points_at_its_line_and_guesses() -> None:
    text = GOOD.replace("    inverted: true", "    invertd: true")
    with pytest.raises(ConfigError) as info:
        parse_yaml(text, Kit, source="kit.yaml")
    [problem] = info.value.problems
    assert (problem.line, problem.column) == (5, 5)
    assert problem.field == "wheels.1.invertd"
    assert (
        str(info.value)
        == "kit.yaml:5:5: wheels.1.invertd: unknown field (did you mean 'inverted'?)"
    )
    assert "未知字段" in info.value.text("zh")


def test_a_field_known_only_deeper_down_is_not_offered_as_its_own_fix() -> None:
    text = "radius: 0.03\n" + GOOD  # 'radius' belongs to a wheel, not to the kit
    with pytest.raises(ConfigError) as info:
        parse_yaml(text, Kit, source="kit.yaml")
    assert len(info.value.problems) == 1
    assert str(info.value) == "kit.yaml:1:1: radius: unknown field; remove it"


def test_every_problem_is_listed_with_lines() -> None:
    text = "name: car\ndrive: tank\nwheels:\n  - radius: -1\n  - {}\n"
    with pytest.raises(ConfigError) as info:
        parse_yaml(text, Kit)
    found = {(p.field, p.line) for p in info.value.problems}
    assert found == {("drive", 2), ("wheels.0.radius", 4), ("wheels.1.radius", 5)}
    zh = info.value.text("zh")
    assert "缺少必填字段" in zh and "数值太小" in zh


def test_missing_top_level_field() -> None:
    with pytest.raises(ConfigError, match="wheels: required field is missing"):
        parse_yaml("name: car\n", Kit)


@pytest.mark.parametrize(
    ("text", "line"),
    [("name: [car\n", 2), ("name: car\n  wheels: x\n", 2), ("a: 1\n\tb: 2\n", 2)],
)
def test_broken_yaml_points_at_the_line(text: str, line: int) -> None:
    with pytest.raises(ConfigError, match="not valid YAML") as info:
        parse_yaml(text, Kit)
    assert info.value.problems[0].line == line


def test_empty_and_missing_and_binary_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="empty"):
        parse_yaml("# nothing\n", Kit)
    with pytest.raises(ConfigError, match="file not found"):
        load_yaml(tmp_path / "nope.yaml", Kit)
    (tmp_path / "bin.yaml").write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ConfigError, match="UTF-8"):
        load_yaml(tmp_path / "bin.yaml", Kit)


def test_not_a_mapping() -> None:
    with pytest.raises(ConfigError) as info:
        parse_yaml("- just\n- a list\n", Kit)
    assert info.value.problems[0].field == ""


def test_load_from_file(tmp_path: Path) -> None:
    (tmp_path / "kit.yaml").write_text(GOOD, encoding="utf-8")
    assert load_yaml(tmp_path / "kit.yaml", Kit).name == "car"
