"""Teach your robot (vision.teach): collect sim camera frames, train, export, run.

Everything uses the real shipped feature extractor and the real ONNX export;
datasets and exported models go to temporary folders (``root=``/``folder=``
and a registry with those roots), never to the user's data folder.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from hardware.sim import BodySpec, CameraSpec, Pose, World
from models import SHIPPED_DIR, Registry, load_manifest, verify
from vision import Classifier, FrameError, RunnerClosedError
from vision.teach import Dataset, DatasetError, capture, datasets, train
from vision.teach.features import Embedder
from vision.teach.head import fit_head, split
from vision.teach.model import TrainedModel

SIGNS = ("stop", "left", "right")
SIGN_AT = (1.5, 1.5)


def sim_frames(kind: str, count: int, seed: int) -> Iterator[np.ndarray]:
    """The robot's camera looking at one sign from varied places, heights and light."""
    rng = np.random.default_rng(seed)
    for _ in range(count):
        floor = "#{:02x}{:02x}{:02x}".format(*(int(v) for v in rng.integers(90, 230, 3)))
        world = World.empty(
            3.0,
            3.0,
            border={"height": 0.4, "colour": "#b8b8b8"},
            resolution_mm=20,
            floor={"colour": floor},
            signs=[{"kind": kind, "at": SIGN_AT, "facing": 180.0, "size": 0.15}],
        )
        d = float(rng.uniform(0.3, 0.7))
        side = math.radians(float(rng.uniform(-25, 25)))
        x, y = SIGN_AT[0] - d * math.cos(side), SIGN_AT[1] - d * math.sin(side)
        heading = math.degrees(math.atan2(SIGN_AT[1] - y, SIGN_AT[0] - x))
        robot = world.add_robot(BodySpec(), Pose(x, y, heading + float(rng.uniform(-8, 8))))
        spec = CameraSpec(
            brightness=float(rng.uniform(0.6, 1.3)),
            noise=float(rng.uniform(0, 4)),
            seed=int(rng.integers(1 << 30)),
        )
        yield robot.camera(spec).read()


@pytest.fixture(scope="module")
def held_out() -> list[tuple[str, np.ndarray]]:
    """Frames captured separately (other seeds) that training never sees."""
    return [(k, f) for i, k in enumerate(SIGNS) for f in sim_frames(k, 10, seed=100 + i)]


@pytest.fixture(scope="module")
def taught(tmp_path_factory: pytest.TempPathFactory) -> tuple[Dataset, TrainedModel, Registry]:
    """20 frames of each of three signs through capture(), then train()."""
    root = tmp_path_factory.mktemp("teach")
    registry = Registry(roots=[(root / "models", "data"), (SHIPPED_DIR, "package")])
    data = Dataset("my-signs", root=root / "datasets")
    zh = {"stop": "停车", "left": "左转", "right": "右转"}
    for i, kind in enumerate(SIGNS):
        frames = sim_frames(kind, 20, seed=i)
        camera: Callable[[], np.ndarray] = lambda frames=frames: next(frames)  # noqa: E731
        assert capture(data, camera, kind, count=20, every=0, zh=zh[kind]) == 20
    return data, train(data, registry=registry), registry


def test_dataset_is_plain_folders_and_a_manifest(
    taught: tuple[Dataset, TrainedModel, Registry],
) -> None:
    data, _, _ = taught
    assert data.counts() == {"stop": 20, "left": 20, "right": 20}
    assert (data.folder / "stop" / "0001.jpg").is_file()
    manifest = json.loads(data.manifest_path.read_text(encoding="utf-8"))
    assert [x["id"] for x in manifest["labels"]] == list(SIGNS)
    assert manifest["labels"][0]["zh"] == "停车"
    assert len(manifest["pictures"]) == 60
    again = Dataset("my-signs", root=data.folder.parent)
    assert again.counts() == data.counts()
    assert datasets(data.folder.parent) == ["my-signs"]


def test_a_closed_trained_model_frees_its_extractor_and_refuses_to_predict(
    taught: tuple[Dataset, TrainedModel, Registry], held_out: list[tuple[str, np.ndarray]]
) -> None:
    data, _, registry = taught
    with train(data, registry=registry) as model:
        extractor = model._embedder
        assert extractor is not None and model.predict(held_out[0][1]).label in SIGNS
    assert model.closed and extractor.closed
    with pytest.raises(RunnerClosedError):
        model.predict(held_out[0][1])
    assert model._embedder is None  # not made again
    model.close()  # twice is fine


