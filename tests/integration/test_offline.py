"""The offline bundle against the real package index, and an install from it with --no-index.

The robot's side is a few packages, not the whole `pi` install, to keep the
test's time down (the full set is ~90 MB of aarch64 wheels): PyYAML and lgpio
(aarch64 binary wheels picked by platform tags), click (pure) and cobs (no
aarch64 wheel on the index, so it must be reported and shipped as a source).
The console's side is the full `console` install, and a fresh venv installs it
from the bundle with --no-index.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.utils import parse_wheel_filename

from roboclass import __version__
from roboclass.offline import Bundle, Target, build_bundle
from tests.integration.wheelhouse import needs_index

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

ROBOT_SUBSET = ["PyYAML>=6", "click>=8.1", "cobs>=1.2", "lgpio>=0.2"]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Bundle:
    out = tmp_path_factory.mktemp("offline") / "bundle"
    with needs_index():
        return build_bundle(out, robot=Target.robot("3.11"), robot_requirements=ROBOT_SUBSET)


def test_robot_wheels_are_for_aarch64_and_the_robots_python(bundle: Bundle) -> None:
    wheels = sorted((bundle.root / "robot" / "wheels").iterdir())
    names = {parse_wheel_filename(w.name)[0] for w in wheels}
    assert {"pyyaml", "click", "lgpio", "roboclass"} <= names
    for wheel in wheels:
        for tag in parse_wheel_filename(wheel.name)[3]:
            assert tag.platform == "any" or "aarch64" in tag.platform, wheel.name
            assert tag.interpreter in ("py3", "py2", "cp311") or tag.abi == "abi3", wheel.name
    assert any("aarch64" in w.name for w in wheels if w.name.startswith("lgpio"))


def test_a_package_with_no_aarch64_wheel_is_reported_and_shipped_as_source(
    bundle: Bundle,
) -> None:
    (robot, _console) = bundle.sides
    missing = {m.name: m for m in robot.missing}
    assert set(missing) == {"cobs"}
    cobs = missing["cobs"]
    assert cobs.version == "1.2.2"  # the pin in constraints.txt
    assert cobs.source == "sdist/cobs-1.2.2.tar.gz"
    assert (bundle.root / "robot" / cobs.source).is_file()
    assert "no wheel for Python 3.11 on aarch64" in cobs.advice
    assert "build-essential" in cobs.advice and "--extra-wheels" in cobs.advice
    # no stand-in wheel left behind; the tools to build it are there
    wheels = [p.name for p in (bundle.root / "robot" / "wheels").iterdir()]
    assert not any(name.startswith("cobs-") for name in wheels)
    assert any(name.startswith("setuptools-") for name in wheels)
    assert bundle.complete
    manifest = json.loads((bundle.root / "manifest.json").read_text())
    assert manifest["sides"]["robot"]["missing"][0]["name"] == "cobs"
    assert "build-essential" in manifest["debian"]["robot"]


def test_manifest_has_the_sha256_of_every_file(bundle: Bundle) -> None:
    manifest = json.loads((bundle.root / "manifest.json").read_text())
    on_disk = {
        p.relative_to(bundle.root).as_posix()
        for p in bundle.root.rglob("*")
        if p.is_file() and p.name != "manifest.json"
    }
    assert set(manifest["files"]) == on_disk
    for name, facts in manifest["files"].items():
        data = (bundle.root / name).read_bytes()
        assert facts == {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
    assert manifest["roboclass"] == __version__
    assert "python3-picamera2" in manifest["debian"]["robot"]
    assert "mosquitto" in manifest["debian"]["hub"]
    robot_script = (bundle.root / "robot" / "install.sh").read_text()
    assert "--system-site-packages" in robot_script and "--no-index" in robot_script
    assert "--system-site-packages" not in (bundle.root / "console" / "install.sh").read_text()


def test_a_fresh_venv_installs_the_console_with_no_index(bundle: Bundle, tmp_path: Path) -> None:
    prefix = tmp_path / "hub"
    env = {
        **os.environ,
        "PREFIX": str(prefix),
        "PYTHON": sys.executable,
        "ROBOCLASS_IGNORE_APT": "1",  # this test machine need not have the hub's apt packages
        # nothing from outside the bundle: no index, no find-links, no config
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_FIND_LINKS": "",
        "PIP_INDEX_URL": "http://127.0.0.1:9/nothing",
    }
    for key in ("PIP_EXTRA_INDEX_URL", "PIP_CONSTRAINT"):
        env.pop(key, None)
    script = bundle.root / "console" / "install.sh"
    done = subprocess.run(
        ["sh", str(script)], env=env, capture_output=True, text=True, timeout=540, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    roboclass = prefix / "venv" / "bin" / "roboclass"
    version = subprocess.run(
        [str(roboclass), "--version"], capture_output=True, text=True, timeout=120, check=True
    )
    assert version.stdout.strip() == f"roboclass, version {__version__}"
    # the console's own parts came along
    check = [
        str(prefix / "venv" / "bin" / "python"),
        "-c",
        "import fastapi, argon2, fleet.console.api",
    ]
    subprocess.run(check, timeout=120, check=True)
    # and not the demo's broker: the hub runs Mosquitto (amqtt is the `demo` extra)
    amqtt = [str(prefix / "venv" / "bin" / "python"), "-c", "import amqtt"]
    assert subprocess.run(amqtt, capture_output=True, timeout=120, check=False).returncode != 0
    # install.sh wrote the role, and doctor checks what a hub needs: the broker, no camera
    facts = json.loads((prefix / "venv" / "roboclass-install.json").read_text())
    assert facts == {"role": "hub", "kit": None, "pi_camera": None, "roboclass": __version__}
    quiet = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "ROBOCLASS_ROLE")}
    doctor = subprocess.run(
        [str(roboclass), "--lang", "en", "doctor", "--json"],
        env=quiet,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    checks = {e["check"]: e for e in json.loads(doctor.stdout)}
    assert checks["role"]["detail"].startswith("the hub or teacher's PC (from the offline bundle")
    assert "mosquitto" in checks and "camera" not in checks and "simavr" not in checks


def test_robot_only_builds_no_console_side(tmp_path: Path) -> None:
    with needs_index():
        made = build_bundle(
            tmp_path / "robots",
            robot=Target.robot("3.11"),
            robot_requirements=["click>=8.1"],
            sides=("robot",),
        )
    assert [side.name for side in made.sides] == ["robot"]
    assert not (made.root / "console").exists()
    manifest = json.loads((made.root / "manifest.json").read_text())
    assert set(manifest["sides"]) == {"robot"}
    script = (made.root / "robot" / "install.sh").read_text()
    assert "generic-l298n|pi-uno-bridge)" in script  # the shipped kits with the Pi camera
