"""Kit profiles: the shipped ones are valid, broken ones say which line is wrong."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from gpiozero.pins.mock import MockFactory, MockPWMPin, MockTriggerPin

from hardware import KitError, Robot, list_kits, load_kit
from hardware.kit import BUILTIN_KITS
from hardware.preflight import run_preflight
from roboclass.cli import cli

SHIPPED = sorted(p.stem for p in BUILTIN_KITS.glob("*.yaml"))


def test_at_least_four_kits_ship_and_all_load() -> None:
    assert len(SHIPPED) >= 4
    assert {"sim", "generic-l298n", "camjam-edukit3", "pi-uno-bridge"} <= set(SHIPPED)
    for name in SHIPPED:
        kit = load_kit(name)
        assert kit.name == name  # the file name and the kit's name agree
        assert kit.title.en and kit.title.zh


def test_hw_kits_json_lists_them() -> None:
    result = CliRunner().invoke(cli, ["hw", "kits", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert {k["name"] for k in data["kits"]} >= set(SHIPPED)
    sim = next(k for k in data["kits"] if k["name"] == "sim")
    assert sim["backend"] == "sim" and sim["parts"]["camera"] == "camera"
    assert data["broken"] == []


BROKEN = """\
name: my-car
title: {en: My car, zh: 我的车}
backend: gpio
drive:
  left: {forward: 17, backward: 27}
  right: {forward: 22, backward: 23, invert: true}
  wheel_base: 0.13
  wheel_radius: 0.033
  max_wheel_speed: 0.6
parts:
  distance: {kind: ultrasonic, trigger: 16, echo: 40}
  eyes: {kind: laser}
