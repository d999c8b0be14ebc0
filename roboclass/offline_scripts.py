"""The text files of an offline bundle: ``install.sh`` and the Debian package lists.

See :mod:`roboclass.offline`.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path

from roboclass.doctor_roles import INSTALL_FILE, PICAMERA_APT

__all__ = [
    "BUILD_DEBIAN",
    "HUB_DEBIAN",
    "PICAMERA",
    "ROBOT_DEBIAN",
    "ROLES",
    "camera_kits",
    "debian_packages",
    "debian_text",
    "install_script",
    "split_debian",
]

# What apt installs, and why. A robot's camera library comes from Raspberry Pi
# OS, not PyPI: the PyPI build of picamera2 needs libcamera and its Python
# binding, which only the OS has. So the robot's venv is made with
# --system-site-packages and sees python3-picamera2 from apt -- on a robot
# whose kit has the Pi camera module; a USB camera or the simulator needs none.
PICAMERA = "python3-picamera2"  # PICAMERA_APT installs it
ROBOT_DEBIAN = (
    ("python3-venv", "makes the robot's venv"),
    ("bubblewrap", "the sandbox every student's program runs in"),
    (PICAMERA, "only for a kit with the Pi camera module; Raspberry Pi OS only"),
)
HUB_DEBIAN = (
    ("python3-venv", "makes the console's venv"),
    ("mosquitto", "the classroom broker (`roboclass broker up`)"),
    ("bubblewrap", "the sandbox every student's program runs in"),
)
BUILD_DEBIAN = (
    ("build-essential", "optional: builds the packages under sdist/ faster (C parts)"),
    ("python3-dev", "optional: builds the packages under sdist/ faster (C parts)"),
)
#: Roles each side's install.sh may be told (--role); the first is its default.
ROLES = {"robot": ("robot",), "console": ("hub", "maintainer")}

_PICAMERA_NOTE = """\
# The venv is made with --system-site-packages: the Pi camera's Python library
# (python3-picamera2, with libcamera's binding python3-libcamera) comes from
# Raspberry Pi OS through apt, not from PyPI, because it is built against the
# OS's libcamera. A plain venv would not see it. Packages in the venv still win
# over the system's, so our pinned versions are the ones that run.
"""


def _kit_cases(camera_kits: Mapping[str, bool]) -> str:
    """The shell ``case`` arms that tell a shipped kit's camera from its name."""
    pi = sorted(k for k, has in camera_kits.items() if has)
    other = sorted(k for k, has in camera_kits.items() if not has)
    arms = []
    if pi:
        arms.append(f'  {"|".join(pi)}) : "${{PI_CAMERA:=yes}}" ;;')
    if other:
        arms.append(f'  {"|".join(other)}) : "${{PI_CAMERA:=no}}" ;;')
    return "\n".join(arms)


