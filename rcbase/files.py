"""Files written whole or not at all.

:func:`write_atomic` writes a temporary file beside the target, flushes it
to the disk and renames it over the target, so a crash or a power cut
leaves either the old file or the new one, never half of one. The mode is
set before the first byte is written, so a key is never readable by others,
not even for a moment::

    write_atomic(folder / "robot.key", key_bytes, mode=0o600)
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

__all__ = ["PRIVATE", "write_atomic"]

#: The mode of a file only its owner may read: keys, tokens, databases.
PRIVATE = 0o600


def write_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write ``data`` to ``path`` atomically, with ``mode`` from the start."""
    # a name of its own, so two writers of the same file never write into one temporary file
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.fchmod(fd, mode)  # the umask may have taken bits away
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        tmp.unlink(missing_ok=True)
        raise
    os.close(fd)
    tmp.replace(path)
    _sync_folder(path.parent)


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable."""
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:  # a folder we may not open for reading; the rename still happened
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