def test_training_is_accurate_on_frames_captured_separately(
    taught: tuple[Dataset, TrainedModel, Registry], held_out: list[tuple[str, np.ndarray]]
) -> None:
    _, model, _ = taught
    assert model.report.checked_on == 15 and model.report.trained_on == 45
    assert model.report.accuracy >= 0.8, model.report
    right = sum(model.predict(frame).label == kind for kind, frame in held_out)
    assert right / len(held_out) >= 0.9, f"{right}/{len(held_out)}"
    assert model.predict(held_out[0][1], lang="zh").name == "停车"


def test_export_is_one_onnx_model_that_classifier_loads(
    taught: tuple[Dataset, TrainedModel, Registry],
    held_out: list[tuple[str, np.ndarray]],
    tmp_path: Path,
) -> None:
    _, model, registry = taught
    folder = registry.roots[0][0]
    entry = model.export("my-signs", zh="我的标志", folder=folder)
    assert entry.model_path == folder / "my-signs.onnx"
    manifest = load_manifest(entry.manifest_path)
    assert manifest.task == "classify" and manifest.output.format == "probabilities"
    assert manifest.label_ids() == list(SIGNS) and manifest.labels[1].zh == "左转"
    assert manifest.title.zh == "我的标志"
    assert verify(registry.find("my-signs")) == []
    with Classifier("my-signs", registry=registry, threads=1) as sign:
        for _, frame in held_out:
            exported = sign(frame)
            inside = model.probabilities(frame)
            assert exported.label == model.predict(frame).label
            assert exported.score == pytest.approx(float(inside.max()), abs=1e-4)


def test_confusion_picture_is_saved(
    taught: tuple[Dataset, TrainedModel, Registry], tmp_path: Path
) -> None:
    _, model, _ = taught
    for lang in ("en", "zh"):
        path = model.save_confusion(tmp_path / f"confusion-{lang}.png", lang=lang)
        image = cv2.imread(str(path))
        assert image is not None and image.shape[0] > 200 and image.shape[1] > 300


def test_head_learns_and_split_keeps_every_label() -> None:
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(c, 0.3, (10, 4)) for c in (0.0, 2.0, 4.0)])
    y = np.repeat(np.arange(3), 10)
    head = fit_head(x, y, 3)
    assert (head.probabilities(x).argmax(axis=1) == y).mean() == 1.0
    train_rows, val_rows = split(y, 0.25)
    assert sorted(set(y[val_rows].tolist())) == [0, 1, 2]
    assert not set(train_rows.tolist()) & set(val_rows.tolist())


def test_embedder_gives_the_feature_vector() -> None:
    with Embedder(threads=1) as embed:
        frame = next(sim_frames("stop", 1, seed=5))
        v = embed(frame)
        assert v.ndim == 1 and v.size >= 96 and v.dtype == np.float32 and np.isfinite(v).all()


def test_empty_and_small_datasets_say_what_to_do(tmp_path: Path) -> None:
    data = Dataset("empty", root=tmp_path)
    with pytest.raises(DatasetError, match="no pictures yet"):
        train(data)
    frame = np.zeros((240, 320, 3), np.uint8)
    for _ in range(3):
        data.add("stop", frame)
    with pytest.raises(DatasetError, match="at least two labels"):
        train(data)
    data.add("go", frame)
    with pytest.raises(DatasetError, match=r"too few pictures of go \(1\)"):
        train(data)
    with pytest.raises(DatasetError, match="cannot be a label"):
        data.add("stop sign!", frame)
    with pytest.raises(DatasetError, match="cannot be a dataset name"):
        Dataset("My Signs", root=tmp_path)
    with pytest.raises(FrameError, match="height x width x 3"):
        data.add("stop", np.zeros((4,), np.uint8))


def test_broken_datasets_give_clear_errors(tmp_path: Path) -> None:
    data = Dataset("broken", root=tmp_path)
    frame = np.full((240, 320, 3), 128, np.uint8)
    for label in ("a", "b"):
        for _ in range(3):
            data.add(label, frame)
    (data.folder / "a" / "0002.jpg").unlink()
    with pytest.raises(DatasetError, match=r"0002.jpg is missing"):
        train(Dataset("broken", root=tmp_path))
    data.manifest_path.write_text("{not json", encoding="utf-8")
    with pytest.raises(DatasetError, match=r"manifest\.json is broken"):
        Dataset("broken", root=tmp_path)
    data.manifest_path.write_text(
        json.dumps({"format": 1, "labels": [], "pictures": [{"file": "../x.jpg", "label": "a"}]}),
        encoding="utf-8",
    )
    with pytest.raises(DatasetError, match="unknown label"):
        Dataset("broken", root=tmp_path)