"""


def test_broken_profile_names_field_and_line(tmp_path: Path) -> None:
    path = tmp_path / "my-car.yaml"
    path.write_text(BROKEN, encoding="utf-8")
    with pytest.raises(KitError) as info:
        load_kit(path)
    message = str(info.value)
    assert (
        f"{path}:6:" in message
        and "drive.right.invert: unknown field (did you mean 'inverted'?)" in message
    )
    assert f"{path}:11:" in message and "parts.distance.ultrasonic.echo" in message
    assert f"{path}:12:" in message and "parts.eyes" in message


def test_hw_validate_points_at_lines_in_chinese(tmp_path: Path) -> None:
    path = tmp_path / "my-car.yaml"
    path.write_text(BROKEN, encoding="utf-8")
    result = CliRunner().invoke(cli, ["--lang", "zh", "hw", "validate", str(path)])
    assert result.exit_code == 1
    assert f"{path}:6:" in result.output and "未知字段" in result.output
    ok = CliRunner().invoke(cli, ["hw", "validate", str(BUILTIN_KITS / "sim.yaml")])
    assert ok.exit_code == 0 and "ok (sim, sim" in ok.output


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ("  line: {kind: line_sensors, pins: [5, 6], count: 3}\n", "count is 3 but 2"),
        (
            "  pan: {kind: servo, pin: 9, min_angle: 10, max_angle: -10}\n",
            "min_angle must be lower",
        ),
        ("  pan: {kind: servo, pin: 9, safe_angle: 120}\n", "safe_angle must be between"),
        ("  stop: {kind: button, pin: 4}\n", "must be a plain Python name"),
        (
            "  power: {kind: battery, full_voltage: 6, empty_voltage: 7}\n",
            "empty_voltage must be lower",
        ),
    ],
)
def test_semantic_checks(tmp_path: Path, change: str, error: str) -> None:
    text = BROKEN.replace(
        "  right: {forward: 22, backward: 23, invert: true}", "  right: {forward: 22, backward: 23}"
    )
    text = text.split("parts:\n")[0] + "parts:\n" + change
    path = tmp_path / "k.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(KitError, match=error):
        load_kit(path)


def test_unknown_kit_lists_the_known_ones() -> None:
    with pytest.raises(KitError, match=r"no kit profile called 'rocket'.*generic-l298n"):
        load_kit("rocket")


def test_user_kits_come_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROBOCLASS_CONFIG_DIR", str(tmp_path))
    (tmp_path / "kits").mkdir()
    text = (BUILTIN_KITS / "camjam-edukit3.yaml").read_text(encoding="utf-8")
    (tmp_path / "kits" / "camjam-edukit3.yaml").write_text(
        text.replace("max_speed: 1.0", "max_speed: 0.5"), encoding="utf-8"
    )
    (tmp_path / "kits" / "broken.yaml").write_text("name: [\n", encoding="utf-8")
    assert load_kit("camjam-edukit3").limits.max_speed == 0.5
    assert [k.name for k in list_kits()].count("camjam-edukit3") == 1
    result = CliRunner().invoke(cli, ["hw", "kits", "--json"])
    broken = json.loads(result.output)["broken"]
    assert broken and broken[0]["file"].endswith("broken.yaml")


class PWMTriggerPin(MockTriggerPin, MockPWMPin):
    pass


def test_preflight_on_mock_pins() -> None:
    factory = MockFactory(pin_class=MockPWMPin)
    echo = factory.pin(18)
    factory.pin(17, pin_class=PWMTriggerPin, echo_pin=echo, echo_time=0.002)
    with Robot("camjam-edukit3", backend="gpio", pin_factory=factory) as robot:
        results = {r.part: r for r in run_preflight(robot)}
        assert robot.drive.value == (0, 0)  # the motor pulses ended stopped
    assert results["left_motor"].status == "warn"  # no encoders to confirm
    assert results["distance"].status == "ok"
    assert 0.2 < float(results["distance"].values["distance_m"]) < 0.5  # type: ignore[arg-type]
    assert results["line"].status == "ok"


def test_preflight_reports_an_unplugged_sensor() -> None:
    factory = MockFactory(pin_class=MockPWMPin)  # nothing answers on the echo pin
    with Robot("camjam-edukit3", backend="gpio", pin_factory=factory) as robot:
        results = {r.part: r for r in run_preflight(robot)}
    assert results["distance"].status == "fail"
    assert "check the trigger and echo wires" in results["distance"].detail("en")
    assert results["line"].status == "ok"  # the other parts were still checked


def test_robot_reads_the_device_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROBOCLASS_CONFIG_DIR", str(tmp_path))
    monkeypatch.delenv("ROBOCLASS_KIT", raising=False)
    monkeypatch.delenv("ROBOCLASS_BACKEND", raising=False)
    (tmp_path / "robot.yaml").write_text(
        "kit: camjam-edukit3\nbackend: sim\nspeed_cap: 0.4\nname: robot-07\n", encoding="utf-8"
    )
    with Robot(realtime=False) as robot:
        assert (robot.kit.name, robot.backend.name, robot.name) == (
            "camjam-edukit3",
            "sim",
            "robot-07",
        )
        assert robot.speed_cap == 0.4
        robot.drive.forward(1)
        assert robot.drive.value == (0.4, 0.4)
    monkeypatch.setenv("ROBOCLASS_KIT", "sim")
    with Robot(realtime=False, speed_cap=0.9) as robot:
        assert robot.kit.name == "sim" and robot.speed_cap == 0.4  # the lower cap wins
    (tmp_path / "robot.yaml").write_text("kit: sim\nspeed: fast\n", encoding="utf-8")
    with pytest.raises(
        KitError, match=r"robot.yaml:2:1: speed: unknown field \(did you mean 'speed_cap'\?\)"
    ):
        Robot()


def test_no_settings_means_the_simulator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROBOCLASS_CONFIG_DIR", str(tmp_path))
    for name in ("ROBOCLASS_KIT", "ROBOCLASS_BACKEND", "ROBOCLASS_SPEED_CAP"):
        monkeypatch.delenv(name, raising=False)
    with Robot(realtime=False) as robot:
        assert (robot.kit.name, robot.backend.name) == ("sim", "sim")
