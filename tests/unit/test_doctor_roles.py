"""A robot, the hub and a maintainer's PC: doctor checks what each needs (issue 20).

A robot is not asked for Mosquitto or simavr; picamera2 is needed only where
the kit has the Pi camera, with the exact apt command of Raspberry Pi OS. The
role comes from --role, ROBOCLASS_ROLE, what install.sh wrote, a checkout, or
a guess.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from roboclass.cli import cli
from roboclass.doctor import ROLE_CHECKS, Status, System, run_checks
from roboclass.doctor_roles import INSTALL_FILE, Role, Setup, camera_source, find_setup
from tests.unit.test_doctor import by_name, healthy


def _as(tmp_path: Path, role: Role, camera: str | None = None, **change: object) -> System:
    system = replace(healthy(tmp_path), setup=Setup(role, "flag", "kit-x", camera))
    return replace(system, **change)  # type: ignore[arg-type]


def test_a_robot_is_not_asked_for_mosquitto_or_simavr(tmp_path: Path) -> None:
    bare = _as(tmp_path, Role.ROBOT, which=lambda _name: None)
    results = by_name(bare)
    assert "mosquitto" not in results and "simavr" not in results
    assert {"camera", "serial", "sandbox", "onnxruntime"} <= set(results)
    assert all(r.status is Status.OK for r in results.values()), results
    # the same computer as a maintainer's PC: both are missing
    maintainer = by_name(replace(bare, setup=Setup(Role.MAINTAINER, "flag")))
    assert maintainer["mosquitto"].status is Status.WARN
    assert maintainer["simavr"].status is Status.WARN


def test_the_hub_needs_the_broker_but_no_camera_or_boards(tmp_path: Path) -> None:
    results = by_name(_as(tmp_path, Role.HUB, which=lambda _name: None))
    assert not {"camera", "serial", "brltty", "simavr"} & set(results)
    assert results["mosquitto"].status is Status.WARN
    assert "apt install mosquitto" in results["mosquitto"].advice("en")


def test_each_role_runs_its_own_checks_in_order() -> None:
    names = {role: [c.__name__ for c in checks] for role, checks in ROLE_CHECKS.items()}
    assert names[Role.MAINTAINER][0] == "check_role"
    for role in (Role.ROBOT, Role.HUB):
        assert names[role] == [n for n in names[Role.MAINTAINER] if n in names[role]]
    assert "check_mosquitto" not in names[Role.ROBOT]
    assert "check_camera" not in names[Role.HUB]


def _no_picamera(name: str) -> str:
    if name == "picamera2":
        raise ModuleNotFoundError("No module named 'picamera2'")
    return "1.20.0"


def test_a_pi_camera_kit_without_picamera2_fails_with_the_raspberry_pi_os_command(
    tmp_path: Path,
) -> None:
    rpi_os = _as(
        tmp_path,
        Role.ROBOT,
        "picamera2",
        module_version=_no_picamera,
        read_text=lambda p: (
            "Raspberry Pi reference 2024-11-19\n" if p == "/etc/rpi-issue" else None
        ),
    )
    camera = by_name(rpi_os)["camera"]
    assert camera.status is Status.FAIL  # a /dev/video0 does not make up for it
    assert "sudo apt install -y python3-picamera2" in camera.advice("en")
    assert "--system-site-packages" in camera.advice("en")
    assert "sudo apt install -y python3-picamera2" in camera.advice("zh")
    # on plain Debian the package does not exist: say so
    debian = by_name(replace(rpi_os, read_text=lambda _p: None))["camera"]
    assert debian.status is Status.FAIL
    assert "only with Raspberry Pi OS" in debian.advice("en")
    assert "USB camera" in debian.advice("en")


def test_picamera2_is_not_needed_without_the_pi_camera(tmp_path: Path) -> None:
    no_video = {"module_version": _no_picamera, "glob": lambda _p: []}
    none = by_name(_as(tmp_path, Role.ROBOT, "none", **no_video))["camera"]
    assert none.status is Status.OK and "no camera device needed" in none.detail("en")
    usb = by_name(_as(tmp_path, Role.ROBOT, "usb", **no_video))["camera"]
    assert usb.status is Status.WARN and "USB camera" in usb.advice("en")
    assert "picamera2" not in usb.advice("en")
    plugged = _as(tmp_path, Role.ROBOT, "usb", module_version=_no_picamera)
    assert by_name(plugged)["camera"].status is Status.OK  # healthy() has /dev/video0
    other = _as(tmp_path, Role.ROBOT, "other", module_version=_no_picamera)
    assert by_name(other)["camera"].status is Status.OK


def test_the_role_is_reported(tmp_path: Path) -> None:
    [role] = run_checks(_as(tmp_path, Role.ROBOT), checks=ROLE_CHECKS[Role.ROBOT][:1])
    assert role.check == "role" and role.status is Status.OK
    assert role.detail("en") == "a robot, kit kit-x (from --role)"
    assert role.detail("zh").startswith("机器人")


def _install_file(prefix: Path, **facts: object) -> Path:
    prefix.mkdir(exist_ok=True)
    (prefix / INSTALL_FILE).write_text(json.dumps(facts), encoding="utf-8")
    return prefix


def test_the_role_comes_from_the_flag_the_environment_the_bundle_a_checkout_or_a_guess(
    tmp_path: Path,
) -> None:
    robot = _install_file(tmp_path / "venv", role="robot", kit="pi-uno-bridge")
    config = {"ROBOCLASS_CONFIG_DIR": str(tmp_path / "config")}  # no robot.yaml
    yes, no = (lambda: True), (lambda: False)
    assert find_setup("hub", environ=config, prefix=robot).how == "flag"
    env = {**config, "ROBOCLASS_ROLE": "maintainer"}
    assert find_setup(environ=env, prefix=robot).role is Role.MAINTAINER
    from_bundle = find_setup(environ=config, prefix=robot, checkout=yes)
    assert (from_bundle.role, from_bundle.how) == (Role.ROBOT, "bundle")
    assert (from_bundle.kit, from_bundle.camera) == ("pi-uno-bridge", "picamera2")
    empty = tmp_path / "empty"
    assert find_setup(environ=config, prefix=empty, checkout=yes).how == "checkout"
    guess = find_setup(environ=config, prefix=empty, checkout=no, on_pi=yes)
    assert (guess.role, guess.how) == (Role.ROBOT, "guess")
    hub = find_setup(environ=config, prefix=empty, checkout=no, on_pi=yes, has_console=yes)
    assert hub.role is Role.HUB
    assert find_setup(environ=config, prefix=empty, checkout=no).role is Role.MAINTAINER
    # a wrong ROBOCLASS_ROLE is ignored, not a crash
    odd = {**config, "ROBOCLASS_ROLE": "toaster"}
    assert find_setup(environ=odd, prefix=robot).role is Role.ROBOT


def test_the_kit_comes_from_the_flag_install_sh_or_the_robots_settings(tmp_path: Path) -> None:
    told = _install_file(tmp_path / "venv", role="robot", pi_camera=False)
    config = {"ROBOCLASS_CONFIG_DIR": str(tmp_path / "config")}
    assert find_setup(environ=config, prefix=told).camera == "other"
    sim = _install_file(tmp_path / "sim", role="robot", kit="sim", pi_camera=False)
    assert find_setup(environ=config, prefix=sim).camera == "sim"  # the kit says more
    added = _install_file(tmp_path / "added", role="robot", kit="camjam-edukit3", pi_camera=True)
    assert find_setup(environ=config, prefix=added).camera == "picamera2"  # --pi-camera yes
    assert find_setup(kit="generic-l298n", environ=config, prefix=told).camera == "picamera2"
    bare = tmp_path / "bare"
    settings = {**config, "ROBOCLASS_KIT": "camjam-edukit3"}
    assert find_setup(environ=settings, prefix=bare).camera == "none"
    assert find_setup(environ=config, prefix=bare).camera is None  # nothing says
    assert find_setup(kit="no-such-kit", environ=config, prefix=bare).camera is None


@pytest.mark.parametrize(
    ("kit", "source"),
    [("generic-l298n", "picamera2"), ("pi-uno-bridge", "picamera2"), ("camjam-edukit3", None)],
)
def test_the_shipped_kits_cameras(kit: str, source: str | None) -> None:
    assert camera_source(kit) == source


def test_doctor_role_robot_on_the_command_line() -> None:
    result = CliRunner().invoke(cli, ["doctor", "--role", "robot", "--kit", "sim", "--json"])
    entries = {e["check"]: e for e in json.loads(result.output)}
    assert "mosquitto" not in entries and "simavr" not in entries
    assert entries["role"]["detail"] == "a robot, kit sim (from --role)"
    assert entries["camera"]["status"] == "ok"  # the simulator's camera needs no device