def install_script(
    *,
    side: str,
    version: str,
    python: str,
    extras: Sequence[str],
    system_site_packages: bool,
    debian: Sequence[str],
    with_sources: bool,
    optional: Sequence[str] = (),
    camera_kits: Mapping[str, bool] | None = None,
) -> str:
    """A POSIX shell script that installs RoboClass from the folder it sits in, offline.

    ``debian`` must be installed (else it stops), ``optional`` only gets a
    note; python3-picamera2 is needed only when the kit has the Pi camera
    (``--kit``, whose camera ``camera_kits`` knows, or ``--pi-camera yes``).
    It writes the role and kit into the venv for ``roboclass doctor``.
    """
    extra = f"[{','.join(extras)}]" if extras else ""
    requirement = shlex.quote(f"roboclass{extra}=={version}")
    venv_flags = " --system-site-packages" if system_site_packages else ""
    find_links = '--find-links "$HERE/wheels"'
    if with_sources:
        find_links += ' --find-links "$HERE/sdist"'
    roles = ROLES.get(side, ("hub", "maintainer"))
    robot = side == "robot"
    where = "a robot" if robot else "the hub or the teacher's PC"
    kits = camera_kits or {}
    known = ", ".join(sorted(kits)) or "none"
    usage = (
        "[--kit KIT] [--pi-camera yes|no] [--check]"
        if robot
        else "[--role hub|maintainer] [--check]"
    )
    return f"""#!/bin/sh
# Install RoboClass {version} on {where} from this folder, with no internet.
#   sudo ./install.sh {usage}
#   PREFIX=$HOME/roboclass ./install.sh        venv in $PREFIX/venv (default /opt/roboclass)
# --check only checks (Python, Debian packages, files) and installs nothing.
# Made by `roboclass offline bundle`.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
PREFIX=${{PREFIX:-/opt/roboclass}}
PYTHON=${{PYTHON:-python3}}
RPI_ISSUE=${{RPI_ISSUE:-/etc/rpi-issue}}   # only Raspberry Pi OS has it
ROLE={roles[0]}
KIT=
PI_CAMERA=
CHECK_ONLY=

usage() {{
  echo "usage: ./install.sh {usage}" >&2
  exit 2
}}
while [ $# -gt 0 ]; do
  case "$1" in
    --kit) [ $# -ge 2 ] || usage; KIT=$2; shift 2 ;;
    --pi-camera) [ $# -ge 2 ] || usage; PI_CAMERA=$2; shift 2 ;;
    --role) [ $# -ge 2 ] || usage; ROLE=$2; shift 2 ;;
    --check) CHECK_ONLY=1; shift ;;
    -h|--help) usage ;;
    *) echo "install.sh: unknown option $1" >&2; usage ;;
  esac
done
case "$ROLE" in
  {"|".join(roles)}) ;;
  *) echo "install.sh: this folder is for {" or ".join(roles)}, not $ROLE" >&2
     echo "  (robot/install.sh for the robots, console/install.sh for the hub or a PC)" >&2
     exit 2 ;;
esac
case "$KIT" in
  *[!a-z0-9_-]*) echo "install.sh: --kit $KIT: a kit's name has only a-z, 0-9, - and _" >&2
     exit 2 ;;
esac
case "$KIT" in
  "") ;;
{_kit_cases(kits)}
  *) if [ -z "$PI_CAMERA" ]; then
       echo "install.sh: $KIT is not a shipped kit ({known}): say whether it has" >&2
       echo "  the Pi camera module with --pi-camera yes or --pi-camera no" >&2
       exit 2
     fi ;;
esac
case "$PI_CAMERA" in
  ""|yes|no) ;;
  *) echo "install.sh: --pi-camera $PI_CAMERA: write yes or no" >&2; exit 2 ;;
esac

have=$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
if [ "$have" != "{python}" ]; then
  echo "install.sh: these wheels are for Python {python}, this computer has $have:" >&2
  echo "  make the bundle again with --robot-python $have" >&2
  exit 1
fi

installed() {{
  dpkg-query -W -f='${{Status}}' "$1" 2>/dev/null | grep -q "install ok installed"
}}
missing=""
for pkg in {" ".join(debian)}; do
  installed "$pkg" || missing="$missing $pkg"
done
if [ -n "$missing" ]; then
  echo "install.sh: Debian packages missing:$missing" >&2
  echo "  sudo apt install$missing   (see ../debian-packages.txt)" >&2
fi
for pkg in {" ".join(optional) or '""'}; do
  if [ -n "$pkg" ] && ! installed "$pkg"; then
    echo "install.sh: note: $pkg is not installed (optional; see ../debian-packages.txt)" >&2
  fi
done
if ! installed {PICAMERA}; then
  if [ "$PI_CAMERA" = yes ]; then
    missing="$missing {PICAMERA}"
    if [ -e "$RPI_ISSUE" ]; then
      echo "install.sh: the kit has the Pi camera: on Raspberry Pi OS: {PICAMERA_APT}" >&2
    else
      echo "install.sh: the kit has the Pi camera, and {PICAMERA} comes only with" >&2
      echo "  Raspberry Pi OS ({PICAMERA_APT} there): install Raspberry Pi OS," >&2
      echo "  or use a USB camera and run ./install.sh --pi-camera no" >&2
    fi
  elif [ -z "$PI_CAMERA" ] && [ "$ROLE" = robot ]; then
    echo "install.sh: note: no {PICAMERA}: fine for a USB camera or the simulator;" >&2
    echo "  for the Pi camera module on Raspberry Pi OS: {PICAMERA_APT}" >&2
    echo "  (./install.sh --kit KIT says which camera the kit has)" >&2
  fi
fi
if [ -n "$missing" ] && [ -z "${{ROBOCLASS_IGNORE_APT:-}}" ]; then
  echo "install.sh: stopped: install what is missing, or ROBOCLASS_IGNORE_APT=1 to go on" >&2
  exit 1
fi

echo "install.sh: checking the files (SHA256SUMS)"
(cd "$HERE" && sha256sum --quiet -c SHA256SUMS)
if [ -n "$CHECK_ONLY" ]; then
  echo "install.sh: --check: ready to install as $ROLE"
  exit 0
fi

{_PICAMERA_NOTE if system_site_packages else ""}"$PYTHON" -m venv{venv_flags} "$PREFIX/venv"
"$PREFIX/venv/bin/python" -m pip install --disable-pip-version-check --no-index \\
  {find_links} -c "$HERE/constraints.txt" {requirement}
# What `roboclass doctor` reads: which computer this is, and the kit's camera.
case "$PI_CAMERA" in yes) camera=true ;; no) camera=false ;; *) camera=null ;; esac
if [ -n "$KIT" ]; then kit="\\"$KIT\\""; else kit=null; fi
printf '{{"role": "%s", "kit": %s, "pi_camera": %s, "roboclass": "{version}"}}\n' \\
  "$ROLE" "$kit" "$camera" > "$PREFIX/venv/{INSTALL_FILE}"
"$PREFIX/venv/bin/roboclass" --version
echo "install.sh: done; the program is $PREFIX/venv/bin/roboclass"
echo "  as a service: sudo $PREFIX/venv/bin/roboclass service install {"agent" if robot else "console"} --user USER"
"""


