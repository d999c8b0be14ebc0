"""A reproducible roboclass wheel: what decides its bytes is its content and SOURCE_DATE_EPOCH.

The real build (pip, setuptools) is in tests/integration/test_installed_wheel.py;
here the zip rewriting and the clean copy, on small made-up wheels and checkouts.
"""

from __future__ import annotations

import base64
import hashlib
import stat
import zipfile
from pathlib import Path

import pytest

from roboclass.offline import OfflineError
from roboclass.offline_wheel import ZIP_EPOCH, _clean_copy, normalise_wheel, source_date_epoch

FILES = {
    "pkg/__init__.py": b"x = 1\n",
    "pkg/data/page.html": b"<html></html>\n",
    "pkg/tool.sh": b"#!/bin/sh\n",
    "demo-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n",
    "demo-1.0.dist-info/WHEEL": b"Wheel-Version: 1.0\n",
}


def _wheel(path: Path, order: list[str], when: tuple[int, ...], mode: int) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        for name in order:
            info = zipfile.ZipInfo(name, date_time=when)  # type: ignore[arg-type]
            executable = name.endswith(".sh")
            info.external_attr = (stat.S_IFREG | (0o775 if executable else mode)) << 16
            zf.writestr(info, FILES[name])
        # a RECORD in the middle, in the order of writing, as a builder may leave it
        zf.writestr("demo-1.0.dist-info/RECORD", "\n".join(order) + "\n")
    return path


def test_the_same_files_written_differently_give_the_same_bytes(tmp_path: Path) -> None:
    names = sorted(FILES)
    one = _wheel(tmp_path / "one.whl", names, (2026, 12, 6, 10, 0, 0), 0o664)
    two = _wheel(tmp_path / "two.whl", names[::-1], (2025, 1, 2, 3, 4, 6), 0o600)
    assert one.read_bytes() != two.read_bytes()
    for wheel in (one, two):
        normalise_wheel(wheel, 1_700_000_000)
    assert one.read_bytes() == two.read_bytes()


def test_entries_are_sorted_dist_info_last_and_record_rewritten(tmp_path: Path) -> None:
    wheel = _wheel(tmp_path / "w.whl", list(FILES), (2026, 12, 6, 10, 0, 0), 0o664)
    normalise_wheel(wheel, 1_700_000_000)
    with zipfile.ZipFile(wheel) as zf:
        infos = zf.infolist()
        names = [i.filename for i in infos]
        record = zf.read("demo-1.0.dist-info/RECORD").decode()
        contents = {n: zf.read(n) for n in names}
    assert names == [
        "pkg/__init__.py",
        "pkg/data/page.html",
        "pkg/tool.sh",
        "demo-1.0.dist-info/METADATA",
        "demo-1.0.dist-info/WHEEL",
        "demo-1.0.dist-info/RECORD",
    ]
    assert {i.date_time for i in infos} == {(2023, 11, 14, 22, 13, 20)}
    modes = {i.filename: (i.external_attr >> 16) & 0o777 for i in infos}
    assert modes["pkg/tool.sh"] == 0o755 and modes["pkg/__init__.py"] == 0o644
    lines = record.splitlines()
    assert lines[-1] == "demo-1.0.dist-info/RECORD,,"
    for line in lines[:-1]:
        name, digest, size = line.split(",")
        data = contents[name]
        expected = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        assert (digest, int(size)) == (f"sha256={expected}", len(data))
    assert [line.split(",")[0] for line in lines[:-1]] == names[:-1]


def test_a_zip_without_record_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.whl"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("pkg/__init__.py", "")
    with pytest.raises(OfflineError, match="not a wheel"):
        normalise_wheel(path, ZIP_EPOCH)


def test_source_date_epoch_from_the_environment_or_1980(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert source_date_epoch(tmp_path) == 1_700_000_000
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "12")  # before 1980: a zip cannot say it
    assert source_date_epoch(tmp_path) == ZIP_EPOCH
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    with pytest.raises(OfflineError, match=r"date \+%s"):
        source_date_epoch(tmp_path)
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    assert source_date_epoch(tmp_path) == ZIP_EPOCH  # not a git checkout


def test_the_clean_copy_has_the_packages_and_no_caches(tmp_path: Path) -> None:
    source = tmp_path / "src"
    (source / "pkg" / "__pycache__").mkdir(parents=True)
    (source / "pkg" / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"")
    (source / "pkg" / "static" / "vendor").mkdir(parents=True)
    (source / "pkg" / "static" / "vendor" / "lib.js").write_text("1")
    (source / "build" / "lib" / "pkg").mkdir(parents=True)
    (source / "build" / "lib" / "pkg" / "deleted.py").write_text("")
    (source / "other").mkdir()
    (source / "other" / "x.py").write_text("")
    (source / ".git").mkdir()
    (source / "README.md").write_text("hi")
    (source / "setup.cfg").write_text("[options.packages.find]\ninclude =\n    pkg\n    pkg.*\n")
    copy = tmp_path / "copy"
    _clean_copy(source, copy)
    found = sorted(p.relative_to(copy).as_posix() for p in copy.rglob("*") if p.is_file())
    assert found == ["README.md", "pkg/static/vendor/lib.js", "setup.cfg"]
