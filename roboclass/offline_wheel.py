"""The roboclass wheel, built the same way every time: same inputs, same sha256.

:func:`build_own_wheel` builds it from a clean copy of the checkout, not in
place: setuptools keeps what it built in ``build/lib`` and copies all of it
into the next wheel, so a file deleted from the checkout would live on in
every wheel built there afterwards. The copy holds the top-level files
(setup.cfg, README, ...) and the packages ``setup.cfg`` lists, without
``build/`` or caches (``__pycache__``, ``*.egg-info``, hidden files).

Then :func:`normalise_wheel` rewrites the zip so that nothing but the
content decides its bytes: entries sorted (``.dist-info`` last, ``RECORD``
at the very end, as the wheel format asks), every timestamp
``SOURCE_DATE_EPOCH`` (the environment's, else the last commit's time, else
1980-01-01), permissions 644 or 755, and ``RECORD`` written again in that
order::

    wheel = build_own_wheel(Path("."), Path("dist"))   # dist/roboclass-0.1.0-py3-none-any.whl
"""

from __future__ import annotations

import base64
import configparser
import hashlib
import logging
import os
import shutil
import stat
import subprocess
import tempfile
import time
import zipfile
from pathlib import Path

from roboclass.offline_pip import OfflineError, no_isolation, pip

__all__ = ["ZIP_EPOCH", "build_own_wheel", "normalise_wheel", "source_date_epoch"]

logger = logging.getLogger(__name__)

ZIP_EPOCH = 315532800  # 1980-01-01 00:00 UTC, the earliest time a zip entry can carry
_CACHES = ("__pycache__", "*.pyc", "*.pyo", "*.egg-info", ".*")


def source_date_epoch(source: Path | None = None) -> int:
    """``SOURCE_DATE_EPOCH``, else the time of ``source``'s last git commit, else 1980."""
    given = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if given:
        try:
            return max(int(given), ZIP_EPOCH)
        except ValueError as exc:
            raise OfflineError(
                f"SOURCE_DATE_EPOCH={given!r}: it must be seconds since 1970 (`date +%s`)"
            ) from exc
    git = shutil.which("git")
    if source is not None and (source / ".git").exists() and git:
        done = subprocess.run(
            [git, "-C", str(source), "log", "-1", "--format=%ct"],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode == 0 and done.stdout.strip().isdigit():
            return max(int(done.stdout.strip()), ZIP_EPOCH)
    return ZIP_EPOCH


def _packages(source: Path) -> list[str]:
    """The top-level package folders ``setup.cfg`` has setuptools find."""
    config = configparser.ConfigParser()
    config.read(source / "setup.cfg", encoding="utf-8")
    listed = config.get("options.packages.find", "include", fallback="")
    names = {line.strip().split(".", 1)[0] for line in listed.splitlines() if line.strip()}
    return sorted(name for name in names if (source / name).is_dir())


def _clean_copy(source: Path, into: Path) -> None:
    into.mkdir(parents=True)
    for path in sorted(source.iterdir()):
        if path.is_file() and not path.name.startswith("."):
            shutil.copy2(path, into / path.name)
    ignore = shutil.ignore_patterns(*_CACHES)
    for name in _packages(source):
        shutil.copytree(source / name, into / name, ignore=ignore, symlinks=False)


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return "sha256=" + digest.decode("ascii")


def _order(name: str) -> tuple[int, str]:
    top = name.split("/", 1)[0]
    if name.endswith(".dist-info/RECORD") and "/" not in name.removesuffix("/RECORD"):
        return (2, name)
    return (1 if top.endswith(".dist-info") else 0, name)


def normalise_wheel(wheel: Path, epoch: int) -> None:
    """Rewrite ``wheel`` in place: sorted entries, one timestamp, plain permissions, RECORD again."""
    with zipfile.ZipFile(wheel) as zf:
        entries = {
            info.filename: (zf.read(info), bool((info.external_attr >> 16) & stat.S_IXUSR))
            for info in zf.infolist()
            if not info.is_dir()
        }
    record = next((n for n in entries if _order(n)[0] == 2), None)
    if record is None:
        raise OfflineError(f"{wheel.name} has no .dist-info/RECORD: it is not a wheel")
    names = sorted((n for n in entries if n != record), key=_order)
    lines = [f"{n},{_record_hash(entries[n][0])},{len(entries[n][0])}" for n in names]
    entries[record] = (("\n".join([*lines, f"{record},,"]) + "\n").encode("utf-8"), False)
    stamp = time.gmtime(max(epoch, ZIP_EPOCH))[:6]
    fresh = wheel.with_suffix(".tmp")
    with zipfile.ZipFile(fresh, "w", zipfile.ZIP_DEFLATED) as out:
        for name in [*names, record]:
            data, executable = entries[name]
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.external_attr = (stat.S_IFREG | (0o755 if executable else 0o644)) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, whatever this computer is
            out.writestr(info, data, compresslevel=9)
    fresh.replace(wheel)


def build_own_wheel(source: Path, into: Path) -> Path:
    """The roboclass wheel of the checkout at ``source``, reproducible, in ``into``."""
    if not (source / "setup.cfg").is_file():
        raise OfflineError(f"{source} is not a RoboClass checkout (no setup.cfg)")
    epoch = source_date_epoch(source)
    into.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="roboclass-wheel-") as tmp:
        copy, out = Path(tmp) / "src", Path(tmp) / "out"
        _clean_copy(source, copy)
        pip(
            ["wheel", "-q", "--no-deps", *no_isolation(), "-w", str(out), str(copy)],
            "building the roboclass wheel",
        )
        built = next(out.glob("roboclass-*.whl"))
        normalise_wheel(built, epoch)
        target = into / built.name
        shutil.move(built, target)
    logger.info("built %s (SOURCE_DATE_EPOCH=%d)", target, epoch)
    return target
