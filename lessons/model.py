"""The lesson format: ``lesson.yaml`` and the files beside it.

::

    my-lesson/
      lesson.yaml    id, titles, band, steps, hardware, world, limits, grading
      starter.py     what the student starts from
      solution.py    the reference solution (it must pass in the simulator)
      check.py       the grader: def grade(run) -> Grade
      world.yaml     optional: the lesson's own simulator world
      kit.yaml       optional: the lesson's own kit (``hardware: {kit: kit.yaml}``)
      blocks/        optional: starter.json and solution.json, block programs
                     (Blockly's JSON) for ``blocks: {toolbox: [...]}``

A lesson may be done with blocks (:mod:`lessons.blocks`): ``blocks: {toolbox:
[start, drive_seconds, ...]}`` names the blocks it offers, and a step may offer
fewer (``toolbox:`` in the step).

A lesson may need models: ``models: [traffic-signs]`` names models RoboClass
ships, and ``own_model`` a model the student taught the robot (``vision.teach``)::

    own_model: {name: my-signs, task: classify, labels: [stop, left, right]}

The runner checks they are on the robot before the student's program starts
(:mod:`lessons.needs`).

Every text a student or teacher reads is given in English and Chinese.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from lessons.blocks import block_types, check_block_program, program_types, unknown_blocks
from lessons.errors import LessonFormatError
from rcbase import ConfigError, Text, load_yaml

__all__ = ["Band", "Lesson", "LessonModel", "OwnModel", "load_lesson"]

Band = Literal["perceive", "apply", "create"]
BAND_GRADES: dict[str, tuple[int, int]] = {"perceive": (1, 3), "apply": (4, 9), "create": (10, 12)}
REQUIRED_FILES = ("starter.py", "solution.py", "check.py")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# Chinese characters and full-width punctuation: no spaces belong between them.
_CJK = "\u3000-\u303f\u4e00-\u9fff\uff00-\uffef"
_FOLDED_SPACE = re.compile(f"(?<=[{_CJK}])[ \\t]+(?=[{_CJK}])")


class Bilingual(_Strict):
    en: str = Field(min_length=1)
    zh: str = Field(min_length=1)

    @field_validator("zh")
    @classmethod
    def _join_folded_lines(cls, value: str) -> str:
        """YAML's folded text (``>``) joins lines with a space; Chinese has none there."""
        return _FOLDED_SPACE.sub("", value)

    def text(self) -> Text:
        return Text(self.en, self.zh)


def _known_blocks(value: list[str] | None) -> list[str] | None:
    message = unknown_blocks(value or [])
    if message:
        raise ValueError(message)
    return value


class Step(_Strict):
    title: Bilingual
    body: Bilingual
    toolbox: list[str] | None = None  # the blocks this step offers (default: the lesson's)

    _blocks = field_validator("toolbox")(_known_blocks)


class Blocks(_Strict):
    """The lesson can be done with blocks: the blocks its toolbox offers."""

    toolbox: list[str] = Field(min_length=1)

    _blocks = field_validator("toolbox")(_known_blocks)


class HardwareNeeds(_Strict):
    kit: str = "sim"  # a kit name, or a kit file (kit.yaml) in the lesson folder
    parts: list[str] = []  # parts the lesson needs, by name (line, distance, camera, ...)


class Grading(_Strict):
    pass_score: int = Field(60, ge=0, le=100)
    params: dict[str, Any] = {}  # handed to check.py as run.params
    # where a student's hand-in is graded: in the simulator on the console, or on their robot
    hand_in: Literal["sim", "robot"] = "sim"


