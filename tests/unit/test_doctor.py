from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import pytest

from lessons.sandbox import SandboxCheck
from roboclass import doctor
from roboclass.doctor import Status, System, run_checks
from roboclass.doctor_roles import Role, Setup


def healthy(tmp_path: Path) -> System:
    """A computer on which every check passes."""
    tools = {"mosquitto", "simavr", "avr-gcc"}
    return System(
        python=(3, 11, 7),
        pointer_bits=64,
        machine="x86_64",
        is_root=False,
        which=lambda name: f"/usr/bin/{name}" if name in tools else None,
        read_text=lambda _path: None,
        glob=lambda pattern: ["/dev/video0"] if pattern == "/dev/video*" else [],
        groups=lambda: {"dialout", "plugdev"},
        module_version=lambda name: "1.20.0" if name == "onnxruntime" else _no_module(name),
        requires=lambda: ["click>=8", 'amqtt>=0.11; extra == "console"'],
        dist_version=lambda name: {"click": "8.1.7", "amqtt": "0.12.1"}.get(name),
        disk_free=lambda _path: 50 * 1024**3,
        data_dir=tmp_path,
        today=lambda: dt.date(2027, 3, 1),
        sandbox=lambda: SandboxCheck(True, bwrap="/usr/bin/bwrap", cgroup="v2"),
        setup=Setup(Role.MAINTAINER, "flag"),
    )


def _no_module(name: str) -> str:
    raise ModuleNotFoundError(f"No module named {name!r}")


def by_name(system: System) -> dict[str, doctor.Result]:
    return {r.check: r for r in run_checks(system)}


def test_healthy_machine_is_all_ok(tmp_path: Path) -> None:
    results = by_name(healthy(tmp_path))
    assert {name: r.status for name, r in results.items()} == dict.fromkeys(results, Status.OK)


@pytest.mark.parametrize(
    ("change", "check", "status", "advice_has"),
    [
        ({"python": (3, 9, 2)}, "python", Status.FAIL, "3.11"),
        ({"pointer_bits": 32}, "python", Status.FAIL, "64-bit"),
        ({"dist_version": lambda n: None}, "extras", Status.FAIL, "Reinstall"),
        (
            {"dist_version": lambda n: "7.0" if n == "click" else None},
            "extras",
            Status.FAIL,
            "make",
        ),
        ({"module_version": _no_module}, "onnxruntime", Status.FAIL, "pip install"),
        ({"glob": lambda p: []}, "camera", Status.WARN, "python3-picamera2"),
        (
            {
                "sandbox": lambda: SandboxCheck(
                    False, "bwrap is not installed", "apt install bubblewrap"
                )
            },
            "sandbox",
            Status.FAIL,
            "apt install bubblewrap",
        ),
        (
            {"groups": lambda: set(), "glob": lambda p: ["/dev/ttyUSB0"] if "USB" in p else []},
            "serial",
            Status.FAIL,
            "usermod -aG dialout",
        ),
        ({"groups": lambda: set()}, "serial", Status.WARN, "dialout"),
        (
            {"which": lambda n: "/usr/bin/brltty" if n == "brltty" else "/usr/bin/x"},
            "brltty",
            Status.WARN,
            "apt remove brltty",
        ),
        ({"which": lambda n: None}, "mosquitto", Status.WARN, "apt install mosquitto"),
        (
            {"which": lambda n: "/usr/bin/simavr" if n == "simavr" else None},
            "simavr",
            Status.WARN,
            "gcc-avr",
        ),
        ({"disk_free": lambda p: 500 * 1024**2}, "disk", Status.WARN, "apt clean"),
        ({"disk_free": lambda p: 10 * 1024**2}, "disk", Status.FAIL, "apt clean"),
        ({"today": lambda: dt.date(2020, 1, 1)}, "clock", Status.FAIL, "timedatectl"),
    ],
)
def test_each_problem_is_found_with_advice(
    tmp_path: Path, change: dict[str, object], check: str, status: Status, advice_has: str
) -> None:
    result = by_name(replace(healthy(tmp_path), **change))[check]  # type: ignore[arg-type]
    assert result.status is status
    assert advice_has in result.advice("en")
    assert result.advice("zh") and result.advice("zh") != result.advice("en")


def test_root_needs_no_dialout(tmp_path: Path) -> None:
    s = replace(
        healthy(tmp_path),
        is_root=True,
        groups=lambda: set(),
        glob=lambda p: ["/dev/ttyACM0"] if "ACM" in p else [],
    )
    result = by_name(s)["serial"]
    assert result.status is Status.OK
    assert "/dev/ttyACM0" in result.detail("en")


def test_arm_cpu_features(tmp_path: Path) -> None:
    pi5 = "processor : 0\nFeatures : fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics asimddp\n"
    s = replace(
        healthy(tmp_path), machine="aarch64", read_text=lambda p: pi5 if "cpuinfo" in p else None
    )
    assert "dot product yes" in by_name(s)["onnxruntime"].detail("en")
    s = replace(s, read_text=lambda p: "Features : fp evtstrm\n" if "cpuinfo" in p else None)
    assert by_name(s)["onnxruntime"].status is Status.WARN


def test_pi_without_pi_extra_warns(tmp_path: Path) -> None:
    s = replace(
        healthy(tmp_path),
        read_text=lambda p: "Raspberry Pi 5 Model B Rev 1.0" if "model" in p else None,
        requires=lambda: ["click>=8", 'gpiozero>=2; extra == "pi"'],
    )
    result = by_name(s)["extras"]
    assert result.status is Status.WARN
    assert "roboclass[pi]" in result.advice("en")


def test_platform_markers_are_respected(tmp_path: Path) -> None:
    s = replace(
        healthy(tmp_path),
        requires=lambda: ["click>=8", 'lgpio>=0.2; platform_machine == "armv7l" and extra == "pi"'],
    )
    assert "pi" in by_name(s)["extras"].detail("en")  # nothing of "pi" applies here: installed


def test_a_crashing_check_is_reported_not_raised(tmp_path: Path) -> None:
    def check_broken(_s: System) -> doctor.Result:
        raise RuntimeError("boom")

    [result] = run_checks(healthy(tmp_path), checks=[check_broken])
    assert result.check == "broken"
    assert result.status is Status.FAIL
    assert "boom" in result.detail("en")


def test_real_system_runs_every_check() -> None:
    results = run_checks()
    assert [r.check for r in results] == [c.__name__.removeprefix("check_") for c in doctor.CHECKS]
    python = results[0]
    assert python.status is Status.OK  # this test suite itself needs Python >= 3.11
