"""Lesson bundles: one file, the same bytes for the same lesson, safe to open.

A bundle is a gzip'd tar of the lesson folder with fixed times, owners and
modes and sorted names, so packing the same lesson twice gives the same
bytes and so the same sha256 (its address in the fleet). Unpacking accepts
only plain files and folders with relative names inside the bundle, within
size limits, whatever the archive claims.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import shutil
import tarfile
import zlib
from pathlib import Path, PurePosixPath
from typing import Any

from lessons.errors import BundleError

__all__ = ["MAX_BUNDLE_BYTES", "bundle_sha256", "pack_bundle", "unpack_bundle"]

MAX_BUNDLE_BYTES = 20 * 1024 * 1024  # compressed
MAX_UNPACKED_BYTES = 50 * 1024 * 1024
MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_ENTRIES = 2000
#: The tar stream itself: the files, a header and padding per entry, the end blocks.
_MAX_ARCHIVE_BYTES = MAX_UNPACKED_BYTES + 1024 * (MAX_ENTRIES + 1) + tarfile.RECORDSIZE
_CHUNK = 64 * 1024
_MAX_READ = 1024 * 1024
_SKIP_DIRS = {"__pycache__", ".git", ".pytest_cache", ".mypy_cache"}


def _files(folder: Path) -> list[Path]:
    found = []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if any(part in _SKIP_DIRS or part.startswith(".") for part in rel.parts):
            continue
        if path.is_symlink():
            raise BundleError(f"{path}: links cannot go into a bundle; copy the file instead")
        if path.is_file() and path.suffix not in (".pyc", ".pyo"):
            found.append(path)
    return found


def pack_bundle(folder: str | Path) -> bytes:
    """The bundle of ``folder`` (deterministic bytes)."""
    root = Path(folder)
    if not (root / "lesson.yaml").is_file():
        raise BundleError(f"{root}: not a lesson folder (no lesson.yaml)")
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for path in _files(root):
            data = path.read_bytes()
            if len(data) > MAX_FILE_BYTES:
                raise BundleError(f"{path}: {len(data)} bytes is too large for a bundle")
            info = tarfile.TarInfo(path.relative_to(root).as_posix())
            info.size = len(data)
            info.mtime = 0
            info.mode = 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
    packed = gzip.compress(raw.getvalue(), compresslevel=9, mtime=0)
    if len(packed) > MAX_BUNDLE_BYTES:
        raise BundleError(f"the bundle is {len(packed)} bytes; the limit is {MAX_BUNDLE_BYTES}")
    return packed


def bundle_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _refuse(en: str, zh: str) -> BundleError:
    return BundleError(f"{en} / {zh}")


def _safe_name(name: str) -> PurePosixPath:
    path = PurePosixPath(name)
    if not name or name.startswith("/") or "\\" in name or path.is_absolute() or ".." in path.parts:
        raise _refuse(f"unsafe path in bundle: {name!r}", f"课程包里有不安全的路径：{name!r}")
    if any(part.startswith(".") and part not in (".",) for part in path.parts):
        raise _refuse(f"hidden file in bundle: {name!r}", f"课程包里有隐藏文件：{name!r}")
    return path


def _too_large(what: str) -> BundleError:
    return _refuse(
        f"the bundle unpacks to more than the limit ({what}): it is not a lesson; "
        "pack the lesson again with `roboclass lesson pack`",
        f"课程包解开后超过上限（{what}）：这不是一个课程；请用 `roboclass lesson pack` 重新打包",
    )


class _Capped(io.RawIOBase):
    """A gzip'd tar read as it is decompressed, never past ``limit`` bytes (reads or seeks).

    This is the running cap: a bomb stops at ``limit`` decompressed bytes, whatever
    its tar headers say, and at most one read (1 MiB) is in memory at a time.
    """

    def __init__(self, source: io.BufferedIOBase, limit: int) -> None:
        self._source = source
        self._limit = limit
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def _allow(self, end: int) -> None:
        if end > self._limit:
            raise _too_large(f"more than {self._limit} bytes of archive")

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = self._limit + 1 - self._pos
        if size > _MAX_READ:  # files are copied 64 KiB at a time: only a header asks for more
            raise _refuse(
                f"a header in the bundle is over {_MAX_READ} bytes",
                f"课程包里有一个超过 {_MAX_READ} 字节的头部",
            )
        self._allow(self._pos + size)
        try:
            data = self._source.read(size)
        except (OSError, EOFError, zlib.error) as exc:  # a damaged or truncated gzip
            raise _refuse(f"not a bundle: {exc}", f"不是课程包：{exc}") from exc
        self._pos += len(data)
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        target = {io.SEEK_SET: offset, io.SEEK_CUR: self._pos + offset}.get(whence)
        if target is None:
            raise io.UnsupportedOperation("a bundle is read from its start")
        self._allow(target)
        try:
            self._pos = self._source.seek(target)
        except (OSError, EOFError, zlib.error) as exc:
            raise _refuse(f"not a bundle: {exc}", f"不是课程包：{exc}") from exc
        return self._pos


def _extract(tar: tarfile.TarFile, member: tarfile.TarInfo, out: Path, room: int) -> int:
    """Write one member under ``out`` after checking it; returns its size.

    ``room`` is what the bundle may still unpack to: a member larger than that, or
    than :data:`MAX_FILE_BYTES`, is refused before a byte of it is written.
    """
    rel = _safe_name(member.name)
    if member.isdir():
        return 0
    if not member.isfile():
        raise _refuse(
            f"{member.name}: only plain files may be in a bundle (no links or devices)",
            f"{member.name}：课程包里只能有普通文件（不能有链接或设备）",
        )
    if member.size > MAX_FILE_BYTES:
        raise _refuse(
            f"{member.name}: {member.size} bytes is too large (at most {MAX_FILE_BYTES})",
            f"{member.name}：{member.size} 字节太大（最多 {MAX_FILE_BYTES}）",
        )
    if member.size > room:
        raise _too_large(f"more than {MAX_UNPACKED_BYTES} bytes of files")
    source = tar.extractfile(member)
    if source is None:
        raise _refuse(f"{member.name}: cannot be read", f"{member.name}：无法读取")
    target = out.joinpath(*rel.parts)
    if out.resolve() not in target.resolve().parents:
        raise _refuse(
            f"unsafe path in bundle: {member.name!r}", f"课程包里有不安全的路径：{member.name!r}"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as sink:
        shutil.copyfileobj(source, sink, _CHUNK)
    return member.size


def unpack_bundle(
    data: bytes | str | Path, dest: str | Path, expected_sha256: str | None = None
) -> Path:
    """Unpack a bundle into ``dest`` (which must be empty or new) and return ``dest``.

    It is decompressed as it is read, with a running cap on the archive's bytes,
    each file's bytes, all files' bytes and the number of entries: a gzip bomb
    stops at the cap with :class:`BundleError` (in English and Chinese), and
    memory stays at one read's worth.
    """
    size = len(data) if isinstance(data, bytes) else Path(data).stat().st_size
    if size > MAX_BUNDLE_BYTES:  # before a file is read
        raise _refuse(
            f"the bundle is {size} bytes; the limit is {MAX_BUNDLE_BYTES}",
            f"课程包有 {size} 字节；上限是 {MAX_BUNDLE_BYTES}",
        )
    blob = data if isinstance(data, bytes) else Path(data).read_bytes()
    if expected_sha256 is not None and bundle_sha256(blob) != expected_sha256:
        raise _refuse(
            "the bundle's sha256 does not match: it was damaged or changed on the way",
            "课程包的 sha256 不符：它在途中损坏或被改动过",
        )
    out = Path(dest)
    out.mkdir(parents=True, exist_ok=True)
    if any(out.iterdir()):
        raise BundleError(f"{out} is not empty / {out} 不是空的")
    packed: io.BufferedIOBase = io.BytesIO(blob)
    if blob[:2] == b"\x1f\x8b":
        packed = gzip.GzipFile(fileobj=packed, mode="rb")
    total = entries = 0
    try:
        with tarfile.open(fileobj=_Capped(packed, _MAX_ARCHIVE_BYTES), mode="r:") as tar:
            for member in tar:
                entries += 1
                if entries > MAX_ENTRIES:
                    raise _refuse(
                        f"the bundle has more than {MAX_ENTRIES} entries",
                        f"课程包的条目超过 {MAX_ENTRIES} 个",
                    )
                total += _extract(tar, member, out, MAX_UNPACKED_BYTES - total)
    except tarfile.TarError as exc:
        raise _refuse(f"not a bundle: {exc}", f"不是课程包：{exc}") from exc
    if not (out / "lesson.yaml").is_file():
        raise _refuse("the bundle has no lesson.yaml", "课程包里没有 lesson.yaml")
    return out
