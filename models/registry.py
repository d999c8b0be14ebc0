"""Where models are found, and the checks made before one is loaded.

Models live in three folders, searched in this order (the first model of a
name wins, so a teacher's own model can replace a shipped one)::

    ~/.local/share/roboclass/models   the user's own (`roboclass models add`)
    ~/.cache/roboclass/models         models the teacher's console sent to this robot
    <package>/models/shipped          models shipped with RoboClass

::

    from models import Registry
    registry = Registry()
    entry = registry.find("traffic-signs")   # by name, or a path to .onnx / .yaml
    data = entry.read_verified()             # the .onnx bytes, after checking sha256
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from models.errors import ManifestError, ModelError, ModelFileError, ModelNotFoundError
from models.manifest import Manifest, Task, load_manifest
from rcbase import Text, paths

__all__ = [
    "SHIPPED_DIR",
    "Broken",
    "ModelEntry",
    "Origin",
    "Registry",
    "check_against_file",
    "default_roots",
    "device_cache",
    "sha256_of",
    "verify",
]

logger = logging.getLogger(__name__)

SHIPPED_DIR = Path(__file__).resolve().parent / "shipped"
Origin = Literal["data", "cache", "package", "path"]


def sha256_of(data: bytes | Path) -> str:
    """The sha256 of some bytes or of a file, as 64 hex digits."""
    if isinstance(data, Path):
        digest = hashlib.sha256()
        with data.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()
    return hashlib.sha256(data).hexdigest()


def device_cache(cache: Path | None = None) -> Path:
    """Where the models the console sends to this robot go: ``<cache folder>/models``."""
    return (cache or paths().cache) / "models"


def default_roots(environ: Mapping[str, str] | None = None) -> list[tuple[Path, Origin]]:
    """The folders searched for models, first match wins (``environ``: another process's)."""
    p = paths(environ)
    return [(p.data / "models", "data"), (device_cache(p.cache), "cache"), (SHIPPED_DIR, "package")]


@dataclass(frozen=True)
class ModelEntry:
    """One model found by the registry: its manifest and where its files are."""

    manifest: Manifest
    manifest_path: Path
    origin: Origin

    @property
    def name(self) -> str:
        return self.manifest.name

    @property
    def model_path(self) -> Path:
        return self.manifest_path.parent / self.manifest.file

    def read_verified(self) -> bytes:
        """The model file's bytes, after checking them against the manifest's sha256.

        The bytes that were checked are the bytes that get loaded (no second read).
        """
        try:
            data = self.model_path.read_bytes()
        except FileNotFoundError as exc:
            raise ModelFileError(
                Text(
                    f"model file {self.model_path} is missing (named by {self.manifest_path})",
                    f"找不到模型文件 {self.model_path}（{self.manifest_path} 中写明）",
                )
            ) from exc
        actual = sha256_of(data)
        if actual != self.manifest.sha256:
            raise ModelFileError(
                Text(
                    f"{self.model_path} has changed: its sha256 is {actual}, but "
                    f"{self.manifest_path} says {self.manifest.sha256}. Copy the model again, "
                    "or run `roboclass models add` for a model you changed on purpose",
                    f"{self.model_path} 已被改动：sha256 是 {actual}，但 {self.manifest_path} "
                    f"写的是 {self.manifest.sha256}。请重新复制模型；若是有意修改，请运行 "
                    "`roboclass models add`",
                )
            )
        return data


@dataclass(frozen=True)
class Broken:
    """A manifest that could not be read, and why."""

    path: Path
    origin: Origin
    error: ModelError


@dataclass
class Registry:
    """The models on this computer.

    ``Registry()`` searches the user's data folder, the device cache and the
    package; pass ``roots`` to search other folders (tests do).
    """

    roots: Sequence[tuple[Path, Origin]] = field(default_factory=default_roots)

    def scan(self) -> tuple[list[ModelEntry], list[Broken]]:
        """Every manifest in every root (also the shadowed ones), and the broken ones."""
        found: list[ModelEntry] = []
        broken: list[Broken] = []
        for folder, origin in self.roots:
            if not folder.is_dir():
                continue
            for path in sorted(folder.glob("*.yaml")):
                try:
                    found.append(ModelEntry(load_manifest(path), path, origin))
                except ManifestError as exc:
                    broken.append(Broken(path, origin, exc))
        return found, broken

    def entries(self) -> list[ModelEntry]:
        """One entry per model name: the first found in search order."""
        seen: dict[str, ModelEntry] = {}
        for entry in self.scan()[0]:
            seen.setdefault(entry.name, entry)
        return sorted(seen.values(), key=lambda e: e.name)

    def names(self) -> list[str]:
        return [e.name for e in self.entries()]

    def find(self, name_or_path: str | Path, task: Task | None = None) -> ModelEntry:
        """The model called ``name_or_path``, or the manifest at/next to that path.

        ``task`` (a :class:`~models.manifest.Task`) refuses a model made for
        something else.
        """
        entry = self._find(name_or_path)
        if task is not None and entry.manifest.task != task:
            raise ModelNotFoundError(
                Text(
                    f"model {entry.name!r} is a {entry.manifest.task} model, not a {task} model",
                    f"模型 {entry.name!r} 的任务是 {entry.manifest.task}，不是 {task}",
                )
            )
        return entry

    def _find(self, name_or_path: str | Path) -> ModelEntry:
        text = str(name_or_path)
        if isinstance(name_or_path, Path) or text.endswith((".onnx", ".yaml", ".yml")):
            path = Path(name_or_path)
            manifest_path = path if path.suffix in (".yaml", ".yml") else path.with_suffix(".yaml")
            if not manifest_path.exists():
                raise ModelNotFoundError(
                    Text(
                        f"no manifest {manifest_path}: every model needs one next to it "
                        f"(`roboclass models add {path}` writes it)",
                        f"没有清单文件 {manifest_path}：每个模型旁边都要有一个"
                        f"（`roboclass models add {path}` 会生成）",
                    )
                )
            return ModelEntry(load_manifest(manifest_path), manifest_path, "path")
        for entry in self.scan()[0]:
            if entry.name == text:
                return entry
        known = ", ".join(self.names()) or "none"
        raise ModelNotFoundError(
            Text(
                f"no model called {text!r}; models here: {known} (`roboclass models list`)",
                f"没有名为 {text!r} 的模型；已有：{known}（`roboclass models list`）",
            )
        )


def check_against_file(entry: ModelEntry, data: bytes) -> list[Text]:
    """What the .onnx itself says that disagrees with its manifest (input shape, labels)."""
    import numpy as np  # noqa: PLC0415
    import onnxruntime as ort  # noqa: PLC0415 - only `verify` pays for the runtime

    problems: list[Text] = []
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.log_severity_level = 3
    try:
        session = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own, untyped errors
        return [Text(f"onnxruntime cannot load it: {exc}", f"onnxruntime 无法加载：{exc}")]
    m = entry.manifest
    inputs = session.get_inputs()
    if len(inputs) != 1:
        problems.append(
            Text(f"the model has {len(inputs)} inputs; RoboClass needs 1", "模型应只有 1 个输入")
        )
        return problems
    want = m.input.shape
    have = tuple(inputs[0].shape)
    if len(have) != 4 or any(
        isinstance(h, int) and h != w for h, w in zip(have, want, strict=False)
    ):
        problems.append(
            Text(
                f"input shape: the model takes {list(have)}, the manifest says {list(want)} "
                f"({m.input.layout}, {m.input.width}x{m.input.height})",
                f"输入尺寸不符：模型要 {list(have)}，清单写的是 {list(want)}",
            )
        )
    dtype = {"tensor(uint8)": "uint8", "tensor(float)": "float32"}.get(inputs[0].type, "other")
    if dtype != m.input.dtype:
        problems.append(
            Text(
                f"input type: the model takes {inputs[0].type}, the manifest says {m.input.dtype}",
                f"输入类型不符：模型要 {inputs[0].type}，清单写的是 {m.input.dtype}",
            )
        )
    if problems:
        return problems
    out = session.run(None, {inputs[0].name: np.zeros(want, dtype=m.input.dtype)})[0]
    n = len(m.labels)
    if m.task == Task.CLASSIFY and out.shape[-1] != n:
        problems.append(
            Text(
                f"the model gives {out.shape[-1]} scores but the manifest has {n} labels",
                f"模型输出 {out.shape[-1]} 个分数，但清单有 {n} 个标签",
            )
        )
    if m.task == Task.DETECT and (out.ndim != 3 or out.shape[1] != 4 + n):
        problems.append(
            Text(
                f"a YOLOv8 output is [1, 4 + labels, boxes] = [1, {4 + n}, N]; the model gives "
                f"{list(out.shape)}",
                f"YOLOv8 输出应为 [1, 4+标签数, 框数] = [1, {4 + n}, N]；模型给出 {list(out.shape)}",
            )
        )
    return problems


def verify(entry: ModelEntry, deep: bool = True) -> list[Text]:
    """Every problem with this model ([] when it is fine): sha256, and with ``deep`` the
    input shape, input type and number of outputs, by loading it in onnxruntime."""
    try:
        data = entry.read_verified()
    except ModelFileError as exc:
        return [exc.message]
    return check_against_file(entry, data) if deep else []
