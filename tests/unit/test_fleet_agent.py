"""The agent wires its parts to the link and the robot: messages handed to it directly."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from fleet.agent.agent import Agent, AgentConfig
from fleet.core.protocol import Command, EStop, Topics, encode
from tests.unit.agent_fakes import FakeRobot

TOPICS = Topics("school", "room1")


class Room:
    def __init__(self) -> None:
        self.leaves = 0
        self.answer = True

    def leave(self) -> bool:
        self.leaves += 1
        return self.answer


@pytest.fixture
def room() -> Room:
    return Room()


@pytest.fixture
def robot() -> FakeRobot:
    return FakeRobot()


@pytest.fixture
def agent(tmp_path: Path, robot: FakeRobot, room: Room) -> Iterator[Agent]:
    config = AgentConfig(device="r1", host="127.0.0.1", port=9, state_dir=tmp_path,
                         trusted_keys={}, on_leave_room=room.leave)  # fmt: skip
    agent = Agent(config, robot=robot)  # never started: messages are handed to it directly
    yield agent
    agent.close()


def estop(agent: Agent, active: bool, epoch: int) -> None:
    msg = EStop(active=active, epoch=epoch, by="ms-li", ts=time.time())
    agent._on_message(TOPICS.estop, encode(msg))


def command(agent: Agent, name: str) -> None:
    """A command as the console sends it, by the name on the wire (old names too)."""
    now = time.time()
    fields = {"v": 1, "name": name, "device": "r1", "ts": now, "expires": now + 60}
    agent._on_message(TOPICS.cmd("r1", name), json.dumps(fields).encode())


def test_the_e_stop_stops_the_robot_and_holds_until_a_newer_clear(
    agent: Agent, robot: FakeRobot, tmp_path: Path
) -> None:
    estop(agent, True, 3)
    assert agent.estopped and agent.epoch == 3 and agent.estop_at is not None
    assert robot.calls == ["estop"]
    estop(agent, False, 2)  # older: counted, still stopped
    assert agent.estopped and agent.drops.snapshot() == {"stale_estop": 1}
    assert agent._state().estopped
    agent.close()
    again = Agent(agent.config, robot=robot)  # a restart: still stopped, the robot too
    try:
        assert again.estopped and again.epoch == 3
        assert robot.calls == ["estop", "stop", "estop"]
        estop(again, False, 4)
        assert not again.estopped and robot.calls[-1] == "clear_stop"
    finally:
        again.close()


@pytest.mark.parametrize("name", ["leave_room", "release"])  # release: the old name
def test_leave_room_forgets_the_room_and_its_e_stop_epochs(
    agent: Agent, room: Room, name: str
) -> None:
    estop(agent, True, 5)
    agent.outbox.put("res1", "j1", TOPICS.result("r1", "j1"), b"{}")
    command(agent, name)
    assert room.leaves == 1 and agent.left_room.is_set()
    assert agent.outbox.pending() == [] and agent.outbox.get_meta("estop") is None
    assert not agent.estopped and agent.epoch == 0
    assert agent.drops.total == 0


def test_leave_room_refused_by_the_folder_changes_nothing(agent: Agent, room: Room) -> None:
    room.answer = False
    estop(agent, True, 5)
    command(agent, "leave_room")
    assert room.leaves == 1 and not agent.left_room.is_set()
    assert agent.estopped and agent.epoch == 5


def test_leave_room_without_a_folder_is_unexpected(tmp_path: Path) -> None:
    config = AgentConfig(device="r1", host="127.0.0.1", port=9, state_dir=tmp_path,
                         trusted_keys={})  # fmt: skip
    with Agent(config) as agent:  # starts (the broker is not there) and closes
        command(agent, "leave_room")
        assert agent.drops.snapshot() == {"unexpected": 1}
        assert not agent.left_room.is_set()
    assert agent.closed


def test_an_expired_command_is_dropped(agent: Agent, room: Room) -> None:
    now = time.time()
    old = Command(name="leave_room", device="r1", ts=now - 120, expires=now - 60)
    agent._on_message(TOPICS.cmd("r1", "leave_room"), encode(old))
    assert room.leaves == 0 and agent.drops.snapshot() == {"expired": 1}


def test_closing_the_agent_leaves_the_robot_stopped(agent: Agent, robot: FakeRobot) -> None:
    agent.close()
    assert agent.closed and robot.calls[-1] == "stop" and not robot.closed
    agent.close()  # twice is fine
