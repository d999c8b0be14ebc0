"""The manifest: a YAML file next to each ``.onnx`` that says what the model is.

A manifest ``traffic-signs.yaml`` sits beside ``traffic-signs.onnx``::

    name: traffic-signs
    version: 1.0.0
    task: classify                 # a Task: classify | detect | face | embed
    title: {en: Traffic signs, zh: 交通标志}
    file: traffic-signs.onnx
    sha256: 3f1c...                # of the .onnx file; checked before loading
    input:
      width: 64
      height: 64
      layout: NHWC                 # a Layout: NCHW | NHWC
      colour: BGR                  # a ColourOrder: BGR | RGB | GRAY (the channels the model wants)
      dtype: uint8                 # a DType: uint8 | float32
      resize: stretch              # a Resize: stretch | letterbox
      normalise: in-graph          # or {scale: 0.00392157, mean: [0.485, ...], std: [0.229, ...]}
    output: {format: logits}       # an OutputFormat: logits | probabilities (classify),
                                   # yolov8 (detect), retinaface (face),
                                   # embedding (embed: one label names the feature vector)
    labels:
      - {id: stop, en: Stop, zh: 停车}
    licence: Apache-2.0
    source: RoboClass
    made_by: {script: scripts/models/train_signs.py, data: signs rendered by hardware.sim}
    accuracy:
      - {metric: top1, value: 0.97, dataset: held-out renders, samples: 1200}

A field with a few allowed values is a ``StrEnum`` whose values are the
words in the file: ``manifest.task`` is ``Task.CLASSIFY``, which equals
``"classify"``. ``load_manifest(path)`` reads one; a wrong field raises
:class:`ManifestError` that names the file, the line and the field, in
English and Chinese.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from models.errors import ManifestError
from rcbase import ConfigError, Lang, Text, load_yaml, parse_yaml

__all__ = [
    "Bilingual",
    "ColourOrder",
    "DType",
    "InputSpec",
    "Label",
    "Layout",
    "MadeBy",
    "Manifest",
    "Metric",
    "Normalise",
    "OutputFormat",
    "OutputSpec",
    "Resize",
    "Speed",
    "Task",
    "dump_manifest",
    "load_manifest",
    "parse_manifest",
]


class Task(StrEnum):
    """What a model does."""

    CLASSIFY = "classify"  # says what a picture shows, from a list of labels
    DETECT = "detect"  # finds things and where they are
    FACE = "face"  # finds faces, with five points on each
    EMBED = "embed"  # turns a picture into a feature vector


class Layout(StrEnum):
    """The order of the input tensor's axes (batch, channels, height, width)."""

    NCHW = "NCHW"
    NHWC = "NHWC"


class ColourOrder(StrEnum):
    """The order of the colour channels a model wants (or one grey channel)."""

    BGR = "BGR"
    RGB = "RGB"
    GRAY = "GRAY"


class DType(StrEnum):
    """The type of the input tensor's numbers."""

    UINT8 = "uint8"
    FLOAT32 = "float32"


class Resize(StrEnum):
    """How a frame is fitted to the input: stretched, or scaled and padded (letterbox)."""

    STRETCH = "stretch"
    LETTERBOX = "letterbox"


class OutputFormat(StrEnum):
    """How a model's output is read."""

    LOGITS = "logits"
    PROBABILITIES = "probabilities"
    YOLOV8 = "yolov8"
    RETINAFACE = "retinaface"
    EMBEDDING = "embedding"


