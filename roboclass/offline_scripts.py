"""The ``install.sh`` each side of an offline bundle carries (see :mod:`roboclass.offline`)."""

from __future__ import annotations

import shlex
from collections.abc import Sequence

__all__ = ["install_script"]

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
