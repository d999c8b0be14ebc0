"""pip for another computer: the target's wheels, our requirements for it, sources.

:class:`Target` is the computer a wheelhouse is for (the robot: aarch64
Linux with its own Python, so ``pip download`` gets ``--platform``,
``--python-version``, ``--abi`` flags; or this PC). The rest reads and
writes what pip works with: our wheel's requirements with markers
evaluated for the target (:func:`requirements_for`), constraints with the
robot's own pins, the package pip found no wheel for, an sdist's
requirements, and a stub wheel that stands in for it while pip resolves.
:mod:`roboclass.offline` builds the bundle with these::

    target = Target.robot("3.11")
    requirements_for(Path("roboclass-0.3-py3-none-any.whl"), ["pi"], target)
"""

from __future__ import annotations

import email.parser
import importlib.util
import logging
import platform
import re
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

__all__ = [
    "DEFAULT_GLIBC",
    "DEFAULT_ROBOT_PYTHON",
    "OfflineError",
    "PipFailed",
    "Target",
    "constraints_with",
    "default_platforms",
    "failed_package",
    "no_isolation",
    "pins",
    "pip",
    "requirements_for",
    "sdist_facts",
    "stub_wheel",
    "wheel_metadata",
]

logger = logging.getLogger(__name__)

# Raspberry Pi OS 12 (bookworm): glibc 2.36, Python 3.11.
DEFAULT_GLIBC = (2, 36)
DEFAULT_ROBOT_PYTHON = "3.11"


class OfflineError(RuntimeError):
    """The bundle could not be made; the message says why and what to do."""


def default_platforms(
    machine: str = "aarch64", glibc: tuple[int, int] = DEFAULT_GLIBC
) -> list[str]:
    """pip platform tags for a Linux with this glibc: newest manylinux first.

    pip does not widen ``manylinux_2_36`` to the older tags by itself, so every
    one a wheel may carry is listed (``linux_*`` is for wheels you built on a Pi).
    """
    major, minor = glibc
    if major != 2 or minor < 17:
        raise OfflineError(f"glibc {major}.{minor}: manylinux wheels need glibc 2.17 or newer")
    tags = [f"manylinux_2_{m}_{machine}" for m in range(minor, 16, -1)]
    return [*tags, f"manylinux2014_{machine}", f"linux_{machine}"]


@dataclass(frozen=True)
class Target:
    """The computer a wheelhouse is for. ``None`` platforms: this PC (no pip flags)."""

    python: str
    machine: str
    platforms: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if not re.fullmatch(r"3\.\d{1,2}", self.python):
            raise OfflineError(f"Python version {self.python!r}: write it like 3.11")

    @classmethod
    def robot(cls, python: str = DEFAULT_ROBOT_PYTHON, platforms: Sequence[str] = ()) -> Target:
        return cls(python, "aarch64", tuple(platforms) or tuple(default_platforms("aarch64")))

    @classmethod
    def here(cls) -> Target:
        return cls(f"{sys.version_info.major}.{sys.version_info.minor}", platform.machine())

    @property
    def abi(self) -> str:
        return "cp" + self.python.replace(".", "")

    def pip_flags(self) -> list[str]:
        if self.platforms is None:
            return []
        flags = ["--only-binary=:all:", "--implementation", "cp"]
        flags += ["--python-version", self.python, "--abi", self.abi]
        for tag in self.platforms:
            flags += ["--platform", tag]
        return flags

    def markers(self) -> dict[str, str]:
        """The marker environment of the target, for our own requirements."""
        return {
            "platform_machine": self.machine,
            "platform_system": "Linux",
            "sys_platform": "linux",
            "os_name": "posix",
            "python_version": self.python,
            "python_full_version": f"{self.python}.0",
            "implementation_name": "cpython",
            "platform_python_implementation": "CPython",
        }


_NO_INDEX = re.compile(
    r"NewConnectionError|ConnectTimeout|Max retries exceeded|"
    r"Temporary failure in name resolution"
)


def pip(args: Sequence[str], what: str) -> str:
    """Run this Python's pip with ``args``; its output, or :class:`OfflineError` saying ``what``."""
    command = [sys.executable, "-m", "pip", "--disable-pip-version-check", *args]
    logger.info("pip %s", " ".join(args))
    done = subprocess.run(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False
    )
    logger.debug("%s", done.stdout)
    if done.returncode != 0:
        errors = [line for line in done.stdout.splitlines() if not line.startswith("WARNING: Loc")]
        tail = "\n".join(errors[-15:])
        if _NO_INDEX.search(done.stdout):
            raise OfflineError(
                "pip cannot reach the package index: build the bundle on a PC with internet "
                f"(check its proxy or pip.conf). {what} failed:\n{tail}"
            )
        raise PipFailed(f"{what} failed (pip {' '.join(args[:2])} ...):\n{tail}", done.stdout)
    return done.stdout


class PipFailed(OfflineError):
    """pip failed for another reason than the index being out of reach; ``stderr`` says why."""

    def __init__(self, message: str, stderr: str) -> None:
        super().__init__(message)
        self.stderr = stderr


