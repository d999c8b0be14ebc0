"""An offline install bundle: everything a classroom needs, built on a PC with internet.

The school LAN has no reliable internet, so ``roboclass offline bundle`` runs
on a connected PC and writes one folder to copy (USB stick, scp) to the
robots and the hub::

    DIR/
      manifest.json          sha256 and size of every file, what was built for whom
      debian-packages.txt    what apt must install on robots, hub and maintainer PC
      robot/                 for the robots: aarch64 Linux, the robots' Python, extra `pi`
        wheels/              our wheel and every dependency, as wheels for the robot
        sdist/               sources of packages with no wheel for the robot (if any)
        constraints.txt      the exact versions in wheels/ (and sdist/)
        install.sh           makes the venv and installs with --no-index
        SHA256SUMS           `sha256sum -c` checks the copy
      console/               for the hub or teacher PC: this PC's platform, extra `console`
        (the same files)

The robots' wheels come from ``pip download --only-binary=:all: --platform
... --python-version ... --implementation cp --abi cpXY``: pip picks wheels
for the robot, not for this PC. A package with no such wheel is not skipped:
its source goes into ``robot/sdist/`` so the robot can build it, and the
report names it with what to do (:class:`Missing`).

pip evaluates environment markers of dependencies against *this* PC; our own
requirements are evaluated for the robot here (so ``lgpio``, which only
applies to ARM, is in the robot's set).
"""

from __future__ import annotations

import email.parser
import hashlib
import importlib.util
import json
import logging
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import tomllib
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name, parse_sdist_filename, parse_wheel_filename

from roboclass.offline_scripts import debian_packages, debian_text, install_script

__all__ = [
    "Bundle",
    "Missing",
    "OfflineError",
    "Side",
    "Target",
    "build_bundle",
    "default_platforms",
    "requirements_for",
    "sha256_file",
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


@dataclass(frozen=True)
class Missing:
    """A package with no wheel for the robot: what it is and what to do."""

    name: str
    version: str
    source: str | None  # the sdist in the bundle, relative to the side's folder
    advice: str


@dataclass
class Side:
    """One wheelhouse of the bundle (``robot`` or ``console``)."""

    name: str
    target: Target
    extras: tuple[str, ...]
    wheels: list[str] = field(default_factory=list)
    missing: list[Missing] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "python": self.target.python,
            "machine": self.target.machine,
            "platforms": list(self.target.platforms or ["this PC"]),
            "extras": list(self.extras),
            "wheels": self.wheels,
            "missing": [asdict(m) for m in self.missing],
        }


@dataclass
class Bundle:
    """What :func:`build_bundle` made."""

    root: Path
    version: str
    sides: list[Side]
    files: dict[str, dict[str, object]]

    @property
    def missing(self) -> list[Missing]:
        return [m for side in self.sides for m in side.missing]

    @property
    def complete(self) -> bool:
        """Every package is there as a wheel or as a source the robot can build."""
        return all(m.source is not None for m in self.missing)


# -- helpers ---------------------------------------------------------------------


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


_NO_INDEX = re.compile(
    r"NewConnectionError|ConnectTimeout|Max retries exceeded|"
    r"Temporary failure in name resolution"
)


def _pip(args: Sequence[str], what: str) -> str:
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
        raise _PipFailed(f"{what} failed (pip {' '.join(args[:2])} ...):\n{tail}", done.stdout)
    return done.stdout


class _PipFailed(OfflineError):
    def __init__(self, message: str, stderr: str) -> None:
        super().__init__(message)
        self.stderr = stderr


def _wheel_metadata(wheel: Path) -> email.message.Message:
    with zipfile.ZipFile(wheel) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        return email.parser.BytesParser().parsebytes(zf.read(name))


def requirements_for(wheel: Path, extras: Iterable[str], target: Target) -> list[str]:
    """Our wheel's requirements with ``extras``, markers evaluated for ``target``."""
    chosen: dict[str, str] = {}
    for line in _wheel_metadata(wheel).get_all("Requires-Dist") or []:
        req = Requirement(line)
        for extra in ("", *extras):
            env = {**target.markers(), "extra": extra}
            if req.marker is None or req.marker.evaluate(env):
                text = req.name + (f"[{','.join(sorted(req.extras))}]" if req.extras else "")
                chosen[canonicalize_name(req.name)] = text + str(req.specifier)
    return sorted(chosen.values())


def _pins(path: Path) -> dict[str, str]:
    pins: dict[str, str] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].split(";", 1)[0].strip()  # no comment, no marker
        if "==" in line:
            name, _, version = line.partition("==")
            pins[canonicalize_name(name.strip())] = version.strip()
    return pins


def _for_target(line: str, target: Target) -> str | None:
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


