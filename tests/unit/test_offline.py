"""The offline bundle's pure parts; tests/integration/test_offline.py runs pip for real."""

from __future__ import annotations

import io
import subprocess
import tarfile
import zipfile
from pathlib import Path

import pytest

from roboclass.offline import OfflineError, Target, default_platforms, requirements_for
from roboclass.offline_pip import constraints_with, failed_package, sdist_facts, stub_wheel
from roboclass.offline_scripts import debian_packages, debian_text, install_script

ROOT = Path(__file__).resolve().parents[2]


def test_default_platforms_cover_every_manylinux_up_to_the_robots_glibc() -> None:
    tags = default_platforms("aarch64", (2, 36))
    assert tags[0] == "manylinux_2_36_aarch64"
    assert "manylinux_2_28_aarch64" in tags and "manylinux_2_17_aarch64" in tags
    assert tags[-2:] == ["manylinux2014_aarch64", "linux_aarch64"]
    assert not any("x86_64" in t or "manylinux_2_16" in t for t in tags)
    with pytest.raises(OfflineError, match=r"2\.17"):
        default_platforms("aarch64", (2, 12))


def test_robot_target_pip_flags() -> None:
    flags = Target.robot("3.13", ["manylinux2014_aarch64"]).pip_flags()
    assert flags == [
        "--only-binary=:all:",
        *("--implementation", "cp", "--python-version", "3.13", "--abi", "cp313"),
        *("--platform", "manylinux2014_aarch64"),
    ]
    assert Target.here().pip_flags() == []
    with pytest.raises(OfflineError, match=r"3\.11"):
        Target.robot("3")


def _wheel(tmp_path: Path, requires: list[str]) -> Path:
    path = tmp_path / "roboclass-0.1.0-py3-none-any.whl"
    meta = "Metadata-Version: 2.1\nName: roboclass\nVersion: 0.1.0\n"
    meta += "".join(f"Requires-Dist: {r}\n" for r in requires)
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("roboclass-0.1.0.dist-info/METADATA", meta)
    return path


def test_our_requirements_are_evaluated_for_the_robot_not_this_pc(tmp_path: Path) -> None:
    wheel = _wheel(
        tmp_path,
        [
            "click>=8.1",
            'gpiozero>=2.0; extra == "pi"',
            'lgpio>=0.2; (platform_machine == "aarch64" or platform_machine == "armv7l") '
            'and extra == "pi"',
            'fastapi>=0.110; extra == "console"',
            'pywin32; sys_platform == "win32"',
        ],
    )
    robot = requirements_for(wheel, ["pi"], Target.robot())
    assert robot == ["click>=8.1", "gpiozero>=2.0", "lgpio>=0.2"]
    assert requirements_for(wheel, [], Target.robot()) == ["click>=8.1"]
    x86 = Target("3.11", "x86_64")
    assert requirements_for(wheel, ["pi"], x86) == ["click>=8.1", "gpiozero>=2.0"]


def test_robot_pins_replace_the_constraint(tmp_path: Path) -> None:
    source = tmp_path / "constraints.txt"
    source.write_text("numpy==2.4.6\nNumPy-Extra==1.0\nclick==8.5.1\n")
    out = constraints_with(source, ["numpy==1.26.4"], tmp_path / "robot.txt")
    assert out.read_text().splitlines() == ["NumPy-Extra==1.0", "click==8.5.1", "numpy==1.26.4"]
    with pytest.raises(OfflineError, match="NAME==VERSION"):
        constraints_with(source, ["numpy<2"], tmp_path / "bad.txt")


@pytest.mark.parametrize(
    ("stderr", "name"),
    [
        (
            "ERROR: Could not find a version that satisfies the requirement cobs==1.2.2 "
            "(from versions: none)\nERROR: No matching distribution found for cobs==1.2.2\n",
            "cobs",
        ),
        (
            "ERROR: Cannot install cobs>=1.2 because these package versions have conflicting "
            "dependencies.\nThe conflict is caused by:\n    The user requested cobs>=1.2\n"
            "    The user requested (constraint) cobs==1.2.2\n",
            "cobs",
        ),
        (
            "The conflict is caused by:\n    foo 1.0 depends on Bar_Baz>=2\n"
            "    The user requested (constraint) bar-baz==2.1\n",
            "bar-baz",
        ),
        ("ERROR: HTTP error 503 while getting https://...\n", None),
    ],
)
def test_the_package_pip_found_no_wheel_for(stderr: str, name: str | None) -> None:
    assert failed_package(stderr) == name


def test_a_stand_in_wheel_carries_the_requirements(tmp_path: Path) -> None:
    path = stub_wheel(tmp_path, "cobs", "1.2.2", ["six>=1"])
    assert path.name == "cobs-1.2.2-py3-none-any.whl"
    with zipfile.ZipFile(path) as zf:
        meta = zf.read("cobs-1.2.2.dist-info/METADATA").decode()
    assert "Name: cobs\nVersion: 1.2.2\nRequires-Dist: six>=1\n" in meta


def test_sdist_facts_read_requirements_and_build_system(tmp_path: Path) -> None:
    sdist = tmp_path / "demo-1.0.tar.gz"
    files = {
        "demo-1.0/PKG-INFO": "Metadata-Version: 2.2\nName: demo\nVersion: 1.0\n"
        'Requires-Dist: six>=1\nRequires-Dist: pytest; extra == "test"\n',
        "demo-1.0/pyproject.toml": '[build-system]\nrequires = ["setuptools>=61.0"]\n',
    }
    with tarfile.open(sdist, "w:gz") as tf:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    assert sdist_facts(sdist) == (["six>=1"], ["setuptools>=61.0"])


def test_debian_lists_name_picamera2_mosquitto_and_what_system_deps_installs() -> None:
    lists = debian_packages(ROOT)
    robot = [name for name, _ in lists["robot"]]
    assert "python3-picamera2" in robot and "python3-venv" in robot
    assert "build-essential" not in robot
    assert "build-essential" in [n for n, _ in debian_packages(ROOT, build_tools=True)["robot"]]
    assert "mosquitto" in [name for name, _ in lists["hub"]]
    maintainer = dict(lists["maintainer"])
    assert {"avrdude", "gcc-avr", "mosquitto"} <= set(maintainer)
    assert maintainer["avrdude"] == "flashes AVR boards"
    text = debian_text(lists)
    assert "[robot]" in text and "python3-picamera2" in text


@pytest.mark.parametrize("side", ["robot", "console"])
def test_install_scripts_are_valid_shell_and_never_use_an_index(side: str) -> None:
    script = install_script(
        side=side,
        version="0.1.0",
        python="3.11",
        extras=("pi",) if side == "robot" else ("console",),
        system_site_packages=side == "robot",
        debian=["python3-venv"],
        with_sources=side == "robot",
    )
    subprocess.run(["sh", "-n"], input=script, text=True, check=True, timeout=30)
    assert "--no-index" in script and "sha256sum --quiet -c SHA256SUMS" in script
    assert ("--system-site-packages" in script) == (side == "robot")
    assert ('--find-links "$HERE/sdist"' in script) == (side == "robot")
    assert "'roboclass[pi]==0.1.0'" in script or side == "console"
