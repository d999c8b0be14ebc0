"""Pushing a taught model through the fleet, without a broker: the console's checks
(``prepare_model``), the signed job document, and the robot's install (``install_model``).

The models are real exports (the shipped feature extractor with a head on top, written by
``vision.teach``'s export path); the broker end to end is tests/integration/test_fleet_models.py.
"""

from __future__ import annotations

import base64
import time
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from fleet.core.bundles import BundleCache, BundleStore
from fleet.core.errors import JobError, JobRejected, ModelPushError
from fleet.core.modelpush import install_model, prepare_model
from fleet.core.protocol import DropCounter, JobDocument, ModelRef, Topics, decode, encode
from fleet.core.signing import SigningKey, verify_job
from models import (
    SHIPPED_DIR,
    Bilingual,
    Label,
    MadeBy,
    ModelEntry,
    Registry,
    dump_manifest,
    load_manifest,
    sha256_of,
)
from vision import Classifier
from vision.teach.export import attach_head, write_model
from vision.teach.head import Head

SIGNS = ("stop", "left", "right")


def export_model(
    folder: Path, name: str = "my-signs", labels: tuple[str, ...] = SIGNS
) -> ModelEntry:
    """A model written by the real export path: features-96 and a fixed random head."""
    features = Registry(roots=[(SHIPPED_DIR, "package")]).find("features-96", task="embed")
    rng = np.random.default_rng(len(labels))
    head = Head(
        rng.normal(size=(384, len(labels))).astype(np.float32), np.zeros(len(labels), np.float32)
    )
    return write_model(
        attach_head(features.read_verified(), head),
        name=name,
        title=Bilingual(en=name, zh="我的标志"),
        base=features.manifest,
        labels=[Label(id=k, en=k, zh=k) for k in labels],
        made_by=MadeBy(script="tests"),
        accuracy=[],
        folder=folder,
    )


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> ModelEntry:
    return export_model(tmp_path_factory.mktemp("exported"))


@pytest.fixture
def store(tmp_path: Path, model: ModelEntry) -> BundleStore:
    s = BundleStore(tmp_path / "console-bundles")
    assert s.put(model.model_path.read_bytes()) == model.manifest.sha256
    return s


def manifest_text(model: ModelEntry) -> str:
    return model.manifest_path.read_text(encoding="utf-8")


def job(ref: ModelRef, key: SigningKey, device: str = "r1") -> JobDocument:
    now = time.time()
    return key.sign(
        JobDocument(job="m1", device=device, model=ref, issued=now, expires=now + 60, kid=key.kid)
    )


# -- the console: what it accepts, and what it refuses (with the HTTP status) ----------------


def test_console_prepares_a_model_for_a_signed_job(model: ModelEntry, store: BundleStore) -> None:
    ref = prepare_model(store, manifest_text(model), model.manifest.sha256)
    assert ref.name == "my-signs"
    assert ref.file.sha256 == model.manifest.sha256
    assert ref.file.size == model.model_path.stat().st_size
    assert ref.file.inline is None  # 750 kB: fetched over HTTP like a large bundle
    assert ref.manifest == dump_manifest(model.manifest)
    renamed = prepare_model(store, manifest_text(model), model.manifest.sha256, name="ann-signs")
    assert renamed.name == "ann-signs"
    assert "file: ann-signs.onnx" in renamed.manifest


@pytest.mark.parametrize(
    ("change", "status", "words"),
    [
        ("yaml", 400, ("wrong manifest", "清单有错")),
        ("field", 400, ("wrong manifest", "labls")),
        ("sha", 400, ("bad sha256", "sha256 不符")),
        ("labels", 400, ("does not match it", "与清单不符")),
        ("name", 400, ("cannot be a model name", "不能作为模型名称")),
        ("huge", 413, ("manifest is too large", "清单太大")),
        ("limit", 413, ("model is too large", "模型太大")),
        ("missing", 404, ("upload the .onnx first", "请先上传")),
    ],
)
def test_console_refuses_a_bad_model_with_a_reason(
    model: ModelEntry,
    store: BundleStore,
    tmp_path: Path,
    change: str,
    status: int,
    words: tuple[str, str],
) -> None:
    text, sha, name, limit = manifest_text(model), model.manifest.sha256, None, 32 * 1024 * 1024
    if change == "yaml":
        text = "name: [unclosed"
    elif change == "field":
        text = text.replace("labels:", "labls:")
    elif change == "sha":
        sha = "0" * 64
    elif change == "labels":  # the .onnx gives 3 scores, the manifest now has 2 labels
        cut = model.manifest.model_copy(update={"labels": model.manifest.labels[:2]})
        text = dump_manifest(cut)
    elif change == "name":
        name = "Not A Name"
    elif change == "huge":
        text += "#" * 40_000
    elif change == "limit":
        limit = 1000
    elif change == "missing":
        store = BundleStore(tmp_path / "empty")
    with pytest.raises(ModelPushError) as caught:
        prepare_model(store, text, sha, name=name, limit=limit)
    assert caught.value.status == status
    for word in words:
        assert word in str(caught.value)


def test_console_refuses_a_damaged_copy(model: ModelEntry, store: BundleStore) -> None:
    path = store.path(model.manifest.sha256)
    assert path is not None
    path.write_bytes(b"not the model")
    with pytest.raises(ModelPushError, match="damaged") as caught:
        prepare_model(store, manifest_text(model), model.manifest.sha256)
    assert caught.value.status == 409


