"""A job on a real robot: the agent lends its hardware to a runner that opens the kit itself.

GPIO pins (and a bridge's serial port) open only once. The agent holds the
robot between jobs (identify, e-stop, preview); the lesson runner opens the
kit for the student's program. So the agent closes its robot for such a job
and opens it again afterwards. gpiozero's MockFactory stands in for the
pins: it refuses a second owner of a pin, as a Pi does.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from gpiozero.pins.mock import MockFactory, MockPWMPin

from fleet.agent.agent import JobContext
from hardware import Robot
from tests.integration.test_fleet_support import broker, room, wait_until

pytestmark = pytest.mark.integration

KIT = "camjam-edukit3"
LEFT_FORWARD = 9  # camjam-edukit3's left motor, forward (BCM)


@pytest.fixture
def address() -> Iterator[tuple[str, int]]:
    with broker("mosquitto") as hp:
        yield hp


def test_a_job_that_opens_the_kit_gets_the_pins_and_the_agent_gets_them_back(
    address: tuple[str, int], tmp_path: Path
) -> None:
    factory = MockFactory(pin_class=MockPWMPin)
    pin = factory.pin(LEFT_FORWARD)
    seen: dict[str, Any] = {}

    def kit_runner(ctx: JobContext) -> dict[str, Any]:
        seen["ctx_robot"] = ctx.robot
        with Robot(KIT, backend="gpio", pin_factory=factory) as own:  # in use: BackendError
            own.drive.forward(0.5)
            seen["driven"] = pin.state
        return {"status": "passed", "score": 100}

    kit_runner.opens_robot = True  # type: ignore[attr-defined]
    held = Robot(KIT, backend="gpio", pin_factory=factory)
    with room(*address, tmp_path) as r:
        agent = r.agent(
            "r1",
            robot=held,
            runner=kit_runner,
            backend="gpio",
            kit=KIT,
            open_robot=lambda: Robot(KIT, backend="gpio", pin_factory=factory),
        )
        wait_until(lambda: "r1" in r.console.db.devices.ids(online_only=True), 20, "online")
        r.console.push(r.console.bundles.put(b"lesson"), "a lesson")
        r.wait_jobs("SUCCEEDED", 1)
        assert seen["ctx_robot"] is None  # lent, not shared
        assert seen["driven"] == 0.5  # the job's own robot drove the pins
        assert held.closed
        back = agent.robot
        assert back is not None and back is not held and not back.closed
        assert pin.state == 0  # the job ended stopped
        back.drive.forward(0.2)  # the agent has the pins again
        assert pin.state == 0.2
        back.drive.stop()


def test_a_runner_that_uses_the_agents_robot_keeps_it(
    address: tuple[str, int], tmp_path: Path
) -> None:
    """Runners without ``opens_robot`` drive ``ctx.robot``; nothing is closed or reopened."""
    factory = MockFactory(pin_class=MockPWMPin)
    pin = factory.pin(LEFT_FORWARD)
    seen: dict[str, Any] = {}

    def robot_runner(ctx: JobContext) -> dict[str, Any]:
        assert ctx.robot is not None
        ctx.robot.drive.forward(0.5)
        seen["driven"] = pin.state
        return {"status": "passed", "score": 100}

    held = Robot(KIT, backend="gpio", pin_factory=factory)
    with room(*address, tmp_path) as r:
        agent = r.agent("r1", robot=held, runner=robot_runner, backend="gpio", kit=KIT)
        wait_until(lambda: "r1" in r.console.db.devices.ids(online_only=True), 20, "online")
        r.console.push(r.console.bundles.put(b"lesson"), "a lesson")
        r.wait_jobs("SUCCEEDED", 1)
        assert seen["driven"] == 0.5
        assert agent.robot is held and not held.closed
        assert pin.state == 0  # the agent stops its robot after every job