def _constraints(
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
        line = raw if target is None else _for_target(raw, target)
        if line is None:
            continue
        name = canonicalize_name(re.split(r"[=<>!~;\[ ]", line.strip(), maxsplit=1)[0] or "-")
        if name not in changed:
            lines.append(line)
    lines += changed.values()
    into.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return into


def _failed_package(stderr: str) -> str | None:
    """The package pip could not find a distribution for, from its error text."""
    for pattern in (
        r"No matching distribution found for ([A-Za-z0-9_.\-]+)",
        r"requested \(constraint\) ([A-Za-z0-9_.\-]+)==",
        r"satisfies the requirement ([A-Za-z0-9_.\-]+)",
    ):
        if found := re.search(pattern, stderr):
            return canonicalize_name(found.group(1))
    return None


def _stub_wheel(folder: Path, name: str, version: str, requires: Sequence[str]) -> Path:
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


def _sdist_facts(sdist: Path) -> tuple[list[str], list[str]]:
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


# -- the two wheelhouses -----------------------------------------------------------


def _robot_wheels(
    side: Side,
    folder: Path,
    requirements: list[str],
    constraints: Path,
    work: Path,
    extra_wheels: Path | None,
) -> None:
    """``pip download`` for the robot; packages with no wheel become sources + a report."""
    wheels, sdists, stubs = folder / "wheels", folder / "sdist", work / "stubs"
    wheels.mkdir(parents=True)
    stubs.mkdir()
    pins = _pins(constraints)
    flags = side.target.pip_flags()
    if extra_wheels is not None:
        flags += ["--find-links", str(extra_wheels.resolve())]
    build_requirements: list[str] = []
    for _attempt in range(20):
        try:
            _pip(
                [
                    *("download", "--progress-bar", "off", "-d", str(wheels)),
                    *("-c", str(constraints)),
                    *("--find-links", str(stubs), *flags, *requirements),
                ],
                "downloading the robot's wheels",
            )
            break
        except _PipFailed as exc:
            name = _failed_package(exc.stderr)
            if name is None or name in {canonicalize_name(m.name) for m in side.missing}:
                raise
            version = pins.get(name)
            if version is None:
                raise OfflineError(
                    f"{name} has no wheel for {_describe(side.target)} and constraints.txt "
                    f"pins no version of it: pin one there (`make lock`) and try again\n{exc}"
                ) from exc
            missing = _fetch_source(side.target, name, version, sdists)
            side.missing.append(missing)
            requires: list[str] = []
            if missing.source is not None:
                requires, build = _sdist_facts(folder / missing.source)
                build_requirements += build
            # Stand in for it so pip goes on and finds every other package's wheel.
            _stub_wheel(stubs, name, version, requires)
    else:
        raise OfflineError("pip kept failing on packages without wheels; see the log (-vv)")
    for stub in stubs.iterdir():
        (wheels / stub.name).unlink(missing_ok=True)
    if build_requirements:
        # What pip needs to build the sources on the robot, with no index either.
        _pip(
            ["download", "-q", "-d", str(wheels), *flags, *sorted(set(build_requirements))],
            "downloading the build tools for the sources",
        )


def _describe(target: Target) -> str:
    return f"Python {target.python} on {target.machine} Linux"


def _fetch_source(target: Target, name: str, version: str, sdists: Path) -> Missing:
    """Put ``name``'s sdist into the bundle and say what the robot does with it."""
    sdists.mkdir(exist_ok=True)
    where = _describe(target)
    try:
        _pip(
            [
                *("download", "-q", "--no-deps", "--no-binary=:all:", *_no_isolation()),
                *("-d", str(sdists), f"{name}=={version}"),
            ],
            f"downloading the source of {name}",
        )
    except OfflineError:
        logger.warning("%s %s has no wheel for %s and no source", name, version, where)
        return Missing(
            name,
            version,
            None,
            f"{name} {version} has no wheel for {where} and no source on the index: build a "
            f"wheel on one robot with internet (`pip wheel {name}=={version} -w DIR`), then "
            "run the bundle again with --extra-wheels DIR",
        )
    source = next(
        p.name
        for p in sdists.iterdir()
        if canonicalize_name(parse_sdist_filename(p.name)[0]) == name
    )
    return Missing(
        name,
        version,
        f"sdist/{source}",
        f"{name} {version} has no wheel for {where}: install.sh builds it on the robot from "
        f"sdist/{source} (a C part needs `sudo apt install build-essential python3-dev`; "
        f"without them some packages fall back to pure Python). Or build a wheel once on a "
        f"robot (`pip wheel {name}=={version} -w DIR`) and run the bundle again with "
        "--extra-wheels DIR.",
    )


def _console_wheels(side: Side, folder: Path, own: Path, constraints: Path) -> None:
    """``pip wheel`` for this PC: sources are built here, so the hub needs no compiler."""
    wheels = folder / "wheels"
    wheels.mkdir(parents=True)
    extras = f"[{','.join(side.extras)}]" if side.extras else ""
    _pip(
        [
            *("wheel", "-q", "-w", str(wheels), "-c", str(constraints)),
            f"roboclass{extras} @ {own.resolve().as_uri()}",
        ],
        "building the console's wheelhouse",
    )


# -- scripts, manifest ------------------------------------------------------------------


def _write_side_files(
    side: Side, folder: Path, version: str, lists: dict[str, list[tuple[str, str]]]
) -> None:
    wheels = sorted(p.name for p in (folder / "wheels").iterdir())
    side.wheels = wheels
    sources = (
        sorted(p.name for p in (folder / "sdist").iterdir()) if (folder / "sdist").is_dir() else []
    )
    pins = []
    for name in wheels:
        dist, ver, *_ = parse_wheel_filename(name)
        pins.append(f"{dist}=={ver}")
    for name in sources:
        dist, ver = parse_sdist_filename(name)
        pins.append(f"{dist}=={ver}")
    (folder / "constraints.txt").write_text("\n".join(sorted(set(pins))) + "\n", encoding="utf-8")
    role = "robot" if side.name == "robot" else "hub"
    script = install_script(
        side=side.name,
        version=version,
        python=side.target.python,
        extras=side.extras,
        system_site_packages=side.name == "robot",
        debian=[name for name, _ in lists[role]],
        with_sources=bool(sources),
    )
    path = folder / "install.sh"
    path.write_text(script, encoding="utf-8")
    path.chmod(0o755)
    sums = [f"{sha256_file(p)}  {p.relative_to(folder).as_posix()}" for p in _files(folder)]
    (folder / "SHA256SUMS").write_text("\n".join(sums) + "\n", encoding="utf-8")


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and p.name != "SHA256SUMS")