# -- the job document -----------------------------------------------------------------------


def test_a_job_names_a_lesson_or_a_model_never_both(
    model: ModelEntry, store: BundleStore, tmp_path: Path
) -> None:
    ref = prepare_model(store, manifest_text(model), model.manifest.sha256)
    lesson = store.ref(store.put(b"steps:1"), "x")
    now = time.time()
    common = {"job": "j", "device": "r1", "issued": now, "expires": now + 9, "kid": "0" * 16}
    with pytest.raises(ValidationError, match="exactly one"):
        JobDocument(**common)
    with pytest.raises(ValidationError, match="exactly one"):
        JobDocument(**common, lesson=lesson, model=ref)
    key = SigningKey.load_or_create(tmp_path / "key.pem")
    doc = job(ref, key)
    topics = Topics("school", "room1")
    parsed = decode(topics, topics.job("r1", "m1"), encode(doc), DropCounter(), device="r1")
    assert parsed is not None and parsed[1] == doc
    trusted = {key.kid: key.public_key}
    assert verify_job(doc, trusted, device="r1") is None
    # the signature covers the manifest (and through it the file's sha256)
    changed = ref.model_copy(update={"manifest": ref.manifest.replace("zh: stop", "zh: go")})
    assert "bad signature" in (
        verify_job(doc.model_copy(update={"model": changed}), trusted, device="r1") or ""
    )
    assert "签名不对" in (
        verify_job(doc.model_copy(update={"model": changed}), trusted, device="r1") or ""
    )


# -- the robot: install into the device cache, or reject and keep nothing --------------------


def inline(ref: ModelRef, data: bytes) -> ModelRef:
    file = ref.file.model_copy(update={"inline": base64.b64encode(data).decode()})
    return ref.model_copy(update={"file": file})


def test_robot_installs_into_the_device_cache_where_classifier_finds_it(
    model: ModelEntry, store: BundleStore, tmp_path: Path
) -> None:
    ref = prepare_model(store, manifest_text(model), model.manifest.sha256)
    data = model.model_path.read_bytes()
    key = SigningKey.load_or_create(tmp_path / "key.pem")
    cache = BundleCache(tmp_path / "agent" / "bundles")
    folder = tmp_path / "cache" / "models"
    entry = install_model(job(inline(ref, data), key), cache, None, folder)
    assert entry.model_path == folder / "my-signs.onnx"
    assert sha256_of(entry.model_path) == model.manifest.sha256
    assert load_manifest(folder / "my-signs.yaml") == load_manifest(model.manifest_path)
    registry = Registry(roots=[(tmp_path / "data", "data"), (folder, "cache")])
    found = registry.find("my-signs")
    assert found.origin == "cache"
    with Classifier("my-signs", registry=registry, threads=1) as sign:
        assert sign.labels == list(SIGNS)
        assert sign(np.zeros((96, 96, 3), np.uint8)).label in SIGNS


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ("bytes", ("bad sha256", "does not match", "sha256 不符")),
        ("size", ("too large", "太大")),
        ("manifest-sha", ("bad sha256", "the manifest says")),
        ("manifest-name", ("wrong manifest", "清单有错")),
        ("manifest-yaml", ("wrong manifest", "清单有错")),
    ],
)
def test_robot_rejects_a_bad_model_and_installs_nothing(
    model: ModelEntry, store: BundleStore, tmp_path: Path, change: str, words: tuple[str, ...]
) -> None:
    ref = prepare_model(store, manifest_text(model), model.manifest.sha256)
    data = model.model_path.read_bytes()
    limit = 32 * 1024 * 1024
    if change == "bytes":  # a model changed on the way: one byte flipped
        data = data[:-1] + bytes([data[-1] ^ 1])
    elif change == "size":
        limit = 4096
    elif change == "manifest-sha":
        ref = ref.model_copy(
            update={"manifest": ref.manifest.replace(model.manifest.sha256, "a" * 64)}
        )
    elif change == "manifest-name":
        ref = ref.model_copy(update={"name": "other"})
    elif change == "manifest-yaml":
        ref = ref.model_copy(update={"manifest": "labels: ["})
    key = SigningKey.load_or_create(tmp_path / "key.pem")
    folder = tmp_path / "cache" / "models"
    cache = BundleCache(tmp_path / "agent" / "bundles")
    with pytest.raises(JobRejected) as caught:
        install_model(job(inline(ref, data), key), cache, None, folder, limit=limit)
    for word in words:
        assert word in str(caught.value)
    assert not folder.exists() or not any(folder.iterdir())


def test_a_model_that_cannot_be_fetched_fails_but_is_not_rejected(
    model: ModelEntry, store: BundleStore, tmp_path: Path
) -> None:
    ref = prepare_model(store, manifest_text(model), model.manifest.sha256)
    key = SigningKey.load_or_create(tmp_path / "key.pem")
    with pytest.raises(JobError) as caught:
        install_model(job(ref, key), BundleCache(tmp_path / "b"), None, tmp_path / "models")
    assert not isinstance(caught.value, JobRejected)
    assert "console's address is not known" in str(caught.value)
