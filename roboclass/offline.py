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
applies to ARM, is in the robot's set). Talking to pip for the robot is
:mod:`roboclass.offline_pip`'s job; the install script's text is
:mod:`roboclass.offline_scripts`'s.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from packaging.utils import canonicalize_name, parse_sdist_filename, parse_wheel_filename

from roboclass.offline_pip import (
    DEFAULT_ROBOT_PYTHON,
    OfflineError,
    PipFailed,
    Target,
    constraints_with,
    default_platforms,
    failed_package,
    no_isolation,
    pins,
    pip,
    requirements_for,
    sdist_facts,
    stub_wheel,
)
from roboclass.offline_scripts import (
    camera_kits,
    debian_packages,
    debian_text,
    install_script,
    split_debian,
)
from roboclass.offline_wheel import build_own_wheel

__all__ = [
    "DEFAULT_ROBOT_PYTHON",
    "SIDES",
    "Bundle",
    "Missing",
    "OfflineError",
    "Side",
    "Target",
    "build_bundle",
    "build_own_wheel",
    "default_platforms",
    "requirements_for",
    "sha256_file",
]

logger = logging.getLogger(__name__)

#: The bundle's two wheelhouses: for the robots, and for the hub or teacher's PC.
SIDES = ("robot", "console")


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
    pinned = pins(constraints)
    flags = side.target.pip_flags()
    if extra_wheels is not None:
        flags += ["--find-links", str(extra_wheels.resolve())]
    build_requirements: list[str] = []
    for _attempt in range(20):
        try:
            pip(
                [
                    *("download", "--progress-bar", "off", "-d", str(wheels)),
                    *("-c", str(constraints)),
                    *("--find-links", str(stubs), *flags, *requirements),
                ],
                "downloading the robot's wheels",
            )
            break
        except PipFailed as exc:
            name = failed_package(exc.stderr)
            if name is None or name in {canonicalize_name(m.name) for m in side.missing}:
                raise
            version = pinned.get(name)
            if version is None:
                raise OfflineError(
                    f"{name} has no wheel for {_describe(side.target)} and constraints.txt "
                    f"pins no version of it: pin one there (`make lock`) and try again\n{exc}"
                ) from exc
            missing = _fetch_source(side.target, name, version, sdists)
            side.missing.append(missing)
            requires: list[str] = []
            if missing.source is not None:
                requires, build = sdist_facts(folder / missing.source)
                build_requirements += build
            # Stand in for it so pip goes on and finds every other package's wheel.
            stub_wheel(stubs, name, version, requires)
    else:
        raise OfflineError("pip kept failing on packages without wheels; see the log (-vv)")
    for stub in stubs.iterdir():
        (wheels / stub.name).unlink(missing_ok=True)
    if build_requirements:
        # What pip needs to build the sources on the robot, with no index either.
        pip(
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
        pip(
            [
                *("download", "-q", "--no-deps", "--no-binary=:all:", *no_isolation()),
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
    pip(
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
    required, optional = split_debian(lists[role])
    script = install_script(
        side=side.name,
        version=version,
        python=side.target.python,
        extras=side.extras,
        system_site_packages=side.name == "robot",
        debian=required,
        optional=optional,
        with_sources=bool(sources),
        camera_kits=camera_kits() if side.name == "robot" else None,
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
    sides: Sequence[str] = SIDES,
) -> Bundle:
    """Write the bundle into ``out`` (a new or empty folder) and return what is in it.

    ``robot_requirements`` replaces what our wheel asks for on the robot (its
    requirements with ``robot_extras``); a quick test passes a few. ``sides``:
    ``("robot",)`` for the robots only (``--robot-only``: no 120 MB console
    wheelhouse), ``("console",)`` for the hub only.

    Needs the package index (pip); raises :class:`OfflineError` with pip's
    last lines when pip fails for another reason than a missing wheel.
    """
    robot = robot or Target.robot()
    if not sides or set(sides) - set(SIDES):
        raise OfflineError(f"sides {list(sides)}: choose from {', '.join(SIDES)}")
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
        made = [s for s in (robot_side, console_side) if s.name in sides]
        lists = debian_packages(source)
        if "robot" in sides:
            robot_constraints = constraints_with(
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
        if "console" in sides:
            _console_wheels(console_side, out / "console", wheel, constraints)
    if robot_side.missing:
        lists = debian_packages(source, build_tools=True)
    for side in made:
        _write_side_files(side, out / side.name, version, lists)
    (out / "debian-packages.txt").write_text(debian_text(lists), encoding="utf-8")
    files = {
        p.relative_to(out).as_posix(): {"sha256": sha256_file(p), "size": p.stat().st_size}
        for p in sorted(q for q in out.rglob("*") if q.is_file())
    }
    bundle = Bundle(out, version, made, files)
    manifest = {
        "roboclass": version,
        "sides": {side.name: side.as_dict() for side in bundle.sides},
        "debian": {role: [n for n, _ in pkgs] for role, pkgs in lists.items()},
        "complete": bundle.complete,
        "files": files,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return bundle
