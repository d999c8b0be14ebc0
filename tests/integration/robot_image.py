"""An emulated 64-bit Raspberry Pi: Debian bookworm arm64, run through qemu-user-static.

:func:`root_fs` makes the robot's root file system with ``mmdebstrap`` from
Debian's archive, once: a tarball under ``build/robot-image/KEY/`` where KEY
is the hash of :data:`RECIPE` (suite, architecture, variant, packages,
mirror), so a second run on the same machine reuses it. :func:`aarch64_binfmt`
makes sure the kernel runs aarch64 programs through QEMU (registering the
handler as root where it is missing). :class:`EmulatedRobot` unpacks the
tarball into a folder and runs commands in it with bubblewrap: its own
``/proc`` with a Raspberry Pi 4's ``cpuinfo`` bound over it (QEMU 7.2 shows
the host's, and onnxruntime's CPU probe crashes on an x86 one), and, unless
asked, no network.

Under ``CI=true`` a missing part (mmdebstrap, qemu, binfmt_misc) fails the
test; otherwise it is skipped with what to install.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from tests.conftest import missing, system_part

__all__ = ["CPUINFO", "RECIPE", "EmulatedRobot", "aarch64_binfmt", "root_fs"]

ROOT = Path(__file__).resolve().parents[2]
CPUINFO = ROOT / "tests" / "data" / "pi4-cpuinfo.txt"
#: What the robot's root file system is made of: Raspberry Pi OS 12 is Debian
#: bookworm; on it a robot has python3-venv and bubblewrap, as docs/offline-install.md
#: says (python3-picamera2 exists only in Raspberry Pi OS: this robot's kit is `sim`).
RECIPE = {
    "suite": "bookworm",
    "architecture": "arm64",
    "variant": "minbase",
    "include": ["python3", "python3-venv", "bubblewrap"],
    "mirror": "http://deb.debian.org/debian",
}
BINFMT = Path("/proc/sys/fs/binfmt_misc")
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#: Where the robot finds what the test lends it from the host (see :meth:`lend_sandbox`).
LENT = "/usr/libexec/roboclass-test"
#: The robot's ``bwrap``: the host's, with the Pi's cpuinfo in every sandbox's fresh /proc.
BWRAP_WRAPPER = f"""#!/bin/sh
# qemu-user cannot make namespaces (clone with CLONE_NEW* is EINVAL in QEMU 7.2), so
# the emulated robot's sandbox runs the host's bubblewrap (the same 0.8.0 as bookworm's
# arm64 one); every program inside is aarch64 again. A sandbox mounts a fresh /proc:
# the Pi 4's cpuinfo goes over it there too, for onnxruntime's CPU probe.
prev=
first=1
for arg do
  if [ -n "$first" ]; then set --; first=; fi
  set -- "$@" "$arg"
  if [ "$prev" = --proc ] && [ "$arg" = /proc ]; then
    set -- "$@" --ro-bind {LENT}/cpuinfo /proc/cpuinfo
  fi
  prev=$arg
