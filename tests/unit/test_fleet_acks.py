"""Acks of many results at once (protocol 1.1) and one by one for older agents."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Literal

import pytest
from pydantic import BaseModel, ConfigDict, ValidationError

from fleet.agent.agent import Agent, AgentConfig
from fleet.console.console import ack_fields
from fleet.core.protocol import (
    MAX_ACK_IDS,
    PROTOCOL_REVISION,
    Command,
    Topics,
    encode,
    takes_batched_acks,
)


def test_one_ack_per_batch_for_new_agents_and_one_per_result_for_old_ones() -> None:
    ids = [f"r{n:04d}" for n in range(600)]
    batched = ack_fields(ids, batched=True)
    assert [len(f["result_ids"]) for f in batched] == [MAX_ACK_IDS, MAX_ACK_IDS, 88]
    assert [i for f in batched for i in f["result_ids"]] == ids
    assert ack_fields(ids[:1], batched=True) == [{"result_id": "r0000"}]  # readable by any agent
    assert ack_fields(ids[:3], batched=False) == [{"result_id": i} for i in ids[:3]]


@pytest.mark.parametrize(
    ("versions", "batched"),
    [
        ({"protocol": "1.1"}, True),
        ({"protocol": "1.12"}, True),
        ({"protocol": "2"}, True),
        ({"protocol": "1.0"}, False),
        ({"protocol": "1"}, False),
        ({"protocol": "one.one"}, False),
        ({"roboclass": "0.3.0"}, False),  # an agent from before protocol 1.1
        ({}, False),
    ],
)
def test_which_births_take_batched_acks(versions: dict[str, str], batched: bool) -> None:
    assert takes_batched_acks(versions) is batched


class Command10(BaseModel):
    """``Command`` as an agent of protocol 1.0 reads it: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")
    v: Literal[1]
    name: str
    device: str
    ts: float
    expires: float
    job: str | None = None
    result_id: str | None = None


def test_an_agent_of_protocol_1_0_still_reads_every_command_sent_one_by_one() -> None:
    now = time.time()
    for fields in ack_fields(["a", "b"], batched=False):
        sent = encode(Command(name="ack", device="r1", ts=now, expires=now + 60, **fields))
        assert Command10.model_validate_json(sent).result_id in {"a", "b"}
    cancel = encode(Command(name="cancel", device="r1", ts=now, expires=now + 60, job="j1"))
    assert Command10.model_validate_json(cancel).job == "j1"
    batched = Command(name="ack", device="r1", ts=now, expires=now + 60, result_ids=["a", "b"])
    with pytest.raises(ValidationError):  # why only 1.1 agents get these
        Command10.model_validate_json(encode(batched))


def test_an_ack_holds_at_most_max_ack_ids() -> None:
    now = time.time()
    with pytest.raises(ValidationError):
        Command(name="ack", device="r1", ts=now, expires=now + 60,
                result_ids=[f"x{n}" for n in range(MAX_ACK_IDS + 1)])  # fmt: skip


def test_an_agent_says_protocol_1_1_and_forgets_every_result_of_a_batched_ack(
    tmp_path: Path,
) -> None:
    config = AgentConfig(device="r1", host="127.0.0.1", port=9, state_dir=tmp_path,
                         trusted_keys={})  # fmt: skip
    agent = Agent(config)  # never started: messages are handed to it directly
    topics = Topics(config.site, config.room)
    try:
        assert agent._state().versions["protocol"] == PROTOCOL_REVISION
        assert takes_batched_acks(agent._state().versions)
        for n in range(5):
            agent.outbox.put(f"res{n}", f"job{n}", topics.result("r1", f"job{n}"), b"{}")
        now = time.time()

        def ack(**fields: object) -> None:
            cmd = Command(name="ack", device="r1", ts=now, expires=now + 60, **fields)  # type: ignore[arg-type]
            agent._on_message(topics.cmd("r1", "ack"), encode(cmd))

        ack(result_ids=["res0", "res1", "res3", "not-here"])
        assert [p.result_id for p in agent.outbox.pending()] == ["res2", "res4"]
        ack(result_id="res2")  # the one-by-one ack of an older console
        assert [p.result_id for p in agent.outbox.pending()] == ["res4"]
        assert agent.outbox.ack("res4", "res4") == 1
        assert agent.outbox.pending() == []
        assert agent.drops.total == 0
    finally:
        agent.close()
