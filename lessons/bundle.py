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
import tarfile
from pathlib import Path, PurePosixPath

from lessons.errors import BundleError

__all__ = ["MAX_BUNDLE_BYTES", "bundle_sha256", "pack_bundle", "unpack_bundle"]

MAX_BUNDLE_BYTES = 20 * 1024 * 1024  # compressed
MAX_UNPACKED_BYTES = 50 * 1024 * 1024
MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_ENTRIES = 2000
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


def _safe_name(name: str) -> PurePosixPath:
    path = PurePosixPath(name)
    if not name or name.startswith("/") or "\\" in name or path.is_absolute() or ".." in path.parts:
        raise BundleError(f"unsafe path in bundle: {name!r}")
    if any(part.startswith(".") and part not in (".",) for part in path.parts):
        raise BundleError(f"hidden file in bundle: {name!r}")
    return path


def _extract(tar: tarfile.TarFile, member: tarfile.TarInfo, out: Path) -> int:
    """Write one member under ``out`` after checking it; returns its size."""
    rel = _safe_name(member.name)
    if member.isdir():
        return 0
    if not member.isfile():
        raise BundleError(
            f"{member.name}: only plain files may be in a bundle (no links or devices)"
        )
    if member.size > MAX_FILE_BYTES:
        raise BundleError(f"{member.name}: {member.size} bytes is too large")
    source = tar.extractfile(member)
    if source is None:
        raise BundleError(f"{member.name}: cannot be read")
    target = out.joinpath(*rel.parts)
    if out.resolve() not in target.resolve().parents:
        raise BundleError(f"unsafe path in bundle: {member.name!r}")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(source.read(member.size))
    return member.size


def unpack_bundle(
    data: bytes | str | Path, dest: str | Path, expected_sha256: str | None = None
) -> Path:
    """Unpack a bundle into ``dest`` (which must be empty or new) and return ``dest``."""
    blob = data if isinstance(data, bytes) else Path(data).read_bytes()
    if len(blob) > MAX_BUNDLE_BYTES:
        raise BundleError(f"the bundle is {len(blob)} bytes; the limit is {MAX_BUNDLE_BYTES}")
    if expected_sha256 is not None and bundle_sha256(blob) != expected_sha256:
        raise BundleError(
            "the bundle's sha256 does not match: it was damaged or changed on the way"
        )
    out = Path(dest)
    out.mkdir(parents=True, exist_ok=True)
    if any(out.iterdir()):
        raise BundleError(f"{out} is not empty")
    try:
        raw = gzip.decompress(blob) if blob[:2] == b"\x1f\x8b" else blob
    except (OSError, EOFError) as exc:
        raise BundleError(f"not a bundle: {exc}") from exc
    if len(raw) > MAX_UNPACKED_BYTES + 1024 * MAX_ENTRIES:
        raise BundleError("the bundle unpacks to more than the limit")
    total = 0
    try:
        with tarfile.open(fileobj=io.BytesIO(raw), mode="r:") as tar:
            members = tar.getmembers()
            if len(members) > MAX_ENTRIES:
                raise BundleError(
                    f"the bundle has {len(members)} entries; the limit is {MAX_ENTRIES}"
                )
            for member in members:
                total += _extract(tar, member, out)
                if total > MAX_UNPACKED_BYTES:
                    raise BundleError("the bundle unpacks to more than the limit")
    except tarfile.TarError as exc:
        raise BundleError(f"not a bundle: {exc}") from exc
    if not (out / "lesson.yaml").is_file():
        raise BundleError("the bundle has no lesson.yaml")
    return out