def test_cli_lists_datasets_and_trains(tmp_path: Path) -> None:
    from click.testing import CliRunner  # noqa: PLC0415

    from vision.teach.cli import teach  # noqa: PLC0415

    env = {"ROBOCLASS_DATA_DIR": str(tmp_path)}
    data = Dataset("cli-signs", root=tmp_path / "datasets")
    for i, kind in enumerate(SIGNS[:2]):
        for frame in sim_frames(kind, 4, seed=50 + i):
            data.add(kind, frame)
    runner = CliRunner()
    listed = runner.invoke(teach, ["datasets", "--json"], env=env)
    assert listed.exit_code == 0, listed.output
    assert json.loads(listed.output) == {"cli-signs": {"stop": 4, "left": 4}}
    done = runner.invoke(
        teach, ["train", "cli-signs", "--confusion", str(tmp_path / "c.png"), "--json"], env=env
    )
    assert done.exit_code == 0, done.output
    result = json.loads(done.output)
    assert result["model"] == "cli-signs" and result["labels"] == ["stop", "left"]
    assert (tmp_path / "models" / "cli-signs.onnx").is_file() and (tmp_path / "c.png").is_file()
    missing = runner.invoke(teach, ["train", "nothing-here"], env=env)
    assert missing.exit_code != 0 and "no pictures yet" in missing.output


def test_cli_collects_exports_and_evaluates(tmp_path: Path) -> None:
    from click.testing import CliRunner  # noqa: PLC0415

    from lessons import find_lesson  # noqa: PLC0415
    from vision.teach.cli import teach  # noqa: PLC0415

    env = {"ROBOCLASS_DATA_DIR": str(tmp_path / "data")}
    runner = CliRunner()
    for i, kind in enumerate(SIGNS[:2]):  # picture files, e.g. from a phone
        folder = tmp_path / "photos" / kind
        folder.mkdir(parents=True)
        for n, frame in enumerate(sim_frames(kind, 6, seed=70 + i)):
            cv2.imwrite(str(folder / f"{n}.jpg"), frame)
        got = runner.invoke(
            teach, ["collect", "cli-signs", kind, "--images", str(folder), "--json"], env=env
        )
        assert got.exit_code == 0, got.output
        assert json.loads(got.output)["added"] == 6
    world = find_lesson("teach-your-robot").file("world.yaml")  # the sim camera
    args = ["collect", "cli-signs", "wall", "--world", str(world), "--count", "3", "--every", "0"]
    camera = runner.invoke(teach, [*args, "--zh", "墙", "--json"], env=env)
    assert camera.exit_code == 0, camera.output
    assert json.loads(camera.output)["counts"] == {"stop": 6, "left": 6, "wall": 3}
    exported = runner.invoke(
        teach, ["export", "cli-signs", "--name", "cli-model", "--zh", "我的", "--json"], env=env
    )
    assert exported.exit_code == 0, exported.output
    done = json.loads(exported.output)
    path = Path(done["path"])
    assert path == tmp_path / "data" / "models" / "cli-model.onnx"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == done["sha256"]
    assert done["size"] == path.stat().st_size and done["labels"] == ["stop", "left", "wall"]
    assert load_manifest(done["manifest"]).title.zh == "我的"
    test = Dataset("cli-test", root=tmp_path / "data" / "datasets")
    for i, kind in enumerate(SIGNS):  # "right" is a label the model never learned
        for frame in sim_frames(kind, 4, seed=90 + i):
            test.add(kind, frame)
    picture = tmp_path / "check.png"
    checked = runner.invoke(
        teach, ["evaluate", "cli-model", "cli-test", "--confusion", str(picture), "--json"], env=env
    )
    assert checked.exit_code == 0, checked.output
    found = json.loads(checked.output)
    assert found["pictures"] == 8 and found["skipped"] == {"right": 4}
    assert found["accuracy"] >= 0.75 and found["labels"] == ["stop", "left", "wall"]
    assert cv2.imread(str(picture)) is not None
    plain = runner.invoke(teach, ["evaluate", "cli-model", "cli-test"], env=env)
    assert plain.exit_code == 0 and "cli-model on cli-test: accuracy" in plain.output
    unknown = runner.invoke(teach, ["evaluate", "no-model", "cli-test"], env=env)
    assert unknown.exit_code != 0 and "no model called 'no-model'" in unknown.output
