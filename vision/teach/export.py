"""Write a trained model as ONE ONNX file: the feature extractor with the head on top.

The extractor's graph is kept as it is; its output (the features) feeds three
new nodes, ``MatMul -> Add -> Softmax``, whose weights are the head's. The
result takes the same raw uint8 BGR frames as the extractor and gives one
probability per label, so :class:`vision.Classifier` runs it like any other
model. The file and its manifest go to the user's model folder, where the
registry finds them by name.

Writing the graph needs the ``onnx`` package (``pip install 'roboclass[teach]'``);
running the exported model needs only onnxruntime.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from models import (
    Bilingual,
    Label,
    MadeBy,
    Manifest,
    Metric,
    ModelEntry,
    OutputSpec,
    check_against_file,
    dump_manifest,
    sha256_of,
)
from models.manifest import OutputFormat, Task
from rcbase import Text, paths
from vision.teach.errors import ExportError
from vision.teach.head import Head

__all__ = ["attach_head", "write_model"]

logger = logging.getLogger(__name__)
OUTPUT = "probabilities"


def _onnx() -> Any:
    try:
        import onnx  # noqa: PLC0415 - only exporting needs it
    except ImportError as exc:
        raise ExportError(
            Text(
                "exporting needs the onnx package: pip install 'roboclass[teach]' "
                "(the robot needs it only where models are trained)",
                "导出模型需要 onnx 包：pip install 'roboclass[teach]'（只有训练模型的机器需要）",
            )
        ) from exc
    return onnx


def attach_head(extractor: bytes, head: Head) -> bytes:
    """The extractor's ONNX bytes with ``softmax(features @ W + b)`` appended."""
    onnx = _onnx()
    from onnx import helper, numpy_helper  # noqa: PLC0415

    model = onnx.load_from_string(extractor)
    graph = model.graph
    if len(graph.output) != 1:
        raise ExportError(
            Text(
                f"the feature model has {len(graph.output)} outputs; it needs exactly 1",
                f"特征模型有 {len(graph.output)} 个输出；应只有 1 个",
            )
        )
    features = graph.output[0].name
    k = int(head.bias.shape[0])
    graph.initializer.extend(
        [
            numpy_helper.from_array(head.weights, "head_weights"),
            numpy_helper.from_array(head.bias, "head_bias"),
        ]
    )
    graph.node.extend(
        [
            helper.make_node(
                "MatMul", [features, "head_weights"], ["head_scores"], name="head_matmul"
            ),
            helper.make_node("Add", ["head_scores", "head_bias"], ["head_logits"], name="head_add"),
            helper.make_node("Softmax", ["head_logits"], [OUTPUT], name="head_softmax", axis=-1),
        ]
    )
    del graph.output[:]
    graph.output.append(helper.make_tensor_value_info(OUTPUT, onnx.TensorProto.FLOAT, [1, k]))
    model.producer_name = "roboclass vision.teach"
    try:
        onnx.checker.check_model(model)
    except onnx.checker.ValidationError as exc:
        raise ExportError(
            Text(
                f"the combined model is not valid ONNX: {exc}",
                f"合并后的模型不是有效的 ONNX：{exc}",
            )
        ) from exc
    data: bytes = model.SerializeToString()
    return data


def write_model(
    data: bytes,
    *,
    name: str,
    title: Bilingual,
    base: Manifest,
    labels: list[Label],
    made_by: MadeBy,
    accuracy: list[Metric],
    folder: Path | None = None,
) -> ModelEntry:
    """Save ``data`` as ``name.onnx`` with its manifest (input as in ``base``); check both."""
    manifest = Manifest(
        name=name,
        version="1.0.0",
        task=Task.CLASSIFY,
        title=title,
        file=f"{name}.onnx",
        sha256=sha256_of(data),
        input=base.input,
        output=OutputSpec(format=OutputFormat.PROBABILITIES),
        labels=labels,
        licence=f"the student's own model; features: {base.name} ({base.licence})",
        source="taught on this robot with vision.teach; nothing uploaded",
        made_by=made_by,
        accuracy=accuracy,
    )
    target = folder or paths().data / "models"
    entry = ModelEntry(manifest, target / f"{name}.yaml", "data")
    problems = check_against_file(entry, data)
    if problems:
        raise ExportError(
            Text("; ".join(p.en for p in problems), "；".join(p.zh for p in problems))
        )
    target.mkdir(parents=True, exist_ok=True)
    tmp = entry.model_path.with_suffix(".onnx.tmp")
    tmp.write_bytes(data)
    tmp.replace(entry.model_path)
    entry.manifest_path.write_text(dump_manifest(manifest), encoding="utf-8")
    logger.info("exported %s (%d bytes) to %s", name, len(data), entry.model_path)
    return entry
