"""models/: manifests, registry, sha256 checks and `roboclass models`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from models import (
    SHIPPED_DIR,
    ManifestError,
    ModelFileError,
    ModelNotFoundError,
    Registry,
    dump_manifest,
    load_manifest,
    parse_manifest,
    verify,
)
from models.manifest import ColourOrder, DType, Layout, OutputFormat, Resize, Task
from roboclass.cli import cli

SIGNS = SHIPPED_DIR / "traffic-signs.yaml"


@pytest.fixture(autouse=True)
def _own_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROBOCLASS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ROBOCLASS_CACHE_DIR", str(tmp_path / "cache"))


def copy_model(folder: Path, yaml_text: str | None = None) -> Path:
    """The shipped sign classifier copied into ``folder`` (with its manifest text replaced)."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(SHIPPED_DIR / "traffic-signs.onnx", folder / "traffic-signs.onnx")
    target = folder / "traffic-signs.yaml"
    target.write_text(yaml_text or SIGNS.read_text(encoding="utf-8"), encoding="utf-8")
    return target


def edited(old: str, new: str) -> str:
    text = SIGNS.read_text(encoding="utf-8")
    assert old in text
    return text.replace(old, new, 1)


def test_every_shipped_model_is_valid_and_verified() -> None:
    entries = Registry([(SHIPPED_DIR, "package")]).entries()
    assert {"traffic-signs"} <= {e.name for e in entries}
    for e in entries:
        assert verify(e) == [], e.name
        assert e.manifest.accuracy, f"{e.name} has no measured accuracy"
        assert e.model_path.stat().st_size < 5_000_000
        assert all(label.zh and label.en for label in e.manifest.labels)


def test_a_changed_file_fails_the_sha256_check(tmp_path: Path) -> None:
    manifest = copy_model(tmp_path / "m")
    with (tmp_path / "m" / "traffic-signs.onnx").open("ab") as f:
        f.write(b"\0")
    entry = Registry().find(manifest)
    with pytest.raises(ModelFileError, match="has changed: its sha256 is") as info:
        entry.read_verified()
    assert "已被改动" in info.value.text("zh")
    assert "has changed" in verify(entry)[0].en


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    manifest = copy_model(tmp_path / "m")
    (tmp_path / "m" / "traffic-signs.onnx").unlink()
    with pytest.raises(ModelFileError, match="is missing"):
        Registry().find(manifest).read_verified()


def test_missing_labels_point_at_the_line() -> None:
    text = SIGNS.read_text(encoding="utf-8")
    head, _, _ = text.partition("\nlabels:")
    _, _, tail = text.partition("\nlicence:")
    with pytest.raises(ManifestError) as info:
        parse_manifest(head + "\nlicence:" + tail, "signs.yaml")
    problems = info.value.config_error.problems
    assert [p.field for p in problems] == ["labels"]
    assert "required field is missing" in str(info.value)


def test_empty_labels_and_bad_sha256_are_both_reported_with_lines() -> None:
    text = edited("sha256: ", "sha256: zz").replace("\nlabels:", "\nlabels: []\nold_labels:", 1)
    with pytest.raises(ManifestError) as info:
        parse_manifest(text, "signs.yaml")
    fields = {p.field: p for p in info.value.config_error.problems}
    assert {"sha256", "labels", "old_labels"} <= set(fields)
    lines = text.splitlines()
    assert lines[fields["sha256"].line - 1].startswith("sha256: zz")  # type: ignore[operator]
    assert "未知字段" in info.value.text("zh")


def test_unknown_field_suggests_the_right_one() -> None:
    with pytest.raises(ManifestError, match="did you mean 'licence'"):
        parse_manifest(edited("licence:", "lisence:"))


def test_output_format_must_fit_the_task() -> None:
    with pytest.raises(ManifestError, match="does not fit task 'classify'"):
        parse_manifest(edited("format: logits", "format: yolov8"))


def test_uint8_input_cannot_have_mean_and_std() -> None:
    with pytest.raises(ManifestError, match="uint8 input takes raw pixels"):
        parse_manifest(edited("normalise: in-graph", "normalise: {mean: [0.5, 0.5, 0.5]}"))


def test_wrong_input_size_is_found_by_verify(tmp_path: Path) -> None:
    manifest = copy_model(tmp_path / "m", edited("width: 64", "width: 96"))
    problems = verify(Registry().find(manifest))
    assert len(problems) == 1
    assert "input shape: the model takes [1, 64, 64, 3], the manifest says [1, 64, 96, 3]" in (
        problems[0].en
    )


def test_wrong_number_of_labels_is_found_by_verify(tmp_path: Path) -> None:
    text = SIGNS.read_text(encoding="utf-8")
    cut = text.index("- id: none")
    end = text.index("licence:")
    manifest = copy_model(tmp_path / "m", text[:cut] + text[end:])
    problems = verify(Registry().find(manifest))
    assert [p.en for p in problems] == ["the model gives 20 scores but the manifest has 19 labels"]