#: The output formats each task may have.
FORMATS: dict[Task, tuple[OutputFormat, ...]] = {
    Task.CLASSIFY: (OutputFormat.LOGITS, OutputFormat.PROBABILITIES),
    Task.DETECT: (OutputFormat.YOLOV8,),
    Task.FACE: (OutputFormat.RETINAFACE,),
    Task.EMBED: (OutputFormat.EMBEDDING,),
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Bilingual(_Strict):
    """A short text in English and Chinese."""

    en: str = Field(min_length=1)
    zh: str = Field(min_length=1)

    def text(self) -> Text:
        return Text(self.en, self.zh)


class Label(_Strict):
    """One thing the model can tell: an id for code, words for people."""

    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    en: str = Field(min_length=1)
    zh: str = Field(min_length=1)

    def name(self, lang: Lang) -> str:
        return self.zh if lang == "zh" else self.en


class Normalise(_Strict):
    """``(pixel * scale - mean) / std`` per channel, in the model's colour order."""

    scale: float = Field(default=1.0 / 255.0, gt=0)
    mean: tuple[float, float, float] = (0.0, 0.0, 0.0)
    std: tuple[float, float, float] = (1.0, 1.0, 1.0)

    @field_validator("std")
    @classmethod
    def _std_not_zero(cls, v: tuple[float, float, float]) -> tuple[float, float, float]:
        if any(s <= 0 for s in v):
            raise ValueError("every std must be > 0")
        return v


class InputSpec(_Strict):
    """What the model's input tensor wants."""

    width: int = Field(ge=8, le=4096)
    height: int = Field(ge=8, le=4096)
    layout: Layout = Layout.NCHW
    colour: ColourOrder = ColourOrder.RGB
    dtype: DType = DType.FLOAT32
    resize: Resize = Resize.STRETCH
    normalise: Literal["in-graph"] | Normalise = "in-graph"

    @property
    def channels(self) -> int:
        return 1 if self.colour == ColourOrder.GRAY else 3

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """The input tensor's shape (batch 1)."""
        c, h, w = self.channels, self.height, self.width
        return (1, c, h, w) if self.layout == Layout.NCHW else (1, h, w, c)

    @model_validator(mode="after")
    def _uint8_is_raw(self) -> InputSpec:
        if self.dtype == DType.UINT8 and self.normalise != "in-graph":
            raise ValueError("a uint8 input takes raw pixels: use `normalise: in-graph`")
        return self


class OutputSpec(_Strict):
    """How to read the model's output."""

    format: OutputFormat
    score: float = Field(default=0.5, gt=0, lt=1, description="default score threshold")
    iou: float = Field(default=0.45, gt=0, le=1, description="default NMS overlap (detect)")


class MadeBy(_Strict):
    """How the model was made, so anyone can make it again."""

    script: str = ""
    data: str = ""
    command: str = ""


class Metric(_Strict):
    """One measured figure, on data the training never saw."""

    metric: str = Field(min_length=1)
    value: float
    dataset: str = Field(min_length=1)
    samples: int = Field(ge=1)


class Speed(_Strict):
    """One measured speed."""

    machine: str
    threads: int = Field(ge=1)
    ms_per_frame: float = Field(gt=0)


class Manifest(_Strict):
    """Everything RoboClass needs to know about one model file."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")
    version: str = Field(pattern=r"^\d+(\.\d+){0,2}$")
    task: Task
    title: Bilingual
    file: str = Field(pattern=r"^[^/\\]+\.onnx$")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    input: InputSpec
    output: OutputSpec
    labels: list[Label] = Field(min_length=1)
    licence: str = Field(min_length=1)
    source: str = Field(min_length=1)
    made_by: MadeBy = MadeBy()
    accuracy: list[Metric] = []
    speed: list[Speed] = []

    @model_validator(mode="after")
    def _consistent(self) -> Manifest:
        if self.output.format not in FORMATS[self.task]:
            allowed = " or ".join(FORMATS[self.task])
            raise ValueError(
                f"output format '{self.output.format}' does not fit task '{self.task}': use {allowed}"
            )
        ids = [label.id for label in self.labels]
        doubles = sorted({i for i in ids if ids.count(i) > 1})
        if doubles:
            raise ValueError(f"label ids must differ; repeated: {', '.join(doubles)}")
        return self

    def label_ids(self) -> list[str]:
        return [label.id for label in self.labels]


def load_manifest(path: str | Path) -> Manifest:
    """Read the manifest at ``path``; :class:`ManifestError` names every wrong line."""
    try:
        return load_yaml(path, Manifest)
    except ConfigError as exc:
        raise ManifestError(exc) from exc


def parse_manifest(text: str, source: str = "<string>") -> Manifest:
    """Read a manifest from YAML text (see :func:`load_manifest`)."""
    try:
        return parse_yaml(text, Manifest, source=source)
    except ConfigError as exc:
        raise ManifestError(exc) from exc


def dump_manifest(manifest: Manifest) -> str:
    """The manifest as YAML text, fields in the documented order."""
    data: dict[str, Any] = manifest.model_dump(mode="json", exclude_defaults=False)
    return str(yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100))
