"""The school -> district envelopes (fleet/core/district.py) and the bridge's configuration."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from district.broker import DistrictBroker, acl_text
from fleet.broker.conf import Layout, bridge_conf
from fleet.broker.conf import acl_text as classroom_acl
from fleet.broker.config import BrokerSettings
from fleet.core.district import (
    MAX_PURGE,
    DistrictTopics,
    Kind,
    LiveBody,
    Opened,
    PurgeBody,
    Refused,
    ResultBody,
    Results,
    Tally,
    open_envelope,
    seal,
)
from fleet.core.errors import BrokerError
from fleet.core.signing import SigningKey

RESULT = {
    "result_id": "r1", "room": "room1", "class": "7a", "student": "p-0123456789abcdef",
    "grade_band": "apply", "lesson_id": "line-follower", "score": 0.9, "status": "SUCCEEDED",
    "at": 100.0,
}  # fmt: skip


@pytest.fixture
def key(tmp_path: Path) -> SigningKey:
    return SigningKey.load_or_create(tmp_path / "k.pem")


def _payload(key: SigningKey, school: str = "s1") -> bytes:
    return seal(key, school, Kind.RESULT, Results(results=[ResultBody.model_validate(RESULT)]))


def test_a_sealed_envelope_opens_with_its_schools_key(key: SigningKey) -> None:
    trusted = {key.kid: ("s1", key.public_key)}
    opened = open_envelope("district/v1/s1/up/result", _payload(key), trusted)
    assert isinstance(opened, Opened)
    assert isinstance(opened.body, Results) and opened.body.results[0].class_ == "7a"
    live = seal(key, "s1", Kind.LIVE, LiveBody(room="room1", robots_online=3, robots_known=9,
                                               lessons_running=1, at=5.0))  # fmt: skip
    assert isinstance(open_envelope("district/v1/s1/up/live", live, trusted), Opened)


def test_every_forgery_is_refused(key: SigningKey, tmp_path: Path) -> None:
    other = SigningKey.load_or_create(tmp_path / "other.pem")
    trusted = {key.kid: ("s1", key.public_key), other.kid: ("s2", other.public_key)}

    def reason(topic: str, payload: bytes) -> str:
        got = open_envelope(topic, payload, trusted)
        assert isinstance(got, Refused)
        return got.reason

    assert reason("district/v1/s2/up/result", _payload(key)) == "forged"  # topic's school
    assert reason("district/v1/s1/up/result", _payload(other, "s1")) == "forged"  # s2's key
    assert reason("district/v1/s1/up/live", _payload(key)) == "forged"  # kind differs
    stranger = SigningKey.load_or_create(tmp_path / "stranger.pem")
    assert reason("district/v1/s1/up/result", _payload(stranger)) == "unknown_key"
    altered = json.loads(_payload(key))
    altered["body"]["results"][0]["score"] = 1.0
    assert reason("district/v1/s1/up/result", json.dumps(altered).encode()) == "forged"
    assert reason("district/v1/s1/up/result", b"{not json") == "malformed"
    assert reason("district/v1/s1/up/result", b" " * 300_000) == "malformed"
    assert reason("district/v1/all/up/result", _payload(key)) == "topic"
    future = seal(key, "s1", Kind.RESULT, Results(results=[ResultBody.model_validate(RESULT)]),
                  now=1e12)  # fmt: skip
    assert reason("district/v1/s1/up/result", future) == "future"


def test_a_purge_is_bounded_signed_and_its_schools_own(key: SigningKey, tmp_path: Path) -> None:
    students = [f"p-{n:016x}" for n in range(MAX_PURGE)]
    payload = seal(key, "s1", Kind.PURGE, PurgeBody(students=students))
    other = SigningKey.load_or_create(tmp_path / "other.pem")
    trusted = {key.kid: ("s1", key.public_key), other.kid: ("s2", other.public_key)}
    opened = open_envelope("district/v1/s1/up/purge", payload, trusted)
    assert isinstance(opened, Opened) and isinstance(opened.body, PurgeBody)
    assert opened.envelope.school == "s1" and opened.body.students == students
    with pytest.raises(ValidationError):  # too many for one envelope: the school sends several
        PurgeBody(students=[*students, "p-ffffffffffffffff"])
    with pytest.raises(ValidationError):
        PurgeBody(students=[])
    with pytest.raises(ValidationError):  # pseudonyms only, never a name or a school's own id
        PurgeBody(students=["Wang Xiaoming"])
    with pytest.raises(ValidationError):
        PurgeBody.model_validate({"students": students[:1], "class": "7a"})

    def reason(topic: str, payload: bytes) -> str:
        got = open_envelope(topic, payload, trusted)
        assert isinstance(got, Refused)
        return got.reason

    # s2 cannot purge s1's students: not on s1's topic, not with its own key as s1
    assert reason("district/v1/s1/up/purge", seal(other, "s2", Kind.PURGE, opened.body)) == "forged"
    assert reason("district/v1/s1/up/purge", seal(other, "s1", Kind.PURGE, opened.body)) == "forged"
    assert reason("district/v1/s2/up/purge", payload) == "forged"
    assert reason("district/v1/s1/up/result", payload) == "forged"  # the kind is the topic's
    altered = json.loads(payload)
    altered["body"]["students"] = ["p-1111111111111111"]
    assert reason("district/v1/s1/up/purge", json.dumps(altered).encode()) == "forged"


def test_a_result_has_no_room_for_a_name() -> None:
    with pytest.raises(ValidationError):
        ResultBody.model_validate({**RESULT, "name": "Wang Xiaoming"})
    with pytest.raises(ValidationError):  # the student field holds a pseudonym only
        ResultBody.model_validate({**RESULT, "student": "Wang Xiaoming"})
    with pytest.raises(ValidationError):
        Results(results=[])


def test_a_tally_is_strict() -> None:
    tally = Tally.model_validate_json(
        b'{"since": 1.0, "until": 2.0, "rooms": {"room1": {"20428": 3}}}'
    )
    assert tally.rooms == {"room1": {20428: 3}}
    with pytest.raises(ValidationError):
        Tally.model_validate({"since": 1.0, "until": 2.0, "rooms": {}, "extra": 1})


def test_topics() -> None:
    t = DistrictTopics("s1")
    assert t.up(Kind.RESULT) == "district/v1/s1/up/result"
    assert t.subscriptions == ["district/v1/s1/down/#", "district/v1/all/down/#"]
    assert DistrictTopics.parse_up("district/v1/s1/up/live") == ("s1", Kind.LIVE)
    assert DistrictTopics.parse_up("district/v1/s1/down/live") is None
    assert DistrictTopics.parse_up("district/v1/s1/up/other") is None
    with pytest.raises(ValueError, match="all"):
        DistrictTopics("all")


def test_bridge_section_and_acls(tmp_path: Path) -> None:
    settings = BrokerSettings(school="s1", district_host="district.example", district_port=8884)
    text = bridge_conf(settings, Layout(tmp_path))
    for line in (
        "connection district", "address district.example:8884", "cleansession false",
        "remote_clientid school:s1", "topic district/v1/s1/up/# out 1",
        "topic district/v1/s1/down/# in 1", "topic district/v1/all/down/# in 1",
        f"bridge_certfile {tmp_path}/district/school.crt",
    ):  # fmt: skip
        assert f"\n{line}\n" in text
    assert bridge_conf(BrokerSettings(), Layout(tmp_path)) == ""
    acl = classroom_acl(settings)
    assert "topic write district/v1/s1/up/#" in acl and "district/v1/s2" not in acl
    with pytest.raises(BrokerError, match="--school"):
        BrokerSettings(district_host="district.example")
    district = acl_text(DistrictBroker(("d.example",), schools=("s1", "s2")))
    block = district.split("user school:s1\n")[1].split("\n\n")[0]
    assert block.splitlines() == [
        "topic write district/v1/s1/up/#",
        "topic read district/v1/s1/down/#",
        "topic read district/v1/all/down/#",
    ]
