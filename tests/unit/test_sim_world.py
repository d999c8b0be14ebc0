"""World files, shipped worlds, textures and the public API of hardware.sim."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

import hardware.sim as sim
from hardware.sim import SIGN_KINDS, World, list_worlds, load_world, sign_texture, world_path
from hardware.sim.colour import bgr
from rcbase import ConfigError

GOOD = """\
name: test
size: [2.0, 1.5]
lines:
  - shape: oval
    centre: [1.0, 0.75]
    length: 0.8
    radius: 0.45
walls:
  - start: [0.5, 0.2]
    end: [0.5, 0.6]
start:
  - at: [1.0, 0.3]
    heading: 0
"""


def test_public_api_is_complete() -> None:
    for name in sim.__all__:
        assert getattr(sim, name) is not None, name
    public_classes = {n for n in sim.__all__ if n[0].isupper() and not n.isupper()}
    assert {
        "World",
        "Body",
        "BodySpec",
        "CameraSpec",
        "SimCamera",
        "Mount",
        "Pose",
    } <= public_classes


def test_good_world_file() -> None:
    world = World.from_yaml(GOOD)
    assert world.model.size == (2.0, 1.5)
    assert world.floor.image.shape == (300, 400, 3)  # 5 mm per pixel
    assert world.start_pose() == sim.Pose(1.0, 0.3, 0.0)
    assert world.obstacles.names == ("wall 1",)


def test_every_shipped_world_loads_and_renders() -> None:
    names = list_worlds()
    assert {
        "oval-track",
        "figure-eight",
        "obstacle-room",
        "sign-road",
        "aruco-arena",
        "colour-zones",
    } <= set(names)
    for name in names:
        world = load_world(world_path(name))
        body = world.add_robot()
        assert world.hit(body, body.pose.x, body.pose.y) is None, name
        assert world.model.title is not None and world.model.title.zh, name
        top = world.render_topdown(max_px=300)
        assert max(top.shape[:2]) == 300


def test_unknown_world_name() -> None:
    with pytest.raises(sim.UnknownWorldError, match="oval-track"):
        world_path("ovall")


@pytest.mark.parametrize(
    ("text", "line", "field", "en", "zh"),
    [
        (
            "size: [2, 2]\nfloor:\n  colur: red\n",
            3,
            "floor.colur",
            "did you mean 'colour'",
            "未知字段",
        ),
        (
            "size: [2, 2]\nwalls:\n  - start: [0, 0]\n    end: [1, 0]\n    colour: redish\n",
            5,
            "walls.0.colour",
            "unknown colour",
            "取值不正确",
        ),
        (
            "size: [2, 2]\nlines:\n  - shape: oval\n    centre: [1, 1]\n",
            3,
            "lines.0",
            "needs radius, length",
            "取值不正确",
        ),
        (
            "size: [2, 2]\nmarkers:\n  - id: 70\n    at: [1, 1]\n",
            3,
            "markers.0",
            "DICT_4X4_50 has ids 0..49",
            "取值不正确",
        ),
        ("size: [2, -1]\n", 1, "size.1", "greater than 0", "数值太小"),
        (
            "size: [2, 2]\nsigns:\n  - kind: stopp\n    at: [1, 1]\n",
            3,
            "signs.0.kind",
            "stop",
            "取值不在允许范围内",
        ),
        (
            "size: [2, 2]\nboxes:\n  - at: [1, 1]\n",
            3,
            "boxes.0.size",
            "required field is missing",
            "缺少必填字段",
        ),
        (
            "size: [2, 2]\ncheckpoints:\n  - {name: a, start: [0, 0], end: [0, 1]}\n"
            "  - {name: a, start: [1, 0], end: [1, 1]}\n",
            1,
            "",
            "checkpoints need different names",
            "取值不正确",
        ),
    ],
)
def test_broken_world_points_at_the_line(
    text: str, line: int, field: str, en: str, zh: str
) -> None:
    with pytest.raises(ConfigError) as info:
        World.from_yaml(text, source="w.yaml")
    err = info.value
    problem = next(p for p in err.problems if p.field == field)
    assert problem.line == line
    assert en in problem.message.en
    assert zh in problem.message.zh
    assert f"w.yaml:{line}:" in str(err)


def test_broken_world_file_on_disk(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("size: [2, 2]\nstart:\n  - at: [1, 1]\n    headin: 90\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_world(path)
    assert f"{path}:4:" in str(info.value)
    assert "heading" in str(info.value)


def test_missing_floor_texture_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "w.yaml"
    path.write_text("size: [1, 1]\nfloor:\n  texture: nope.png\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="cannot read this image"):
        load_world(path)


def test_floor_texture_relative_to_the_world_file(tmp_path: Path) -> None:
    texture = np.zeros((10, 10, 3), np.uint8)
    texture[:, :] = (0, 0, 255)
    cv2.imwrite(str(tmp_path / "red.png"), texture)
    path = tmp_path / "w.yaml"
    path.write_text("size: [1, 1]\nfloor:\n  texture: red.png\n", encoding="utf-8")
    world = load_world(path)
    assert tuple(world.floor.image[100, 100]) == (0, 0, 255)


def test_floor_has_lines_and_zones_where_the_file_says() -> None:
    world = World.empty(
        1.0,
        1.0,
        border=False,
        lines=[{"shape": "polyline", "points": [(0.1, 0.5), (0.9, 0.5)], "width": 0.02}],
        zones=[{"name": "goal", "colour": "red", "rect": (0.7, 0.7, 0.9, 0.9)}],
    )
    img = world.floor.image
    # pixel rows run north to south: y = 0.5 is row 100 of 200
    assert tuple(img[100, 100]) == bgr("black")
    assert tuple(img[40, 160]) == bgr("red")  # x = 0.8, y = 0.8
    assert tuple(img[160, 40]) == bgr("#dcdcd2")
    assert world.zones_at(0.8, 0.8) == frozenset({"goal"})
    assert world.distance_to_line(0.5, 0.6) == pytest.approx(0.1)


def test_sign_textures_are_drawn_for_every_kind() -> None:
    seen = set()
    for kind in SIGN_KINDS:
        img = sign_texture(kind, 64)
        assert img.shape == (64, 64, 4)
        assert img[:, :, 3].max() == 255
        seen.add(img.tobytes())
    assert len(seen) == len(SIGN_KINDS)  # all different
    stop = sign_texture("stop", 64)
    assert stop[0, 0, 3] == 0  # an octagon's corner is transparent
    b, g, r, _ = stop[10, 32].astype(int)
    assert r > 150 and g < 80 and b < 80
    with pytest.raises(ValueError, match="unknown sign"):
        sign_texture("stopp")


def test_marker_texture_is_detected_by_opencv() -> None:
    img = sim.marker_texture("DICT_4X4_50", 7)
    detector = cv2.aruco.ArucoDetector(cv2.aruco.getPredefinedDictionary(cv2.aruco.DICT_4X4_50))
    _, ids, _ = detector.detectMarkers(cv2.cvtColor(img, cv2.COLOR_BGRA2GRAY))
    assert ids is not None and ids.ravel().tolist() == [7]


def test_the_core_imports_nothing_else_of_hardware() -> None:
    """The sim backend adapts this core; the core must not depend on the rest of hardware."""
    allowed_third_party = {"numpy", "cv2", "yaml", "pydantic", "rcbase"}
    package = Path(sim.__file__).parent
    wrong = []
    for path in sorted(package.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if name.startswith("hardware.sim") or top in allowed_third_party:
                    continue
                if top in sys.stdlib_module_names:
                    continue
                wrong.append(f"{path.name} imports {name}")
    assert not wrong


def test_tiled_floor_has_darker_grout_lines() -> None:
    world = World.empty(1.2, 1.2, border=False, floor={"colour": "white", "tile": 0.3})
    robot = world.add_robot(pose=sim.Pose(0.3, 0.45, 0.0))
    on_grout, on_tile = robot.sensors.line_reflectance([(0.0, 0.0), (0.15, 0.0)])
    assert on_tile == pytest.approx(245 / 255, abs=0.01)
    assert on_grout < on_tile - 0.1  # a line follower on tiles sees the grout too
