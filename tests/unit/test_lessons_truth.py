"""The simulator's truth as a typed record, and the helpers graders share."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from hardware.sim.errors import TruthFormatError
from hardware.sim.truth import (
    CheckpointSeen,
    CollisionSeen,
    PoseSeen,
    SimTruth,
    ZoneSeen,
)
from lessons.checks import (
    angle_off,
    crossed_in_order,
    distance_from_end,
    line_offsets,
    pose_at,
    shipped_world,
)


def sample() -> SimTruth:
    return SimTruth(
        world="oval-track",
        trail=np.array([[0.0, 1.0, 0.5, 0.0], [1.0, 1.2, 0.5, 10.0]]),
        distance_m=0.2,
        start_pose=PoseSeen(1.0, 0.5, 0.0),
        final_pose=PoseSeen(1.2, 0.5, 10.0),
        collisions=(CollisionSeen(0.5, "crate"),),
        laps=(12.5,),
        checkpoints=(CheckpointSeen(0.2, "far bend"), CheckpointSeen(0.8, "back straight")),
        zones=(ZoneSeen(0.1, "red mat", True), ZoneSeen(0.3, "red mat", False)),
        outputs={"led": 1.0},
        motors_at_end=(0.0, 0.0),
        distance_to_line=math.inf,
    )


def test_the_record_crosses_json_and_comes_back_the_same() -> None:
    truth = sample()
    text = json.dumps(truth.to_dict(), allow_nan=False)  # no infinity in JSON
    back = SimTruth.from_dict(json.loads(text))
    assert back == truth
    assert back.to_dict() == truth.to_dict()
    assert back.distance_to_line == math.inf
    assert back.trail.shape == (2, 4) and not back.trail.flags.writeable
    assert back.checkpoint_names == ["far bend", "back straight"]
    assert back.known and back.start_time == 0.0


def test_an_empty_record_is_a_real_robot() -> None:
    truth = SimTruth()
    assert not truth.known
    assert truth.trail.shape == (0, 4) and truth.distance_m == 0.0
    assert SimTruth.from_dict({}) == truth
    assert distance_from_end(truth, 3.0, 4.0) == 5.0  # from (0, 0) when the end is unknown
    assert len(line_offsets(truth)) == 0 and shipped_world(truth) is None


@pytest.mark.parametrize(
    "data",
    [
        {"wrold": "oval-track"},
        {"collisions": [{"t": 1.0, "obstacle": "crate", "speed": 2.0}]},
        {"final_pose": {"x": 1.0, "y": 2.0}},
        {"trail": [[1.0, 2.0, 3.0]]},
        {"laps": ["soon"]},
    ],
)
def test_unknown_or_misshapen_fields_are_refused(data: dict[str, object]) -> None:
    with pytest.raises(TruthFormatError):
        SimTruth.from_dict(data)


def test_grader_helpers() -> None:
    assert crossed_in_order(["a", "x", "b", "a"], ["a", "b", "c"]) == 2
    assert crossed_in_order([], ["a"]) == 0
    assert angle_off(350.0, 10.0) == 20.0 and angle_off(10.0, 190.0) == 180.0
    trail = np.array([[0.0, 1.0, 1.0, 0.0], [1.0, 2.0, 1.0, 90.0]])
    assert pose_at(trail, 0.5) == (1.0, 1.0, 0.0) and pose_at(trail, 5.0) == (2.0, 1.0, 90.0)
    truth = sample()
    assert distance_from_end(truth, 1.2, 1.5) == pytest.approx(1.0)
    world = shipped_world(truth)
    assert world is not None and world.model.name == "oval-track"
    assert line_offsets(truth).shape == (2,)


def test_the_runner_records_what_the_simulator_saw() -> None:
    from hardware.backends import open_backend  # noqa: PLC0415
    from hardware.kit import load_kit  # noqa: PLC0415
    from lessons.runner import _truth  # noqa: PLC0415

    backend = open_backend("sim", load_kit("sim"), world="oval-track", realtime=False)
    try:
        backend.motor("left").set(0.5)
        backend.motor("right").set(0.5)
        backend.sleep(2.0)
        truth = _truth(backend)
    finally:
        backend.close()
    assert truth.known and truth.world == "oval-track"
    assert truth.distance_m > 0.2 and len(truth.trail) > 10
    assert truth.start_pose is not None and truth.final_pose is not None
    assert truth.final_pose.distance_to(truth.start_pose.x, truth.start_pose.y) > 0.2
    assert truth.motors_at_end == (0.5, 0.5)
    assert SimTruth.from_dict(json.loads(json.dumps(truth.to_dict()))) == truth


def test_old_graders_reading_a_dictionary_still_work_with_a_warning() -> None:
    truth = sample()
    with pytest.warns(DeprecationWarning, match=r"truth\.distance_m.*已弃用"):
        assert truth.get("distance_m", 0.0) == 0.2
    with pytest.warns(DeprecationWarning, match=r"truth\.trail"):
        assert truth["trail"].shape == (2, 4)
    with pytest.warns(DeprecationWarning):
        assert truth.get("collisions") == [{"t": 0.5, "obstacle": "crate"}]
    with pytest.warns(DeprecationWarning):
        assert truth.get("final_pose") == {"x": 1.2, "y": 0.5, "heading": 10.0}
    assert truth and not SimTruth()  # a real robot's truth is empty, as {} was
    with pytest.warns(DeprecationWarning):
        assert SimTruth().get("laps", []) == []
