"""The editor's completions come from the student API itself (lessons.apiref)."""

from __future__ import annotations

import importlib
import inspect
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from hardware import DistanceSensor, Robot, Servo
from hardware.kit import load_kit
from hardware.motors import DifferentialDrive
from lessons.apiref import (
    OUR_PACKAGES,
    STUDENT_MODULES,
    api_reference,
    build_reference,
    part_classes,
)

HERE = OUR_PACKAGES | {__name__.split(".")[0]}  # this file's classes count as the API too


def members(ref: dict[str, Any], cls: str) -> dict[str, dict[str, Any]]:
    return {m["name"]: m for m in ref["classes"][cls]["members"]}


def test_every_name_in_the_reference_exists() -> None:
    ref = api_reference("sim")
    assert json.loads(json.dumps(ref)) == ref  # JSON as it is
    for name, module_name in STUDENT_MODULES.items():
        module = importlib.import_module(module_name)
        assert ref["modules"][name]["names"] == list(module.__all__)
        for export in module.__all__:
            assert getattr(module, export) is not None
    assert "Robot" in ref["modules"]["hardware"]["names"]
    assert "Classifier" in ref["modules"]["vision"]["names"]
    assert ref["modules"]["lessons"]["names"] == ["report"]
    for cls_name, entry in ref["classes"].items():
        cls = getattr(importlib.import_module(entry["module"]), cls_name)
        assert inspect.isclass(cls)
        for member in entry["members"]:
            if member["kind"] == "part" and cls is Robot:
                continue  # the kit's parts are checked on a real robot below
            attr = inspect.getattr_static(cls, member["name"])
            assert isinstance(attr, property) == (member["kind"] == "property"), member
            if member["kind"] == "method":
                bound = getattr(cls, member["name"])
                params = inspect.signature(bound).parameters.values()
                passable = [
                    p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
                ]
                assert member["params"] == [n for n in passable if n not in ("self", "cls")], member
            if member["type"] is not None:
                assert member["type"] in ref["classes"]
    for fn_name, entry in ref["functions"].items():
        func = getattr(importlib.import_module(entry["module"]), fn_name)
        assert list(inspect.signature(func).parameters) == entry["params"]


def test_robot_drive_forward_with_its_real_signature_and_help() -> None:
    ref = api_reference("sim")
    robot = members(ref, "Robot")
    assert robot["drive"] | {"doc": None} == robot["drive"] | {
        "kind": "part",
        "type": "DifferentialDrive",
        "doc": None,
    }
    forward = members(ref, "DifferentialDrive")["forward"]
    power = inspect.signature(DifferentialDrive.forward).parameters["power"]
    assert forward["signature"] == f"(power: float = {power.default!r})"
    assert forward["params"] == ["power"]
    assert forward["doc"]["en"] == str(inspect.getdoc(DifferentialDrive.forward)).replace("``", "")
    assert not forward["deprecated"]
    assert members(ref, "DifferentialDrive")["move"]["deprecated"]  # an old name, not offered
    assert members(ref, "Robot")["release"]["deprecated"]
    # reST markup is gone from the help a child reads
    assert (
        robot["distance"]["doc"]["en"]
        == "The distance sensor looking ahead: robot.distance.metres."
    )
    classifier = ref["classes"]["Classifier"]
    assert classifier["params"][0] == "model"
    assert classifier["signature"].startswith("(model: str | Path | None = None, *, threads:")
    assert ref["functions"]["report"]["signature"] == "(name: str, value: Any)"
    assert ref["variables"] == {"robot": "Robot"}


def test_the_robot_has_exactly_the_kits_parts(tmp_path: Path) -> None:
    camjam = {m["name"] for m in api_reference("camjam-edukit3")["classes"]["Robot"]["members"]}
    assert {"drive", "distance", "line", "stop", "sleep"} <= camjam
    assert not {"camera", "imu", "buzzer"} & camjam  # the kit has none: robot.camera would raise
    everything = members(api_reference(), "Robot")
    assert {"camera", "imu", "buzzer", "distance"} <= set(everything)

    # a kit with a part the robot has no typed attribute for: robot.pan is a Servo
    kit = load_kit("sim").model_dump(mode="json", exclude_none=True)
    kit["parts"]["pan"] = {
        "kind": "servo",
        "min_angle": -45,
        "max_angle": 45,
        "title": {"en": "The camera's pan servo", "zh": "摄像头的水平舵机"},
    }
    path = tmp_path / "sim-pan.yaml"
    path.write_text(yaml.safe_dump(kit), encoding="utf-8")
    ref = build_reference(str(path))
    parts = {
        m["name"]: m["type"] for m in ref["classes"]["Robot"]["members"] if m["kind"] == "part"
    }
    assert parts["pan"] == "Servo"
    pan = members(ref, "Robot")["pan"]["doc"]
    assert pan == {"en": "The camera's pan servo", "zh": "摄像头的水平舵机"}  # the kit's own words
    with Robot(kit=load_kit(path), backend="sim", realtime=False) as robot:
        # exactly what the robot built, each of the class the reference says
        assert set(parts) == set(robot.parts) | {"drive"}
        for name, cls in parts.items():
            assert type(getattr(robot, name)).__name__ == cls, name
        robot.pan.angle = 10  # the reference's members of that class work on it
        assert "angle" in members(ref, "Servo")
    assert part_classes(Robot)["servo"] is Servo


class LoudDistance(DistanceSensor):
    """A distance sensor that beeps."""

    def beep_twice(self, pitch: float = 440.0, *, loud: bool = True) -> None:
        """Beep two times. / 响两次。

        More about it.
        """

    @property
    def closeness(self) -> float:
        """How near the nearest thing is, 0..1."""
        return 1 - min(self.metres, 1.0)


class LoudRobot(Robot):
    """A robot whose distance sensor beeps."""

    @property
    def distance(self) -> LoudDistance:
        """The beeping distance sensor."""
        return self.part("distance", LoudDistance)


def test_a_new_public_method_on_a_part_class_appears() -> None:
    ref = build_reference("sim", robot=LoudRobot, packages=HERE)
    assert ref["variables"] == {"robot": "LoudRobot"}
    assert members(ref, "LoudRobot")["distance"]["type"] == "LoudDistance"
    loud = members(ref, "LoudDistance")
    assert loud["beep_twice"] == {
        "name": "beep_twice",
        "kind": "method",
        "signature": "(pitch: float = 440.0, *, loud: bool = True)",
        "params": ["pitch", "loud"],
        "doc": {"en": "Beep two times.", "zh": "响两次。"},
        "type": None,
        "deprecated": False,
    }
    assert loud["closeness"]["annotation"] == "float"
    assert "metres" in loud  # and what it inherits
    assert part_classes(LoudRobot, HERE)["ultrasonic"] is LoudDistance
    # without its package counted, a class from elsewhere adds nothing
    assert "LoudDistance" not in build_reference("sim", robot=LoudRobot)["classes"]
    # the cached reference of the real robot is not touched by it
    assert "LoudDistance" not in api_reference("sim")["classes"]


def test_the_reference_is_cached_and_each_caller_gets_its_own_copy() -> None:
    first = api_reference("sim")
    first["classes"].clear()
    assert api_reference("sim")["classes"]
    with pytest.raises(Exception, match="no kit profile called"):
        api_reference("no-such-kit")