def test_search_order_and_shadowing(tmp_path: Path) -> None:
    copy_model(tmp_path / "data" / "models", edited("version: 1.1.0", "version: 9.0.0"))
    registry = Registry()
    entry = registry.find("traffic-signs")
    assert (entry.origin, entry.manifest.version) == ("data", "9.0.0")
    assert registry.names().count("traffic-signs") == 1
    found, broken = registry.scan()
    assert [e.origin for e in found if e.name == "traffic-signs"] == ["data", "package"]
    assert broken == []


def test_broken_manifests_are_listed_not_raised(tmp_path: Path) -> None:
    folder = tmp_path / "cache" / "models"
    folder.mkdir(parents=True)
    (folder / "bad.yaml").write_text("name: bad\nversion: [\n", encoding="utf-8")
    _, broken = Registry().scan()
    assert [b.path.name for b in broken] == ["bad.yaml"]
    assert "not valid YAML" in broken[0].error.text("en")


def test_unknown_name_and_wrong_task() -> None:
    with pytest.raises(
        ModelNotFoundError, match=r"no model called 'nope'; models here: .*traffic-signs"
    ):
        Registry().find("nope")
    with pytest.raises(ModelNotFoundError, match="is a classify model, not a detect model"):
        Registry().find("traffic-signs", task="detect")
    with pytest.raises(ModelNotFoundError, match="no manifest"):
        Registry().find("elsewhere/thing.onnx")


def test_dump_and_parse_round_trip() -> None:
    m = load_manifest(SIGNS)
    assert parse_manifest(dump_manifest(m)) == m


@pytest.mark.parametrize("path", sorted(SHIPPED_DIR.glob("*.yaml")), ids=lambda p: p.stem)
def test_enum_fields_are_the_words_of_the_file(path: Path) -> None:
    m = load_manifest(path)
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(m.task, Task) and m.task == raw["task"]
    assert isinstance(m.input.layout, Layout) and m.input.layout == raw["input"]["layout"]
    assert isinstance(m.input.colour, ColourOrder) and m.input.colour == raw["input"]["colour"]
    assert isinstance(m.input.dtype, DType) and m.input.dtype == raw["input"]["dtype"]
    assert isinstance(m.input.resize, Resize) and m.input.resize == raw["input"]["resize"]
    assert isinstance(m.output.format, OutputFormat)
    assert m.output.format == raw["output"]["format"]
    text = dump_manifest(m)  # the same YAML as before: plain words, no Python tags
    assert f"task: {raw['task']}\n" in text and "!!" not in text
    assert yaml.safe_load(text)["input"] | raw["input"] == yaml.safe_load(text)["input"]
    assert parse_manifest(text) == m


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def test_cli_list_info_verify_json() -> None:
    code, out = run("models", "list", "--json")
    assert code == 0
    doc = json.loads(out)
    assert "traffic-signs" in [m["name"] for m in doc["models"]]
    code, out = run("--lang", "zh", "models", "info", "traffic-signs", "--json")
    assert code == 0
    info = json.loads(out)
    assert info["labels"][0] == {"id": "stop", "en": "Stop", "zh": "停车"}
    assert info["title"] == "交通标志和数字"
    code, out = run("models", "verify", "--json")
    assert code == 0, out
    assert json.loads(out)["ok"] is True


def test_cli_verify_fails_on_a_changed_file(tmp_path: Path) -> None:
    copy_model(tmp_path / "data" / "models")
    with (tmp_path / "data" / "models" / "traffic-signs.onnx").open("ab") as f:
        f.write(b"x")
    code, out = run("models", "verify", "traffic-signs", "--json")
    assert code == 1
    doc = json.loads(out)
    assert doc["ok"] is False
    assert "has changed" in doc["models"][0]["problems"][0]


def test_cli_add_reads_the_input_from_the_model(tmp_path: Path) -> None:
    onnx = tmp_path / "My_Signs.onnx"
    shutil.copy(SHIPPED_DIR / "traffic-signs.onnx", onnx)
    labels = ",".join(f"c{i}=类{i}" for i in range(20))
    code, out = run("models", "add", str(onnx), "--task", "classify", "--labels", labels, "--json")
    assert code == 0, out
    doc = json.loads(out)
    assert doc["name"] == "my-signs"
    assert doc["origin"] == "data"
    entry = Registry().find("my-signs")
    i = entry.manifest.input
    assert (i.width, i.height, i.layout, i.dtype, i.normalise) == (
        64,
        64,
        "NHWC",
        "uint8",
        "in-graph",
    )
    assert entry.manifest.labels[3].zh == "类3"
    assert verify(entry) == []


def test_cli_add_refuses_labels_that_do_not_fit(tmp_path: Path) -> None:
    code, out = run(
        "models", "add", str(SHIPPED_DIR / "traffic-signs.onnx"), "--task", "classify",
        "--labels", "a,b", "--name", "two",
    )  # fmt: skip
    assert code == 1
    assert "the model gives 20 scores but the manifest has 2 labels" in out
    assert not (tmp_path / "data" / "models" / "two.yaml").exists()
