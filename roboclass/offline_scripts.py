"""The text files of an offline bundle: ``install.sh`` and the Debian package lists.

See :mod:`roboclass.offline`.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from pathlib import Path

__all__ = [
    "BUILD_DEBIAN",
    "HUB_DEBIAN",
    "ROBOT_DEBIAN",
    "debian_packages",
    "debian_text",
    "install_script",
]

# What apt installs, and why. A robot's camera library comes from Raspberry Pi
# OS, not PyPI: the PyPI build of picamera2 needs libcamera and its Python
# binding, which only the OS has. So the robot's venv is made with
# --system-site-packages and sees python3-picamera2 from apt.
ROBOT_DEBIAN = (
    ("python3-venv", "makes the robot's venv"),
    ("python3-picamera2", "the Pi camera (libcamera); from Raspberry Pi OS, seen by the venv"),
)
HUB_DEBIAN = (
    ("python3-venv", "makes the console's venv"),
    ("mosquitto", "the classroom broker (`roboclass broker up`)"),
)
BUILD_DEBIAN = (
    ("build-essential", "only to build the packages listed under sdist/ on the robot"),
    ("python3-dev", "only to build the packages listed under sdist/ on the robot"),
)

_PICAMERA_NOTE = """\
# The venv is made with --system-site-packages: the Pi camera's Python library
# (python3-picamera2, with libcamera's binding python3-libcamera) comes from
# Raspberry Pi OS through apt, not from PyPI, because it is built against the
# OS's libcamera. A plain venv would not see it. Packages in the venv still win
# over the system's, so our pinned versions are the ones that run.
"""


def install_script(
    *,
    side: str,
    version: str,
    python: str,
    extras: Sequence[str],
    system_site_packages: bool,
    debian: Sequence[str],
    with_sources: bool,
) -> str:
    """A POSIX shell script that installs RoboClass from the folder it sits in, offline."""
    extra = f"[{','.join(extras)}]" if extras else ""
    requirement = shlex.quote(f"roboclass{extra}=={version}")
    venv_flags = " --system-site-packages" if system_site_packages else ""
    find_links = '--find-links "$HERE/wheels"'
    if with_sources:
        find_links += ' --find-links "$HERE/sdist"'
    where = "a robot" if side == "robot" else "the hub or the teacher's PC"
    return f"""#!/bin/sh
# Install RoboClass {version} on {where} from this folder, with no internet.
#   sudo ./install.sh                 venv in /opt/roboclass/venv
#   PREFIX=$HOME/roboclass ./install.sh
# Made by `roboclass offline bundle`.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
PREFIX=${{PREFIX:-/opt/roboclass}}
PYTHON=${{PYTHON:-python3}}

have=$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
if [ "$have" != "{python}" ]; then
  echo "install.sh: these wheels are for Python {python}, this computer has $have:" >&2
  echo "  make the bundle again with --robot-python $have" >&2
  exit 1
fi

missing=""
for pkg in {" ".join(debian)}; do
  dpkg-query -W -f='${{Status}}' "$pkg" 2>/dev/null | grep -q "install ok installed" \\
    || missing="$missing $pkg"
done
if [ -n "$missing" ]; then
  echo "install.sh: Debian packages missing:$missing" >&2
  echo "  sudo apt install$missing   (see ../debian-packages.txt)" >&2
  if [ -z "${{ROBOCLASS_IGNORE_APT:-}}" ]; then exit 1; fi
fi

echo "install.sh: checking the files (SHA256SUMS)"
(cd "$HERE" && sha256sum --quiet -c SHA256SUMS)

{_PICAMERA_NOTE if system_site_packages else ""}"$PYTHON" -m venv{venv_flags} "$PREFIX/venv"
"$PREFIX/venv/bin/python" -m pip install --disable-pip-version-check --no-index \\
  {find_links} -c "$HERE/constraints.txt" {requirement}
"$PREFIX/venv/bin/roboclass" --version
echo "install.sh: done; the program is $PREFIX/venv/bin/roboclass"
echo "  as a service: sudo $PREFIX/venv/bin/roboclass service install {"agent" if side == "robot" else "console"} --user USER"
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
