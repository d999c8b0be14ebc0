"""The lesson format's blocks: a toolbox of known blocks, block programs that parse."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from lessons.blocks import BLOCK_NAMES
from lessons.errors import LessonFormatError
from lessons.library import find_lesson
from lessons.model import load_lesson

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def square(tmp_path: Path) -> Path:
    folder = tmp_path / "draw-a-square"
    shutil.copytree(find_lesson("draw-a-square").path, folder)
    return folder


def test_a_lesson_with_blocks_loads(square: Path) -> None:
    lesson = load_lesson(square)
    assert lesson.model.blocks is not None
    assert lesson.model.blocks.toolbox[0] == "start"
    assert lesson.model.steps[0].toolbox == ["start", "drive_cm"]
    assert lesson.summary()["blocks"] is True
    assert find_lesson("data-logger").summary()["blocks"] is False


def test_an_unknown_block_is_named_in_english_and_chinese(square: Path) -> None:
    text = (square / "lesson.yaml").read_text(encoding="utf-8")
    (square / "lesson.yaml").write_text(text.replace("turn_degrees, repeat", "turn_degree, repeat"))
    with pytest.raises(LessonFormatError) as caught:
        load_lesson(square)
    message = str(caught.value)
    assert "unknown block turn_degree" in message
    assert "没有积木 turn_degree" in message
    assert "turn_degrees" in message  # the names it could be
    assert "lesson.yaml" in message and "toolbox" in message


def test_a_step_toolbox_is_checked_too(square: Path) -> None:
    text = (square / "lesson.yaml").read_text(encoding="utf-8")
    (square / "lesson.yaml").write_text(text.replace("[start, drive_cm]", "[start, fly]"))
    with pytest.raises(LessonFormatError, match="unknown block fly"):
        load_lesson(square)


def test_the_block_programs_must_be_there_and_parse(square: Path) -> None:
    (square / "blocks" / "solution.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(LessonFormatError, match=r"not JSON.*不是正确的 JSON"):
        load_lesson(square)
    (square / "blocks" / "solution.json").write_text(json.dumps({"blocks": {"blocks": []}}))
    with pytest.raises(LessonFormatError, match='no "when the program starts" block'):
        load_lesson(square)
    (square / "blocks" / "solution.json").unlink()
    with pytest.raises(LessonFormatError, match=r"solution\.json: missing"):
        load_lesson(square)


def test_block_programs_need_the_blocks_section(square: Path) -> None:
    text = (square / "lesson.yaml").read_text(encoding="utf-8")
    start = text.index("blocks:\n")
    end = text.index("steps:\n")
    without = text[:start] + text[end:]
    (square / "lesson.yaml").write_text(without.replace("    toolbox: [start, drive_cm]\n", ""))
    with pytest.raises(LessonFormatError, match=re.escape("no `blocks: {toolbox")):
        load_lesson(square)


def test_the_names_are_the_bundles_names() -> None:
    names = list(json.loads((ROOT / "lessons" / "blocks.json").read_text())["blocks"])
    assert list(BLOCK_NAMES) == names
    assert "start" in names and "drive_cm" in names and "repeat_until" in names


def test_the_teachers_lessons_page_knows_which_lessons_have_blocks() -> None:
    from fleet.console.web import library  # noqa: PLC0415

    marked = {entry["id"]: entry["blocks"] for entry in library()}
    assert marked["draw-a-square"] is True and marked["robot-dance"] is True
    assert marked["data-logger"] is False
    script = (ROOT / "fleet" / "console" / "static" / "lessons.js").read_text(encoding="utf-8")
    assert 'l.blocks ? h("span", { class: "band blocks-badge"' in script


def test_a_block_program_uses_only_the_toolbox(square: Path) -> None:
    text = (square / "lesson.yaml").read_text(encoding="utf-8")
    (square / "lesson.yaml").write_text(
        text.replace("turn_degrees, repeat, wait", "turn_degrees, wait")
    )
    with pytest.raises(LessonFormatError) as caught:
        load_lesson(square)
    assert "uses blocks the lesson's toolbox does not offer (controls_repeat_ext)" in str(
        caught.value
    )
    assert "工具箱里没有的积木" in str(caught.value)