def wheel_metadata(wheel: Path) -> email.message.Message:
    """A wheel's METADATA."""
    with zipfile.ZipFile(wheel) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        return email.parser.BytesParser().parsebytes(zf.read(name))


def requirements_for(wheel: Path, extras: Iterable[str], target: Target) -> list[str]:
    """Our wheel's requirements with ``extras``, markers evaluated for ``target``."""
    chosen: dict[str, str] = {}
    for line in wheel_metadata(wheel).get_all("Requires-Dist") or []:
        req = Requirement(line)
        for extra in ("", *extras):
            env = {**target.markers(), "extra": extra}
            if req.marker is None or req.marker.evaluate(env):
                text = req.name + (f"[{','.join(sorted(req.extras))}]" if req.extras else "")
                chosen[canonicalize_name(req.name)] = text + str(req.specifier)
    return sorted(chosen.values())


def pins(path: Path) -> dict[str, str]:
    """The ``NAME==VERSION`` pins of a constraints file, by canonical name."""
    found: dict[str, str] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].split(";", 1)[0].strip()  # no comment, no marker
        if "==" in line:
            name, _, version = line.partition("==")
            found[canonicalize_name(name.strip())] = version.strip()
    return found


def for_target(line: str, target: Target) -> str | None:
    """A pin with a marker (``make lock`` resolves for every platform), as ``target`` sees it.

    pip would evaluate the marker for this PC, not for the robot: ``lgpio``'s pin
    (aarch64 only) would be dropped, and a pin forked by Python version would be
    this PC's. ``None``: the pin does not apply to ``target``.
    """
    text = line.split("#", 1)[0].strip()
    if ";" not in text:
        return line
    req = Requirement(text)
    if req.marker is not None and not req.marker.evaluate(target.markers()):
        return None
    return f"{req.name}{req.specifier}"


def constraints_with(
    source: Path, overrides: Sequence[str], into: Path, target: Target | None = None
) -> Path:
    """``source`` with the pins in ``overrides`` (``numpy==1.26.4``) put in their place.

    With ``target``, pins with markers are evaluated for it and written without them.
    """
    changed = {}
    for text in overrides:
        req = Requirement(text)
        if len(req.specifier) != 1 or next(iter(req.specifier)).operator != "==":
            raise OfflineError(f"--robot-pin {text!r}: write it as NAME==VERSION")
        changed[canonicalize_name(req.name)] = text
    lines = []
    for raw in source.read_text(encoding="utf-8").splitlines():
        line = raw if target is None else for_target(raw, target)
        if line is None:
            continue
        name = canonicalize_name(re.split(r"[=<>!~;\[ ]", line.strip(), maxsplit=1)[0] or "-")
        if name not in changed:
            lines.append(line)
    lines += changed.values()
    into.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return into


def failed_package(stderr: str) -> str | None:
    """The package pip could not find a distribution for, from its error text."""
    for pattern in (
        r"No matching distribution found for ([A-Za-z0-9_.\-]+)",
        r"requested \(constraint\) ([A-Za-z0-9_.\-]+)==",
        r"satisfies the requirement ([A-Za-z0-9_.\-]+)",
    ):
        if found := re.search(pattern, stderr):
            return canonicalize_name(found.group(1))
    return None


def stub_wheel(folder: Path, name: str, version: str, requires: Sequence[str]) -> Path:
    """An empty wheel standing in for a package with no wheel, only while pip resolves."""
    dist = f"{name.replace('-', '_')}-{version}"
    path = folder / f"{dist}-py3-none-any.whl"
    meta = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    meta += "".join(f"Requires-Dist: {r}\n" for r in requires)
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(f"{dist}.dist-info/METADATA", meta)
        zf.writestr(f"{dist}.dist-info/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\n")
        zf.writestr(f"{dist}.dist-info/RECORD", "")
    return path


def sdist_facts(sdist: Path) -> tuple[list[str], list[str]]:
    """(requirements, build requirements) read from an sdist's PKG-INFO and pyproject.toml."""
    requires: list[str] = []
    build = ["setuptools>=40.8", "wheel"]  # pip's default for a project without pyproject
    if not sdist.name.endswith((".tar.gz", ".tgz")):
        return requires, build
    with tarfile.open(sdist) as tf:
        for member in tf.getmembers():
            parts = member.name.split("/")
            if len(parts) != 2 or not member.isfile():
                continue
            data = tf.extractfile(member)
            if data is None:
                continue
            if parts[1] == "PKG-INFO":
                info = email.parser.BytesParser().parsebytes(data.read())
                requires = [
                    r
                    for r in info.get_all("Requires-Dist") or []
                    if Requirement(r).marker is None or "extra" not in str(Requirement(r).marker)
                ]
            elif parts[1] == "pyproject.toml":
                system = tomllib.loads(data.read().decode("utf-8")).get("build-system", {})
                build = list(system.get("requires", build))
    return requires, build


def no_isolation() -> list[str]:
    """Build with this venv's setuptools when it has it: no fetching them again."""
    if all(importlib.util.find_spec(name) for name in ("setuptools", "wheel")):
        return ["--no-build-isolation"]
    return []
