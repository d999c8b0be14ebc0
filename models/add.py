"""Add a teacher's own ``.onnx`` to the user's model folder, with a manifest.

::

    from models import Task
    from models.add import add_model
    entry = add_model(Path("fruit.onnx"), task=Task.CLASSIFY, labels="apple=苹果,pear=梨")

Input size, layout and type are read from the model itself when it says them.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from models.errors import ModelError, ModelFileError
from models.manifest import (
    Bilingual,
    ColourOrder,
    DType,
    InputSpec,
    Label,
    Layout,
    MadeBy,
    Manifest,
    Normalise,
    OutputFormat,
    OutputSpec,
    Resize,
    Task,
    dump_manifest,
)
from models.registry import ModelEntry, check_against_file, sha256_of
from rcbase import Text, paths

__all__ = ["NORMALISE_PRESETS", "OUTPUT_FORMAT", "add_model", "parse_labels"]

NORMALISE_PRESETS: dict[str, Any] = {
    "in-graph": "in-graph",
    "0-1": Normalise(),
    "imagenet": Normalise(mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225)),
    "-1-1": Normalise(mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5)),
}
#: The tasks a teacher's own model may have, and how its output is read.
OUTPUT_FORMAT: dict[Task, OutputFormat] = {
    Task.CLASSIFY: OutputFormat.LOGITS,
    Task.DETECT: OutputFormat.YOLOV8,
    Task.FACE: OutputFormat.RETINAFACE,
}


def parse_labels(text: str) -> list[Label]:
    """Labels from ``"stop=停车,left=左转"`` or a file with one ``id=中文`` per line."""
    path = Path(text)
    items = path.read_text(encoding="utf-8").splitlines() if path.is_file() else text.split(",")
    labels = []
    for raw in items:
        item = raw.strip()
        if not item:
            continue
        ident, _, zh = item.partition("=")
        ident = ident.strip()
        en = ident.replace("_", " ")
        labels.append(Label(id=ident, en=en, zh=zh.strip() or en))
    if not labels:
        raise ModelError(Text("no labels given", "没有给出标签"))
    return labels


def _input_from_model(
    data: bytes, colour: ColourOrder, normalise: str, resize: Resize
) -> InputSpec:
    import onnxruntime as ort  # noqa: PLC0415

    try:
        session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises untyped errors
        raise ModelFileError(
            Text(f"onnxruntime cannot load it: {exc}", f"onnxruntime 无法加载：{exc}")
        ) from exc
    (first, *rest) = session.get_inputs()
    shape = list(first.shape)
    if rest or len(shape) != 4 or not all(isinstance(d, int) for d in shape[1:]):
        raise ModelFileError(
            Text(
                f"the model's input is {shape}; RoboClass needs one input with a fixed "
                "size like [1, 3, 224, 224]",
                f"模型输入为 {shape}；需要一个固定尺寸的输入，例如 [1, 3, 224, 224]",
            )
        )
    layout = Layout.NCHW if shape[1] in (1, 3) else Layout.NHWC
    h, w = (shape[2], shape[3]) if layout == Layout.NCHW else (shape[1], shape[2])
    channels = shape[1] if layout == Layout.NCHW else shape[3]
    dtype = DType.UINT8 if first.type == "tensor(uint8)" else DType.FLOAT32
    return InputSpec.model_validate(
        {
            "width": w,
            "height": h,
            "layout": layout,
            "colour": ColourOrder.GRAY if channels == 1 else colour,
            "dtype": dtype,
            "resize": resize,
            "normalise": "in-graph" if dtype == DType.UINT8 else NORMALISE_PRESETS[normalise],
        }
    )


def add_model(
    onnx: Path,
    task: Task,
    labels: str,
    *,
    name: str | None = None,
    title_zh: str | None = None,
    colour: ColourOrder = ColourOrder.RGB,
    normalise: str = "0-1",
    resize: Resize = Resize.STRETCH,
    licence: str = "the teacher's own model",
    folder: Path | None = None,
) -> ModelEntry:
    """Copy ``onnx`` into the user's model folder and write its manifest; check both."""
    data = onnx.read_bytes()
    model_name = name or onnx.stem.lower().replace("_", "-")
    spec = _input_from_model(data, ColourOrder(colour), normalise, Resize(resize))
    manifest = Manifest(
        name=model_name,
        version="1.0.0",
        task=Task(task),
        title=Bilingual(en=model_name, zh=title_zh or model_name),
        file=f"{model_name}.onnx",
        sha256=sha256_of(data),
        input=spec,
        output=OutputSpec(format=OUTPUT_FORMAT[Task(task)]),
        labels=parse_labels(labels),
        licence=licence,
        source=f"added with `roboclass models add` from {onnx.name}",
        made_by=MadeBy(),
    )
    target = folder or paths().data / "models"
    entry = ModelEntry(manifest, target / f"{model_name}.yaml", "data")
    problems = check_against_file(entry, data)
    if problems:
        raise ModelFileError(
            Text("; ".join(p.en for p in problems), "；".join(p.zh for p in problems))
        )
    target.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(onnx, entry.model_path)
    entry.manifest_path.write_text(dump_manifest(manifest), encoding="utf-8")
    return entry
