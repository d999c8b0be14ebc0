"""A lesson that needs the student's own model (``own_model`` in lesson.yaml, lessons/needs.py):
the format, the check before a run, and the messages a student reads."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from lessons import (
    Lesson,
    LessonFormatError,
    ModelMissingError,
    find_lesson,
    load_lesson,
    run_lesson,
)
from lessons.model import OwnModel
from lessons.needs import check_models
from models import SHIPPED_DIR, Registry
from tests.unit.test_model_push import export_model

LESSON = find_lesson("drive-by-your-signs")


def needing(**own: object) -> Lesson:
    """drive-by-your-signs, needing another own model."""
    return Lesson(LESSON.path, LESSON.model.model_copy(update={"own_model": OwnModel(**own)}))


def registry(tmp_path: Path) -> Registry:
    return Registry(
        roots=[
            (tmp_path / "data" / "models", "data"),
            (tmp_path / "cache" / "models", "cache"),
            (SHIPPED_DIR, "package"),
        ]
    )


def test_the_lesson_says_which_model_it_needs() -> None:
    own = LESSON.model.own_model
    assert own == OwnModel(name="my-signs", task="classify", labels=["stop", "left", "right"])
    assert LESSON.summary()["own_model"]["labels"] == ["stop", "left", "right"]


def test_a_wrong_own_model_field_names_its_line(tmp_path: Path) -> None:
    folder = tmp_path / "lesson"
    shutil.copytree(LESSON.path, folder)
    path = folder / "lesson.yaml"
    text = path.read_text(encoding="utf-8")
    right = "own_model: {name: my-signs, task: classify, labels: [stop, left, right]}"
    line = text.splitlines().index(right) + 1
    for wrong, words in [
        ("own_model: {name: My Signs, task: classify}", "name"),
        ("own_model: {name: my-signs, labels: [stop, stop]}", "repeated: stop"),
        ("own_model: {name: my-signs, labls: [stop]}", "labls"),
    ]:
        path.write_text(text.replace(right, wrong), encoding="utf-8")
        with pytest.raises(LessonFormatError, match=words) as caught:
            load_lesson(folder)
        assert f"lesson.yaml:{line}:" in str(caught.value)


def test_taught_model_in_the_data_or_the_device_cache_is_found(tmp_path: Path) -> None:
    export_model(tmp_path / "cache" / "models")  # sent by the console
    check_models(LESSON, registry(tmp_path))
    shutil.rmtree(tmp_path / "cache")
    export_model(tmp_path / "data" / "models")  # taught on this robot
    check_models(LESSON, registry(tmp_path))


def message(lesson: Lesson, tmp_path: Path) -> ModelMissingError:
    with pytest.raises(ModelMissingError) as caught:
        check_models(lesson, registry(tmp_path))
    return caught.value


def test_no_model_yet_says_how_to_teach_it(tmp_path: Path) -> None:
    missing = message(LESSON, tmp_path)
    assert 'has not learned "my-signs" yet' in missing.text("en")
    assert "Teach your robot" in missing.text("en") and "send your model" in missing.text("en")
    assert "还没有学会“my-signs”" in missing.text("zh") and "教机器人认东西" in missing.text("zh")
    assert missing.text("en") in str(missing) and missing.text("zh") in str(missing)


def test_a_shipped_model_is_not_the_students_own(tmp_path: Path) -> None:
    missing = message(needing(name="traffic-signs", labels=["stop"]), tmp_path)
    assert 'has not learned "traffic-signs"' in missing.text("en")


def test_a_model_missing_a_label_says_which(tmp_path: Path) -> None:
    export_model(tmp_path / "data" / "models", labels=("stop", "left"))
    missing = message(LESSON, tmp_path)
    assert "knows stop, left, but not right" in missing.text("en")
    assert "不认识 right" in missing.text("zh")


def test_a_model_for_another_task_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "data" / "models"
    folder.mkdir(parents=True)
    for suffix in (".yaml", ".onnx"):
        shutil.copyfile(SHIPPED_DIR / f"sim-objects{suffix}", folder / f"sim-objects{suffix}")
    missing = message(needing(name="sim-objects", labels=[]), tmp_path)
    assert "is a detect model" in missing.text("en") and "classify" in missing.text("en")
    assert "detect 模型" in missing.text("zh")


def test_a_changed_model_file_is_refused(tmp_path: Path) -> None:
    entry = export_model(tmp_path / "cache" / "models")
    entry.model_path.write_bytes(entry.model_path.read_bytes()[:-10])
    missing = message(LESSON, tmp_path)
    assert "has changed since it was saved" in missing.text("en")
    assert "被改动过" in missing.text("zh")


def test_a_shipped_model_the_lesson_names_must_be_here(tmp_path: Path) -> None:
    lesson = Lesson(LESSON.path, LESSON.model.model_copy(update={"models": ["no-such-model"]}))
    missing = message(lesson, tmp_path)
    assert "needs the model 'no-such-model'" in missing.text("en")
    assert "请老师安装它" in missing.text("zh")


def test_the_runner_checks_before_the_program_starts_and_the_program_finds_the_model(
    isolated_dirs: Path, tmp_path: Path
) -> None:
    program = tmp_path / "student.py"
    program.write_text(
        textwrap.dedent(
            """
            from lessons import report
            from vision import Classifier

            sign = Classifier("my-signs")
            report("labels", ",".join(sign.labels))
            """
        ),
        encoding="utf-8",
    )
    robot_cache = tmp_path / "robot-cache"
    with pytest.raises(ModelMissingError):
        run_lesson(LESSON, code=program, cache_dir=robot_cache)
    export_model(robot_cache / "models")  # where the agent installs a model the console sent
    result = run_lesson(LESSON, code=program, cache_dir=robot_cache)
    assert result.run_status == "finished", (result.error, result.output)
    assert [r["value"] for r in result.reports] == ["stop,left,right"]