done
exec {LENT}/bwrap "$@"
"""


def aarch64_binfmt() -> None:
    """The kernel runs aarch64 ELF files through qemu-aarch64 (F flag: inside a chroot too)."""
    handler = BINFMT / "qemu-aarch64"
    if not handler.is_file():
        if os.geteuid() != 0:
            missing("the aarch64 binfmt handler is not registered: sudo update-binfmts --enable")
        if not (BINFMT / "register").exists():
            subprocess.run(
                ["mount", "-t", "binfmt_misc", "binfmt_misc", str(BINFMT)],
                capture_output=True,
                check=False,
            )
        if shutil.which("update-binfmts"):
            subprocess.run(
                ["update-binfmts", "--enable", "qemu-aarch64"], capture_output=True, check=False
            )
    if not handler.is_file():
        missing("cannot register the aarch64 binfmt handler: apt install binfmt-support")
    text = handler.read_text()
    if not text.startswith("enabled") or "flags: " not in text:
        missing(f"the aarch64 binfmt handler is not usable: {text[:80]!r}")
    flags = text.split("flags: ", 1)[1].split("\n", 1)[0]
    if "F" not in flags:
        missing("the aarch64 binfmt handler lacks the F flag: use qemu-user-static's")


def _key() -> str:
    return hashlib.sha256(json.dumps(RECIPE, sort_keys=True).encode()).hexdigest()[:16]


def root_fs() -> tuple[Path, float | None]:
    """The cached root file system tarball, and how long making it took (None: cached)."""
    system_part("mmdebstrap")
    folder = ROOT / "build" / "robot-image" / _key()
    tarball = folder / "rootfs.tar"
    if tarball.is_file():
        return tarball, None
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f".rootfs-{os.getpid()}.tar"
    command = [
        "mmdebstrap",
        f"--variant={RECIPE['variant']}",
        f"--architectures={RECIPE['architecture']}",
        f"--include={','.join(RECIPE['include'])}",
        str(RECIPE["suite"]),
        str(partial),
        str(RECIPE["mirror"]),
    ]
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, timeout=3000, check=False)
    took = time.monotonic() - started
    if done.returncode != 0:
        partial.unlink(missing_ok=True)
        raise AssertionError(f"mmdebstrap failed:\n{done.stderr[-3000:]}")
    (folder / "recipe.json").write_text(json.dumps(RECIPE, indent=1) + "\n")
    partial.rename(tarball)
    return tarball, took


class EmulatedRobot:
    """A root file system unpacked in ``folder``; :meth:`run` runs a command in it."""

    def __init__(self, tarball: Path, folder: Path) -> None:
        self.root = folder / "root"
        self.root.mkdir(parents=True)
        subprocess.run(
            ["tar", "-x", "-f", str(tarball), "-C", str(self.root), "--numeric-owner"],
            check=True,
            timeout=600,
        )
        self.binds: list[tuple[str, Path, str]] = []

    def lend_sandbox(self) -> None:
        """The host's bubblewrap (and its x86-64 libraries) as the robot's ``bwrap``.

        An emulator limit, like /proc/cpuinfo: qemu-user refuses to make namespaces.
        The robot's Debian packages stay as they are; this is bound over them.
        """
        host = Path(str(system_part("bwrap"))).resolve()
        wrapper = self.root.parent / "bwrap-wrapper.sh"
        wrapper.write_text(BWRAP_WRAPPER)
        wrapper.chmod(0o755)
        self.bind(host, f"{LENT}/bwrap")
        self.bind(CPUINFO, f"{LENT}/cpuinfo")
        self.bind(wrapper, "/usr/bin/bwrap")
        for libs in ("/usr/lib/x86_64-linux-gnu", "/usr/lib64"):
            if Path(libs).is_dir():
                self.bind(Path(libs), libs)
        if not (self.root / "lib64").exists():
            (self.root / "lib64").symlink_to("usr/lib64")

    def bind(self, source: Path, where: str, *, writable: bool = False) -> None:
        """``source`` (of the host) at ``where`` in the robot, for every later command."""
        self.binds.append(("--bind" if writable else "--ro-bind", source, where))

    def argv(
        self,
        command: Sequence[str],
        *,
        network: bool = False,
        binds: Sequence[tuple[Path, str]] = (),
    ) -> list[str]:
        bwrap = str(system_part("bwrap"))
        args = [bwrap, "--bind", str(self.root), "/", "--dev", "/dev", "--proc", "/proc"]
        args += ["--ro-bind", str(CPUINFO), "/proc/cpuinfo", "--ro-bind", "/sys", "/sys"]
        args += ["--tmpfs", "/tmp", "--tmpfs", "/run"]
        args += ["--unshare-pid", "--unshare-ipc", "--unshare-uts", "--hostname", "robot-01"]
        if not network:
            args.append("--unshare-net")
        for option, source, where in [*self.binds, *(("--ro-bind", s, w) for s, w in binds)]:
            args += [option, str(source), where]
        # as root, bwrap drops every capability: the robot's own sandbox needs them back
        args += ["--cap-add", "ALL", "--die-with-parent", "--clearenv"]
        for key, value in (("PATH", PATH), ("HOME", "/root"), ("LANG", "C.UTF-8")):
            args += ["--setenv", key, value]
        return [*args, "--", *command]

    def run(
        self,
        script: str,
        *,
        network: bool = False,
        timeout: float = 1200,
        binds: Sequence[tuple[Path, str]] = (),
    ) -> subprocess.CompletedProcess[str]:
        """``sh -c script`` in the robot (``binds``: read-only, for this command only)."""
        return subprocess.run(
            self.argv(["/bin/sh", "-c", script], network=network, binds=binds),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def popen(self, script: str, log: Path, *, network: bool = False) -> subprocess.Popen[bytes]:
        """``sh -c script`` in the robot, in the background; what it says goes to ``log``."""
        with log.open("wb") as out:
            return subprocess.Popen(
                self.argv(["/bin/sh", "-c", script], network=network),
                stdout=out,
                stderr=subprocess.STDOUT,
            )


def unpack(tarball: Path) -> EmulatedRobot:
    """A fresh robot in a new temporary folder (removed by the caller with ``shutil.rmtree``)."""
    return EmulatedRobot(tarball, Path(tempfile.mkdtemp(prefix="roboclass-robot-")))
