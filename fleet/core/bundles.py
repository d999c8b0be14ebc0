"""Lesson bundles and model files by content address (sha256), on the console and in a
device's cache.

The console keeps both in a :class:`BundleStore` and serves them at
``/bundles/{sha256}``; a device's :class:`BundleCache` takes one from the job
document (inline, base64) or fetches it over HTTP, and keeps it only when its
sha256 is the one the signed job names (else :class:`JobRejected`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import os
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from fleet.core.errors import JobError, JobRejected
from fleet.core.protocol import BundleRef
from rcbase import files
from rcbase.closeable import Closeable

__all__ = [
    "INLINE_LIMIT",
    "MAX_BUNDLE",
    "BundleCache",
    "BundleStore",
    "Incoming",
    "write_atomic",
]

logger = logging.getLogger(__name__)

#: Bundles up to this size travel inside the job document.
INLINE_LIMIT = 48 * 1024
MAX_BUNDLE = 256 * 1024 * 1024
_FETCH_TIMEOUT_S = 30.0
_CHUNK = 64 * 1024


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so a reader sees the old file or the whole new one.

    Bundles and models are not secret: readable by everyone (0644), so the sandbox a
    student's program runs in can read the models it was given.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    files.write_atomic(path, data, mode=0o644)


class BundleStore:
    """The console's bundles: ``root/{sha256}``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def put(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        path = self.root / digest
        if not path.exists():
            write_atomic(path, data)
        return digest

    def incoming(self) -> Incoming:
        """A bundle to be received a piece at a time (an upload), never whole in memory.

        Write each piece as it comes (``part.write(chunk)``), then ``part.commit()``
        for its sha256; leaving the ``with`` block without committing keeps nothing.
        """
        return Incoming(self.root)

    def path(self, sha256: str) -> Path | None:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            return None
        path = self.root / sha256
        return path if path.is_file() else None

    def ref(self, sha256: str, lesson_id: str) -> BundleRef:
        """A reference for a job document; small bundles go inline."""
        path = self.path(sha256)
        if path is None:
            raise JobError(f"no bundle {sha256} on this console: upload it first")
        size = path.stat().st_size
        inline = base64.b64encode(path.read_bytes()).decode() if size <= INLINE_LIMIT else None
        return BundleRef(id=lesson_id, sha256=sha256, size=size, inline=inline)


class Incoming(Closeable):
    """A bundle being received: written to a hidden file as it comes and hashed on the way.

    :meth:`commit` moves it to its address; closing without it deletes what came.
    """

    def __init__(self, root: Path) -> None:
        self._root = root
        fd, name = tempfile.mkstemp(dir=root, prefix=".incoming-")
        self._file = os.fdopen(fd, "wb")
        self._path = Path(name)
        self._hash = hashlib.sha256()
        self.size = 0

    def digest(self) -> str:
        """The sha256 of what came so far."""
        return self._hash.hexdigest()

    def write(self, chunk: bytes) -> None:
        self._file.write(chunk)
        self._hash.update(chunk)
        self.size += len(chunk)

    def commit(self) -> str:
        """Keep what came under its sha256 (readable by all, like every bundle); returns it."""
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        digest = self.digest()
        target = self._root / digest
        if target.exists():
            self._path.unlink()
        else:
            self._path.chmod(0o644)
            os.replace(self._path, target)
        return digest

    def _close(self) -> None:
        self._file.close()
        self._path.unlink(missing_ok=True)


def _check_size(ref: BundleRef, size: int, limit: int) -> None:
    if size > limit:
        raise JobRejected(
            f"{ref.id} is too large: {size} bytes, the limit is {limit} / "
            f"{ref.id} 太大：{size} 字节，上限是 {limit}"
        )


class BundleCache:
    """A device's cache of bundles: ``root/{sha256}``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def fetch(self, ref: BundleRef, console_url: str | None, limit: int = MAX_BUNDLE) -> Path:
        """The bundle's file, from the cache, the job itself or the console.

        A download goes to disk as it comes, hashed on the way, and stops past ``limit``:
        never whole in memory. :class:`JobRejected` / :class:`JobError` as :meth:`read`.
        """
        path = self.root / ref.sha256
        if path.is_file() and _file_sha256(path) == ref.sha256:
            return path
        if ref.inline is not None:  # already in memory, in the job document
            write_atomic(path, self.read(ref, console_url, limit))
            return path
        _check_size(ref, ref.size, limit)  # what the job says, before fetching anything
        with self._open(ref, console_url) as response, Incoming(self.root) as part:
            try:
                while chunk := response.read(_CHUNK):
                    part.write(chunk)
                    _check_size(ref, part.size, limit)
            except OSError as exc:
                raise JobError(f"cannot fetch bundle {ref.id}: {exc}") from exc
            if part.digest() != ref.sha256:
                raise _bad_sha256(ref)
            part.commit()
        return path

    def read(self, ref: BundleRef, console_url: str | None, limit: int = MAX_BUNDLE) -> bytes:
        """The bytes ``ref`` names, from the job itself or the console, checked (not cached).

        :class:`JobRejected` when they are larger than ``limit``, not base64, or do not match
        the sha256; :class:`JobError` when they cannot be fetched.
        """
        _check_size(ref, ref.size, limit)  # what the job says, before fetching anything
        if ref.inline is not None:
            try:
                data = base64.b64decode(ref.inline, validate=True)
            except binascii.Error as exc:
                raise JobRejected(
                    f"inline {ref.id} is not base64 / 内嵌数据不是 base64: {exc}"
                ) from exc
        else:
            data = self._download(ref, console_url, limit)
        _check_size(ref, len(data), limit)
        if hashlib.sha256(data).hexdigest() != ref.sha256:
            raise _bad_sha256(ref)
        return data

    def _download(self, ref: BundleRef, console_url: str | None, limit: int) -> bytes:
        try:
            with self._open(ref, console_url) as response:
                data: bytes = response.read(limit + 1)
        except OSError as exc:
            raise JobError(f"cannot fetch bundle {ref.id}: {exc}") from exc
        return data

    def _open(self, ref: BundleRef, console_url: str | None) -> Any:
        """The console's answer for ``ref`` (a response to read and close)."""
        if console_url is None:
            raise JobError("the console's address is not known yet: cannot fetch the bundle")
        if not console_url.startswith(("http://", "https://")):
            raise JobError(f"console address {console_url!r} is not http(s)")
        url = f"{console_url.rstrip('/')}/bundles/{ref.sha256}"
        try:
            return urllib.request.urlopen(url, timeout=_FETCH_TIMEOUT_S)  # noqa: S310 - http(s) checked above
        except (urllib.error.URLError, OSError) as exc:
            raise JobError(f"cannot fetch bundle {ref.id} from {url}: {exc}") from exc


def _bad_sha256(ref: BundleRef) -> JobRejected:
    return JobRejected(
        f"bad sha256: {ref.id} does not match its sha256 {ref.sha256[:12]} (changed on "
        f"the way) / sha256 不符：{ref.id} 与它的 sha256 不一致（途中被改动过）"
    )


def _file_sha256(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()
