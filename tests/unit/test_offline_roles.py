"""install.sh knows its role and the kit's camera, and `offline bundle` builds one side (issue 20).

The generated script runs for real under ``sh --check`` (it checks and installs
nothing), with ``dpkg-query`` answering from a list: a robot is asked for
python3-picamera2 only when its kit has the Pi camera, with the exact command
of Raspberry Pi OS; build tools are only a note.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from roboclass.cli import cli
from roboclass.doctor_roles import install_facts
from roboclass.offline import OfflineError, build_bundle
from roboclass.offline_scripts import (
    ROBOT_DEBIAN,
    camera_kits,
    debian_packages,
    install_script,
    split_debian,
)

ROOT = Path(__file__).resolve().parents[2]
PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"
KITS = {"generic-l298n": True, "pi-uno-bridge": True, "camjam-edukit3": False, "sim": False}
DPKG_QUERY = """#!/bin/sh
# dpkg-query -W -f='${Status}' NAME: "installed" for the names in $FAKE_DEBS
for name in $FAKE_DEBS; do
  if [ "$name" = "$3" ]; then printf 'install ok installed'; exit 0; fi
done
exit 1
"""


def _folder(tmp_path: Path, side: str) -> Path:
    folder = tmp_path / side
    folder.mkdir()
    robot = side == "robot"
    script = install_script(
        side=side,
        version="0.1.0",
        python=PYTHON,
        extras=("pi",) if robot else ("console",),
        system_site_packages=robot,
        debian=["python3-venv", "bubblewrap"] if robot else ["python3-venv", "mosquitto"],
        optional=["build-essential", "python3-dev"] if robot else [],
        with_sources=robot,
        camera_kits=KITS if robot else None,
    )
    (folder / "install.sh").write_text(script)
    data = b"a wheel\n"
    (folder / "w.whl").write_bytes(data)
    (folder / "SHA256SUMS").write_text(f"{hashlib.sha256(data).hexdigest()}  w.whl\n")
    tools = tmp_path / "tools"
    tools.mkdir(exist_ok=True)
    (tools / "dpkg-query").write_text(DPKG_QUERY)
    (tools / "dpkg-query").chmod(0o755)
    return folder


def _check(
    folder: Path, *args: str, debs: str, rpi_os: bool = False, **env: str
) -> subprocess.CompletedProcess[str]:
    tools = folder.parent / "tools"
    issue = folder.parent / "rpi-issue"
    if rpi_os:
        issue.write_text("Raspberry Pi reference 2024-11-19\n")
    else:
        issue.unlink(missing_ok=True)
    environ = {
        **{k: v for k, v in os.environ.items() if k != "ROBOCLASS_IGNORE_APT"},
        "PATH": f"{tools}{os.pathsep}{os.environ['PATH']}",
        "PYTHON": sys.executable,
        "FAKE_DEBS": debs,
        "RPI_ISSUE": str(issue),
        **env,
    }
    return subprocess.run(
        ["sh", str(folder / "install.sh"), "--check", *args],
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


ROBOT_BASE = "python3-venv bubblewrap"


def test_a_robot_without_a_kit_goes_on_with_a_note_about_the_pi_camera(tmp_path: Path) -> None:
    done = _check(_folder(tmp_path, "robot"), debs=ROBOT_BASE)
    assert done.returncode == 0, done.stderr
    assert "ready to install as robot" in done.stdout
    assert "note: no python3-picamera2: fine for a USB camera" in done.stderr
    assert "sudo apt install -y python3-picamera2" in done.stderr
    assert "note: build-essential is not installed (optional" in done.stderr
    assert "Debian packages missing" not in done.stderr


def test_a_pi_camera_kit_needs_picamera2_with_the_raspberry_pi_os_command(tmp_path: Path) -> None:
    folder = _folder(tmp_path, "robot")
    on_rpi_os = _check(folder, "--kit", "generic-l298n", debs=ROBOT_BASE, rpi_os=True)
    assert on_rpi_os.returncode == 1
    assert "on Raspberry Pi OS: sudo apt install -y python3-picamera2" in on_rpi_os.stderr
    assert "stopped" in on_rpi_os.stderr
    debian = _check(folder, "--kit", "generic-l298n", debs=ROBOT_BASE)
    assert debian.returncode == 1
    assert "comes only with" in debian.stderr and "--pi-camera no" in debian.stderr
    have = _check(folder, "--kit", "pi-uno-bridge", debs=f"{ROBOT_BASE} python3-picamera2")
    assert have.returncode == 0, have.stderr
    assert "picamera2" not in have.stderr
    ignored = _check(folder, "--kit", "generic-l298n", debs=ROBOT_BASE, ROBOCLASS_IGNORE_APT="1")
    assert ignored.returncode == 0, ignored.stderr


def test_a_kit_without_the_pi_camera_never_asks_for_picamera2(tmp_path: Path) -> None:
    folder = _folder(tmp_path, "robot")
    for args in (["--kit", "camjam-edukit3"], ["--pi-camera", "no"]):
        done = _check(folder, *args, debs=ROBOT_BASE)
        assert done.returncode == 0, done.stderr
        assert "picamera2" not in done.stderr
    own = _check(folder, "--kit", "my-kit", debs=ROBOT_BASE)
    assert own.returncode == 2 and "--pi-camera yes or --pi-camera no" in own.stderr
    told = _check(folder, "--kit", "my-kit", "--pi-camera", "yes", debs=ROBOT_BASE, rpi_os=True)
    assert told.returncode == 1 and "sudo apt install -y python3-picamera2" in told.stderr


def test_the_robots_required_packages_stop_it(tmp_path: Path) -> None:
    done = _check(_folder(tmp_path, "robot"), debs="python3-venv")
    assert done.returncode == 1
    assert "Debian packages missing: bubblewrap" in done.stderr
    assert "sudo apt install bubblewrap" in done.stderr


@pytest.mark.parametrize(
    ("side", "args", "message"),
    [
        ("robot", ["--role", "hub"], "this folder is for robot, not hub"),
        ("console", ["--role", "robot"], "this folder is for hub or maintainer, not robot"),
        ("robot", ["--kit", "x;reboot"], "a kit's name has only"),
        ("robot", ["--pi-camera", "maybe"], "write yes or no"),
        ("robot", ["--colour", "red"], "unknown option --colour"),
    ],
)
def test_wrong_options_are_refused(
    tmp_path: Path, side: str, args: list[str], message: str
) -> None:
    done = _check(_folder(tmp_path, side), *args, debs=ROBOT_BASE)
    assert done.returncode == 2
    assert message in done.stderr
    assert "usage: ./install.sh" in done.stderr or message in done.stderr


def test_the_hub_needs_mosquitto_and_no_camera(tmp_path: Path) -> None:
    folder = _folder(tmp_path, "console")
    done = _check(folder, debs="python3-venv mosquitto")
    assert done.returncode == 0, done.stderr
    assert "ready to install as hub" in done.stdout
    assert "picamera2" not in done.stderr
    assert _check(folder, "--role", "maintainer", debs="python3-venv mosquitto").returncode == 0
    no_broker = _check(folder, debs="python3-venv")
    assert no_broker.returncode == 1 and "missing: mosquitto" in no_broker.stderr


def test_install_sh_writes_the_role_and_kit_for_doctor() -> None:
    script = install_script(
        side="robot",
        version="0.1.0",
        python="3.11",
        extras=("pi",),
        system_site_packages=True,
        debian=["python3-venv"],
        with_sources=False,
        camera_kits=KITS,
    )
    assert '"$PREFIX/venv/roboclass-install.json"' in script
    assert 'generic-l298n|pi-uno-bridge) : "${PI_CAMERA:=yes}"' in script
    # the lines that write it, run as they are, give JSON that doctor reads
    lines = script.splitlines()
    start = next(i for i, line in enumerate(lines) if "What `roboclass doctor` reads" in line)
    end = next(i for i, line in enumerate(lines) if "roboclass-install.json" in line)
    part = "\n".join(lines[start : end + 1])
    for kit, camera, expected in (("sim", "no", ("sim", False)), ("", "", (None, None))):
        with tempfile.TemporaryDirectory() as prefix:
            (Path(prefix) / "venv").mkdir()
            env = {"PREFIX": prefix, "ROLE": "robot", "KIT": kit, "PI_CAMERA": camera}
            subprocess.run(["sh", "-c", part], env=env, check=True, timeout=30)
            facts = install_facts(Path(prefix) / "venv")
        assert facts == {
            "role": "robot",
            "kit": expected[0],
            "pi_camera": expected[1],
            "roboclass": "0.1.0",
        }


def test_the_lists_split_into_required_optional_and_the_camera() -> None:
    required, optional = split_debian(debian_packages(ROOT, build_tools=True)["robot"])
    assert required == ["python3-venv", "bubblewrap"]
    assert optional == ["build-essential", "python3-dev"]
    assert "python3-picamera2" in dict(ROBOT_DEBIAN)
    required, optional = split_debian(debian_packages(ROOT)["hub"])
    assert "mosquitto" in required and not optional


def test_the_shipped_kits_say_which_have_the_pi_camera() -> None:
    assert camera_kits() == KITS


def test_one_side_only(tmp_path: Path) -> None:
    with pytest.raises(OfflineError, match="choose from robot, console"):
        build_bundle(tmp_path / "b", sides=("toaster",))
    with pytest.raises(OfflineError, match="choose from"):
        build_bundle(tmp_path / "b", sides=())
    both = CliRunner().invoke(
        cli, ["offline", "bundle", "--out", str(tmp_path / "c"), "--robot-only", "--hub-only"]
    )
    assert both.exit_code == 2 and "choose one" in both.output
