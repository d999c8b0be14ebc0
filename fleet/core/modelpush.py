"""Taught models pushed through the fleet: checked on the console, installed on the robot.

A model travels like a lesson bundle. Its ``.onnx`` is content-addressed in
the console's :class:`~fleet.core.bundles.BundleStore` (uploaded with ``POST
/api/v1/bundles``, served at ``/bundles/{sha256}``, inline when small); its
manifest (YAML) travels inside the signed job document, so the signature
covers the manifest and, through its ``sha256``, the file::

    ref = prepare_model(console.bundles, manifest_text, sha256)     # console: check it
    console.push_model(ref, ["robot-02", "robot-03"])               # sign and send
    entry = install_model(doc, cache, console_url, device_cache())  # robot: check, install

The robot writes it into the model registry's device cache
(``<cache folder>/models``), where ``vision.Classifier(name)`` finds it. A
check that fails writes nothing; the robot answers REJECTED with the reason.
Errors are in English and Chinese.
"""

from __future__ import annotations

import logging
from pathlib import Path

from pydantic import ValidationError

from fleet.core.bundles import BundleCache, BundleStore, write_atomic
from fleet.core.errors import JobRejected, ModelPushError
from fleet.core.protocol import MAX_MANIFEST_CHARS, JobDocument, ModelRef
from models import (
    Manifest,
    ManifestError,
    ModelEntry,
    ModelFileError,
    check_against_file,
    dump_manifest,
    parse_manifest,
    sha256_of,
)

__all__ = ["MAX_MODEL_BYTES", "install_model", "prepare_model"]

logger = logging.getLogger(__name__)

#: Largest model file the console sends and a robot installs (the shipped ones are < 2 MB).
MAX_MODEL_BYTES = 32 * 1024 * 1024


def _renamed(manifest: Manifest, name: str) -> Manifest:
    """The manifest under ``name``, its file always ``name.onnx`` (the robot's file name)."""
    data = manifest.model_dump(mode="json") | {"name": name, "file": f"{name}.onnx"}
    try:
        return Manifest.model_validate(data)
    except ValidationError as exc:
        raise ModelPushError(
            400,
            f"{name!r} cannot be a model name: use small letters, digits and '-'",
            f"{name!r} 不能作为模型名称：请用小写字母、数字和 '-'",
        ) from exc


def prepare_model(
    store: BundleStore,
    manifest_text: str,
    sha256: str,
    *,
    name: str | None = None,
    limit: int = MAX_MODEL_BYTES,
) -> ModelRef:
    """Check a model before the console signs it; the reference a job document carries.

    ``sha256`` names the ``.onnx`` uploaded to ``store``; ``name`` installs it under
    another name. :class:`ModelPushError` says what is wrong (its ``status`` is HTTP's).
    """
    if len(manifest_text) > MAX_MANIFEST_CHARS:
        raise ModelPushError(
            413,
            f"the manifest is too large: {len(manifest_text)} characters, the limit is "
            f"{MAX_MANIFEST_CHARS}",
            f"清单太大：{len(manifest_text)} 个字符，上限是 {MAX_MANIFEST_CHARS}",
        )
    try:
        manifest = parse_manifest(manifest_text, source="manifest")
    except ManifestError as exc:
        raise ModelPushError(
            400, f"wrong manifest: {exc.message.en}", f"清单有错：{exc.message.zh}"
        ) from exc
    if manifest.sha256 != sha256:
        raise ModelPushError(
            400,
            f"bad sha256: the uploaded file is {sha256[:12]}, but the manifest of "
            f"{manifest.name} says {manifest.sha256[:12]}: upload the .onnx that belongs to it",
            f"sha256 不符：上传的文件是 {sha256[:12]}，但 {manifest.name} 的清单写的是 "
            f"{manifest.sha256[:12]}：请上传与清单对应的 .onnx",
        )
    path = store.path(sha256)
    if path is None:
        raise ModelPushError(
            404,
            f"no file {sha256[:12]} on this console: upload the .onnx first (POST /api/v1/bundles)",
            f"控制台上没有文件 {sha256[:12]}：请先上传 .onnx（POST /api/v1/bundles）",
        )
    size = path.stat().st_size
    if size > limit:
        raise ModelPushError(
            413,
            f"the model is too large: {size} bytes, the limit is {limit}",
            f"模型太大：{size} 字节，上限是 {limit}",
        )
    data = path.read_bytes()
    if sha256_of(data) != sha256:
        raise ModelPushError(
            409,
            f"the console's copy of {sha256[:12]} is damaged: upload the .onnx again",
            f"控制台上的 {sha256[:12]} 已损坏：请重新上传 .onnx",
        )
    manifest = _renamed(manifest, name or manifest.name)
    problems = check_against_file(ModelEntry(manifest, path, "path"), data)
    if problems:
        raise ModelPushError(
            400,
            "wrong manifest: the .onnx does not match it: " + "; ".join(p.en for p in problems),
            "清单有错：.onnx 与清单不符：" + "；".join(p.zh for p in problems),
        )
    return ModelRef(
        name=manifest.name,
        manifest=dump_manifest(manifest),
        file=store.ref(sha256, manifest.name),
    )


def _rejected(en: str, zh: str) -> JobRejected:
    return JobRejected(f"{en} / {zh}")


def install_model(
    doc: JobDocument,
    cache: BundleCache,
    console_url: str | None,
    folder: Path,
    *,
    limit: int = MAX_MODEL_BYTES,
) -> ModelEntry:
    """Install the model a verified job names into ``folder`` (the device cache).

    :class:`JobRejected` (nothing written) when the manifest or the file fails a check;
    :class:`fleet.core.errors.JobError` when the file cannot be fetched.
    """
    ref = doc.model
    if ref is None:
        raise _rejected("the job names no model", "任务里没有模型")
    try:
        manifest = parse_manifest(ref.manifest, source=f"manifest of {ref.name}")
    except ManifestError as exc:
        raise _rejected(f"wrong manifest: {exc.message.en}", f"清单有错：{exc.message.zh}") from exc
    if manifest.name != ref.name or manifest.file != f"{ref.name}.onnx":
        raise _rejected(
            f"wrong manifest: it names {manifest.name} ({manifest.file}), the job {ref.name}",
            f"清单有错：清单写的是 {manifest.name}（{manifest.file}），任务写的是 {ref.name}",
        )
    if manifest.sha256 != ref.file.sha256:
        raise _rejected(
            f"bad sha256: the manifest says {manifest.sha256[:12]}, the file is "
            f"{ref.file.sha256[:12]}",
            f"sha256 不符：清单写的是 {manifest.sha256[:12]}，文件是 {ref.file.sha256[:12]}",
        )
    data = cache.read(ref.file, console_url, limit)
    entry = ModelEntry(manifest, folder / f"{manifest.name}.yaml", "cache")
    write_atomic(entry.model_path, data)  # the file first: the manifest makes it visible
    write_atomic(entry.manifest_path, ref.manifest.encode())
    try:
        entry.read_verified()
    except ModelFileError as exc:  # only if the disk changed it under us
        raise _rejected(exc.message.en, exc.message.zh) from exc
    logger.info("installed model %s (%s) into %s", manifest.name, manifest.sha256[:12], folder)
    return entry