class OwnModel(_Strict):
    """The student's own model that a lesson needs: saved under ``name``, knowing ``labels``."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")  # as `model.export(name)` saves it
    task: Literal["classify", "detect"] = "classify"
    labels: list[Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,40}$")]] = []  # at least these

    @field_validator("labels")
    @classmethod
    def _different(cls, value: list[str]) -> list[str]:
        doubles = sorted({label for label in value if value.count(label) > 1})
        if doubles:
            raise ValueError(f"labels must differ; repeated: {', '.join(doubles)}")
        return value


class Challenge(_Strict):
    metric: str  # a metric check.py returns, e.g. "lap_time_s"
    better: Literal["lower", "higher"] = "lower"
    unit: str = ""


class LessonModel(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,48}$")
    version: int = Field(1, ge=1)
    title: Bilingual
    summary: Bilingual
    band: Band
    grades: tuple[int, int] | None = None  # e.g. [4, 6]; default: the band's grades
    minutes: int = Field(ge=5, le=240)
    topics: list[str] = []
    hardware: HardwareNeeds = HardwareNeeds()
    models: list[str] = []
    own_model: OwnModel | None = None  # the student's own taught model (lessons/needs.py)
    world: str | None = None  # a world name, or world.yaml in the lesson folder
    start: str | None = None  # a start pose of the world
    time_limit: float = Field(60.0, gt=0, le=3600)  # robot-clock seconds for the student's program
    wall_limit: float = Field(120.0, gt=0, le=7200)  # wall seconds, whatever happens
    entry: str = Field("main.py", pattern=r"^[A-Za-z0-9_]+\.py$")
    steps: list[Step] = Field(min_length=1)
    grading: Grading = Grading()
    challenge: Challenge | None = None
    blocks: Blocks | None = None

    @model_validator(mode="after")
    def _grades_in_band(self) -> LessonModel:
        if self.grades is not None:
            low, high = self.grades
            if not 1 <= low <= high <= 12:
                raise ValueError("grades must be [from, to] between 1 and 12")
        return self

    @property
    def grade_range(self) -> tuple[int, int]:
        return self.grades or BAND_GRADES[self.band]


@dataclass(frozen=True)
class Lesson:
    """A lesson folder that passed validation."""

    path: Path
    model: LessonModel

    @property
    def id(self) -> str:
        return self.model.id

    def file(self, name: str) -> Path:
        return self.path / name

    def summary(self, lang: str = "en") -> dict[str, Any]:
        m = self.model
        pick = "zh" if lang == "zh" else "en"
        return {
            "id": m.id,
            "version": m.version,
            "title": {"en": m.title.en, "zh": m.title.zh},
            "summary": {"en": m.summary.en, "zh": m.summary.zh},
            "title_local": getattr(m.title, pick),
            "band": m.band,
            "grades": list(m.grade_range),
            "minutes": m.minutes,
            "topics": m.topics,
            "parts": m.hardware.parts,
            "models": m.models,
            "own_model": m.own_model.model_dump() if m.own_model else None,
            "world": m.world,
            "steps": len(m.steps),
            "challenge": m.challenge.model_dump() if m.challenge else None,
            "hand_in": m.grading.hand_in,
            "blocks": m.blocks is not None,
        }


def _check_python(path: Path, must_define: str | None = None) -> None:
    try:
        source = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise LessonFormatError(
            f"{path}: not UTF-8 text: save it as UTF-8 / 请另存为 UTF-8"
        ) from exc
    try:
        tree = ast.parse(source, str(path))
    except SyntaxError as exc:
        raise LessonFormatError(
            f"{path}:{exc.lineno}:{exc.offset or 1}: Python syntax error: {exc.msg} / Python 语法错误"
        ) from exc
    if must_define and not any(
        isinstance(node, ast.FunctionDef) and node.name == must_define for node in tree.body
    ):
        raise LessonFormatError(
            f"{path}: must define `def {must_define}(run):` / 必须定义 {must_define} 函数"
        )


def load_lesson(folder: str | Path) -> Lesson:
    """Read and validate the lesson in ``folder``; :class:`LessonFormatError` says what is wrong."""
    path = Path(folder)
    if not (path / "lesson.yaml").is_file():
        raise LessonFormatError(f"{path}: no lesson.yaml here / 这里没有 lesson.yaml")
    try:
        model = load_yaml(path / "lesson.yaml", LessonModel)
    except ConfigError as exc:
        raise LessonFormatError(f"{exc.text('en')}\n{exc.text('zh')}") from exc
    for name in REQUIRED_FILES:
        if not (path / name).is_file():
            raise LessonFormatError(f"{path / name}: missing / 缺少此文件")
    _check_python(path / "starter.py")
    _check_python(path / "solution.py")
    _check_python(path / "check.py", must_define="grade")
    if (
        model.world
        and model.world.endswith((".yaml", ".yml"))
        and not (path / model.world).is_file()
    ):
        raise LessonFormatError(
            f"{path / 'lesson.yaml'}: world file {model.world} is missing / 缺少世界文件"
        )
    kit = model.hardware.kit
    if kit.endswith((".yaml", ".yml")) and not (path / kit).is_file():
        raise LessonFormatError(f"{path / 'lesson.yaml'}: kit file {kit} is missing / 缺少套件文件")
    _check_blocks(path, model)
    return Lesson(path.resolve(), model)


def _check_blocks(path: Path, model: LessonModel) -> None:
    """A lesson with blocks has both block programs, each one parses; steps need blocks."""
    programs = [path / "blocks" / name for name in ("starter.json", "solution.json")]
    if model.blocks is None:
        if any(s.toolbox for s in model.steps) or any(p.exists() for p in programs):
            raise LessonFormatError(
                f"{path / 'lesson.yaml'}: block programs or a step's toolbox, but no "
                "`blocks: {toolbox: [...]}`: add it / 缺少 blocks: {toolbox: [...]}"
            )
        return
    for program in programs:
        if not program.is_file():
            raise LessonFormatError(f"{program}: missing / 缺少此文件")
        try:
            data = check_block_program(program)
        except ValueError as exc:
            raise LessonFormatError(str(exc)) from exc
        missing = sorted(program_types(data) - block_types(model.blocks.toolbox))
        if missing:
            raise LessonFormatError(
                f"{program}: uses blocks the lesson's toolbox does not offer ({', '.join(missing)}): "
                "add them to blocks: {toolbox: [...]} in lesson.yaml "
                f"/ 用了工具箱里没有的积木（{', '.join(missing)}）：请把它们加到 lesson.yaml 的 toolbox 里"
            )
