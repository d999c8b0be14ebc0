"""The lesson format and bundles: clear errors, deterministic packing, safe unpacking."""

from __future__ import annotations

import io
import json
import re
import shutil
import tarfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from lessons import (
    BundleError,
    LessonFormatError,
    builtin_lessons,
    bundle_sha256,
    load_lesson,
    pack_bundle,
    unpack_bundle,
)
from lessons.library import LIBRARY
from lessons.model import Bilingual
from roboclass.cli import cli


@pytest.fixture
def lesson_copy(tmp_path: Path) -> Path:
    target = tmp_path / "line-follower"
    shutil.copytree(LIBRARY / "line-follower", target)
    return target


def test_library_lists_every_band_in_both_languages() -> None:
    result = CliRunner().invoke(cli, ["lesson", "list", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["broken"] == []
    ids = {item["id"] for item in data["lessons"]}
    assert ids >= {"lights-and-sound", "line-follower"}
    for item in data["lessons"]:
        assert item["title"]["en"] and item["title"]["zh"]
        assert item["band"] in ("perceive", "apply", "create")
    assert len(builtin_lessons()) == len(data["lessons"])


def test_validate_cli_all_builtin() -> None:
    result = CliRunner().invoke(cli, ["lesson", "validate", "--json"])
    assert result.exit_code == 0, result.output
    assert all(r["ok"] for r in json.loads(result.output))


def test_yaml_error_points_at_file_and_line_in_both_languages(lesson_copy: Path) -> None:
    text = (lesson_copy / "lesson.yaml").read_text(encoding="utf-8")
    (lesson_copy / "lesson.yaml").write_text(
        text.replace("band: apply", "band: expert"), encoding="utf-8"
    )
    with pytest.raises(LessonFormatError) as info:
        load_lesson(lesson_copy)
    message = str(info.value)
    line = next(i for i, row in enumerate(text.splitlines(), 1) if row.startswith("band:"))
    assert f"lesson.yaml:{line}:" in message and "band" in message
    assert "取值不在允许范围内" in message
    result = CliRunner().invoke(cli, ["lesson", "validate", str(lesson_copy)])
    assert result.exit_code == 1 and f"lesson.yaml:{line}:" in result.output


def test_python_syntax_error_points_at_the_line(lesson_copy: Path) -> None:
    (lesson_copy / "starter.py").write_text(
        "import time\n\nwhile True\n    pass\n", encoding="utf-8"
    )
    with pytest.raises(LessonFormatError, match=r"starter.py:3:\d+: Python syntax error"):
        load_lesson(lesson_copy)


def test_grader_must_define_grade(lesson_copy: Path) -> None:
    (lesson_copy / "check.py").write_text("def score(run):\n    return 1\n", encoding="utf-8")
    with pytest.raises(LessonFormatError, match="must define `def grade"):
        load_lesson(lesson_copy)


def test_missing_file(lesson_copy: Path) -> None:
    (lesson_copy / "solution.py").unlink()
    with pytest.raises(LessonFormatError, match=r"solution\.py: missing"):
        load_lesson(lesson_copy)


def test_missing_kit_file(lesson_copy: Path) -> None:
    text = (lesson_copy / "lesson.yaml").read_text(encoding="utf-8")
    (lesson_copy / "lesson.yaml").write_text(
        text.replace("kit: sim", "kit: kit.yaml"), encoding="utf-8"
    )
    with pytest.raises(LessonFormatError, match=r"kit file kit\.yaml is missing"):
        load_lesson(lesson_copy)


def test_packing_is_deterministic(lesson_copy: Path, tmp_path: Path) -> None:
    first = pack_bundle(lesson_copy)
    (lesson_copy / "__pycache__").mkdir()
    (lesson_copy / "__pycache__" / "x.pyc").write_bytes(b"junk")
    (lesson_copy / "starter.py").touch()  # a new mtime changes nothing
    assert pack_bundle(lesson_copy) == first
    out = unpack_bundle(first, tmp_path / "out", expected_sha256=bundle_sha256(first))
    assert load_lesson(out).id == "line-follower"
    assert pack_bundle(out) == first


def test_pack_cli(tmp_path: Path) -> None:
    out = tmp_path / "b.rcl"
    result = CliRunner().invoke(
        cli, ["lesson", "pack", "line-follower", "--out", str(out), "--json"]
    )
    assert result.exit_code == 0, result.output
    info = json.loads(result.output)
    assert info["sha256"] == bundle_sha256(out.read_bytes()) and info["bytes"] == out.stat().st_size


def _tar(*members: tuple[tarfile.TarInfo, bytes | None]) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz") as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return raw.getvalue()


def _file(name: str, data: bytes = b"x") -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def _link(name: str, target: str, kind: bytes) -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    return info, None


@pytest.mark.parametrize(
    ("bundle", "error"),
    [
        (_tar(_file("lesson.yaml"), _file("../evil.py")), "unsafe path"),
        (_tar(_file("lesson.yaml"), _file("/etc/evil")), "unsafe path"),
        (_tar(_file("lesson.yaml"), _file("a/../../evil")), "unsafe path"),
        (
            _tar(_file("lesson.yaml"), _link("s", "/etc/passwd", tarfile.SYMTYPE)),
            "only plain files",
        ),
        (
            _tar(_file("lesson.yaml"), _link("h", "lesson.yaml", tarfile.LNKTYPE)),
            "only plain files",
        ),
        (_tar(_file(".hidden")), "hidden file"),
        (_tar(_file("starter.py")), "no lesson.yaml"),
        (b"not a bundle at all", "not a bundle"),
    ],
)
def test_malicious_bundles_are_rejected(tmp_path: Path, bundle: bytes, error: str) -> None:
    with pytest.raises(BundleError, match=error):
        unpack_bundle(bundle, tmp_path / "out")
    assert not (tmp_path / "evil.py").exists()


def test_huge_bundle_is_rejected_before_writing(tmp_path: Path) -> None:
    big = _file("big.bin", b"\0" * (60 * 1024 * 1024))  # compresses to almost nothing
    with pytest.raises(BundleError, match=r"too large|more than the limit"):
        unpack_bundle(_tar(_file("lesson.yaml"), big), tmp_path / "out")
    assert not (tmp_path / "out" / "big.bin").exists()


def test_tampered_bundle_fails_its_hash(lesson_copy: Path, tmp_path: Path) -> None:
    data = pack_bundle(lesson_copy)
    with pytest.raises(BundleError, match="sha256 does not match"):
        changed = data[:100] + bytes([data[100] ^ 1]) + data[101:]
        unpack_bundle(changed, tmp_path / "out", expected_sha256=bundle_sha256(data))


def test_links_in_a_lesson_folder_are_refused(lesson_copy: Path) -> None:
    (lesson_copy / "link.py").symlink_to(lesson_copy / "starter.py")
    with pytest.raises(BundleError, match="links cannot go into a bundle"):
        pack_bundle(lesson_copy)


def test_chinese_text_folded_over_lines_has_no_stray_spaces() -> None:
    folded = Bilingual(
        en="Keep 25 cm away.", zh="离墙 25 厘米， 再用 `robot.line` 看看\n\n第二段。"
    )
    assert folded.zh == "离墙 25 厘米，再用 `robot.line` 看看\n\n第二段。"
    for lesson in builtin_lessons():
        for step in lesson.model.steps:
            assert not re.search("[\u4e00-\u9fff，。] [\u4e00-\u9fff，。]", step.body.zh), lesson.id