def _source_root() -> Path:
    here = Path(__file__).resolve().parents[1]
    if not (here / "setup.cfg").is_file():
        raise OfflineError(
            "this RoboClass is installed from a wheel, not run from its source: pass "
            "--wheel (a roboclass wheel) or --source (a RoboClass checkout)"
        )
    return here


def _no_isolation() -> list[str]:
    """Build with this venv's setuptools when it has it: no fetching them again."""
    if all(importlib.util.find_spec(name) for name in ("setuptools", "wheel")):
        return ["--no-build-isolation"]
    return []


def build_own_wheel(source: Path, into: Path) -> Path:
    """``pip wheel --no-deps`` of the RoboClass checkout at ``source``."""
    _pip(
        ["wheel", "-q", "--no-deps", *_no_isolation(), "-w", str(into), str(source)],
        "building the roboclass wheel",
    )
    return next(into.glob("roboclass-*.whl"))


def build_bundle(
    out: Path,
    *,
    robot: Target | None = None,
    robot_extras: Sequence[str] = ("pi",),
    console_extras: Sequence[str] = ("console",),
    robot_pins: Sequence[str] = (),
    constraints: Path | None = None,
    source: Path | None = None,
    wheel: Path | None = None,
    extra_wheels: Path | None = None,
    robot_requirements: Sequence[str] | None = None,
) -> Bundle:
    """Write the bundle into ``out`` (a new or empty folder) and return what is in it.

    ``robot_requirements`` replaces what our wheel asks for on the robot (its
    requirements with ``robot_extras``); a quick test passes a few.

    Needs the package index (pip); raises :class:`OfflineError` with pip's
    last lines when pip fails for another reason than a missing wheel.
    """
    robot = robot or Target.robot()
    if out.exists() and any(out.iterdir()):
        raise OfflineError(f"{out} is not empty: choose a new folder for the bundle")
    if source is None and (wheel is None or constraints is None):
        source = _source_root()
    constraints = constraints or (source / "constraints.txt" if source else None)
    if constraints is None or not constraints.is_file():
        raise OfflineError(
            f"no constraints file {constraints}: pass --constraints (`make lock` makes it)"
        )
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="roboclass-offline-") as tmp:
        work = Path(tmp)
        if wheel is None:
            wheel = build_own_wheel(source or _source_root(), work / "own")
        version = str(parse_wheel_filename(wheel.name)[1])
        robot_side = Side("robot", robot, tuple(robot_extras))
        console_side = Side("console", Target.here(), tuple(console_extras))
        lists = debian_packages(source)
        robot_constraints = _constraints(
            constraints, robot_pins, work / "robot-constraints.txt", robot
        )
        _robot_wheels(
            robot_side,
            out / "robot",
            (
                list(robot_requirements)
                if robot_requirements is not None
                else requirements_for(wheel, robot_extras, robot)
            ),
            robot_constraints,
            work,
            extra_wheels,
        )
        shutil.copy2(wheel, out / "robot" / "wheels" / wheel.name)
        _console_wheels(console_side, out / "console", wheel, constraints)
    if robot_side.missing:
        lists = debian_packages(source, build_tools=True)
    for side in (robot_side, console_side):
        _write_side_files(side, out / side.name, version, lists)
    (out / "debian-packages.txt").write_text(debian_text(lists), encoding="utf-8")
    files = {
        p.relative_to(out).as_posix(): {"sha256": sha256_file(p), "size": p.stat().st_size}
        for p in sorted(q for q in out.rglob("*") if q.is_file())
    }
    bundle = Bundle(out, version, [robot_side, console_side], files)
    manifest = {
        "roboclass": version,
        "sides": {side.name: side.as_dict() for side in bundle.sides},
        "debian": {role: [n for n, _ in pkgs] for role, pkgs in lists.items()},
        "complete": bundle.complete,
        "files": files,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return bundle