def _system_deps(script: Path) -> list[tuple[str, str]]:
    """The packages ``scripts/system-deps.sh`` names, with its comments."""
    if not script.is_file():
        return []
    text = script.read_text(encoding="utf-8")
    block = re.search(r"PACKAGES=\((.*?)\n\)", text, re.S)
    found = []
    for line in block.group(1).splitlines() if block else []:
        name, _, why = line.strip().partition("#")
        if name.strip():
            found.append((name.strip(), why.strip()))
    return found


def split_debian(packages: Sequence[tuple[str, str]]) -> tuple[list[str], list[str]]:
    """(must be installed, optional) for install.sh; picamera2 it decides by the kit."""
    optional = {name for name, _ in BUILD_DEBIAN}
    names = [name for name, _ in packages if name != PICAMERA]
    return [n for n in names if n not in optional], [n for n in names if n in optional]


def camera_kits() -> dict[str, bool]:
    """The shipped kits, and whether each has the Pi camera module (install.sh --kit)."""
    from hardware.kit import CameraSpec, list_kits  # noqa: PLC0415 - only for a bundle

    return {
        kit.name: any(
            isinstance(p, CameraSpec) and p.source == "picamera2" for p in kit.parts.values()
        )
        for kit in list_kits()
    }


def debian_packages(
    source: Path | None, *, build_tools: bool = False
) -> dict[str, list[tuple[str, str]]]:
    """What apt installs where: ``robot``, ``hub`` and ``maintainer`` (the PC with the boards)."""
    robot = list(ROBOT_DEBIAN) + (list(BUILD_DEBIAN) if build_tools else [])
    maintainer = _system_deps(source / "scripts" / "system-deps.sh") if source else []
    return {"robot": robot, "hub": list(HUB_DEBIAN), "maintainer": maintainer}


def debian_text(lists: dict[str, list[tuple[str, str]]]) -> str:
    heads = {
        "robot": "robots (Raspberry Pi OS, arm64): sudo apt install",
        "hub": "hub Pi or teacher PC (Debian/Raspberry Pi OS): sudo apt install",
        "maintainer": "maintainer PC (flashing boards, running the tests), from scripts/system-deps.sh",
    }
    out = [
        "# Debian packages for an offline classroom. Install them while the computer",
        "# still has internet, or copy the .deb files with `apt-get download NAME`.",
        "",
    ]
    for role, packages in lists.items():
        if not packages:
            continue
        out.append(f"[{role}]  # {heads[role]}")
        out += [f"{name:<20} # {why}" if why else name for name, why in packages]
        out.append("")
    return "\n".join(out)
