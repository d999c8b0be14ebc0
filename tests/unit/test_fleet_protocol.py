"""Fleet messages: topics, validation on receipt, signatures, the device outbox, the console store."""

from __future__ import annotations

import base64
import json
import sqlite3
import stat
import time
from pathlib import Path

import pytest

from fleet.agent.outbox import Outbox
from fleet.console.store import MIGRATIONS, Database, require_sqlite
from fleet.core.errors import StoreError
from fleet.core.protocol import (
    MAX_PAYLOAD,
    BundleRef,
    Command,
    DeviceState,
    DropCounter,
    EStop,
    JobDocument,
    JobResult,
    JobStatus,
    Parsed,
    Status,
    Topics,
    decode,
    encode,
)
from fleet.core.signing import SigningKey, load_public_key, public_key_text, verify_job

T = Topics("school", "room1")
SHA = "ab" * 32


def job_doc(key: SigningKey, device: str = "r1", **changes: object) -> JobDocument:
    now = time.time()
    doc = JobDocument(
        job="j1",
        device=device,
        lesson=BundleRef(id="line", sha256=SHA, size=3, inline=base64.b64encode(b"abc").decode()),
        issued=now,
        expires=now + 60,
        kid=key.kid,
    )
    return key.sign(doc.model_copy(update=changes))


def test_topic_tree_matches_the_design() -> None:
    assert T.state("r1") == "roboclass/v1/school/room1/dev/r1/up/state"
    assert T.status("r1", "j1") == "roboclass/v1/school/room1/dev/r1/up/jobs/j1/status"
    assert T.job("r1", "j1") == "roboclass/v1/school/room1/dev/r1/down/jobs/j1"
    assert T.cmd("r1", "identify") == "roboclass/v1/school/room1/dev/r1/down/cmd/identify"
    assert T.estop == "roboclass/v1/school/room1/estop"
    assert T.device_subscriptions("r1") == [
        "roboclass/v1/school/room1/dev/r1/down/#",
        "roboclass/v1/school/room1/estop",
        "roboclass/v1/school/room1/console/state",
    ]
    assert T.parse(T.result("r1", "j9")) == Parsed("result", "r1", "j9")
    assert T.parse(T.cmd("r1", "cancel")) == Parsed("cmd", "r1", name="cancel")
    assert T.parse("roboclass/v1/school/room2/estop") is None
    assert T.parse("roboclass/v1/school/room1/dev/r1/up/jobs/j1") is None
    with pytest.raises(ValueError, match="device id"):
        T.dev("a/+")


def test_valid_messages_round_trip() -> None:
    drops = DropCounter()
    state = DeviceState(device="r1", session="s1", online=True, ts=1.0, kit="sim")
    parsed, msg = decode(T, T.state("r1"), encode(state), drops) or (None, None)
    assert parsed == Parsed("state", "r1")
    assert msg == state
    stop = EStop(active=True, epoch=3, by="ms-li", ts=2.0)
    assert decode(T, T.estop, encode(stop), drops, device="r1") == (Parsed("estop"), stop)
    assert drops.total == 0


@pytest.mark.parametrize(
    ("topic", "payload", "reason"),
    [
        (T.state("r1"), b"{not json", "malformed"),
        (T.state("r1"), b"[]", "malformed"),
        (T.state("r1"), b'{"v":1,"device":"r1"}', "malformed"),
        (T.state("r1"), b"\xff\xfe", "malformed"),
        (T.estop, b'{"v":1,"active":true,"epoch":-1,"by":"x","ts":0}', "malformed"),
        (T.estop, b'{"v":2,"active":true,"epoch":1,"by":"x","ts":0}', "schema_version"),
        (T.estop, b'{"v":1,"active":true,"epoch":1,"by":"x","ts":0,"extra":1}', "malformed"),
        (T.state("r1"), b"{" + b" " * MAX_PAYLOAD + b"}", "oversized"),
        (
            T.state("r1"),
            encode(DeviceState(device="r2", session="s", online=True, ts=0)),
            "wrong_device",
        ),
        (
            T.status("r1", "j1"),
            encode(JobStatus(device="r1", job="j2", status=Status.QUEUED, ts=0)),
            "wrong_job",
        ),
        (
            T.cmd("r1", "cancel"),
            encode(Command(name="identify", device="r1", ts=0, expires=1)),
            "malformed",
        ),
        ("roboclass/v1/school/room1/dev/r1/sideways", b"{}", "unknown_topic"),
    ],
)
def test_bad_payloads_are_dropped_and_counted(topic: str, payload: bytes, reason: str) -> None:
    drops = DropCounter()
    assert decode(T, topic, payload, drops) is None
    assert drops.snapshot() == {reason: 1}


def test_an_agent_ignores_other_devices_topics() -> None:
    drops = DropCounter()
    cmd = Command(name="identify", device="r2", ts=0, expires=1)
    assert decode(T, T.cmd("r2", "identify"), encode(cmd), drops, device="r1") is None
    assert drops.snapshot() == {"wrong_device": 1}


@pytest.mark.parametrize("sent", ["leave_room", "release"])  # release: its old name
def test_leave_room_is_read_by_its_name_and_by_its_old_one(sent: str) -> None:
    drops = DropCounter()
    raw = json.dumps({"v": 1, "name": sent, "device": "r1", "ts": 0, "expires": 1}).encode()
    decoded = decode(T, T.cmd("r1", sent), raw, drops, device="r1")
    assert decoded is not None and drops.total == 0
    parsed, cmd = decoded
    assert parsed.name == sent
    assert isinstance(cmd, Command) and cmd.name == "leave_room"
    assert Command(name=sent, device="r1", ts=0, expires=1).name == "leave_room"  # type: ignore[arg-type]
    # the name in the payload must still be the topic's
    other = json.dumps({"v": 1, "name": sent, "device": "r1", "ts": 0, "expires": 1}).encode()
    assert decode(T, T.cmd("r1", "identify"), other, drops, device="r1") is None
    assert drops.snapshot() == {"malformed": 1}


def test_signed_job_verifies_and_every_tampering_is_rejected(tmp_path: Path) -> None:
    key = SigningKey.load_or_create(tmp_path / "key.pem")
    trusted = {key.kid: key.public_key}
    doc = job_doc(key)
    assert verify_job(doc, trusted, device="r1") is None
    # altered after signing
    evil = doc.model_copy(update={"code": "robot.drive.forward(1)"})
    assert "bad signature" in (verify_job(evil, trusted, device="r1") or "")
    assert verify_job(doc.model_copy(update={"sig": ""}), trusted, device="r1") == (
        "job is not signed"
    )
    assert "for device r1, not r2" in (verify_job(doc, trusted, device="r2") or "")
    expired = job_doc(key, expires=time.time() - 1)
    assert verify_job(expired, trusted, device="r1") == "job expired"
    other = SigningKey.load_or_create(tmp_path / "other.pem")
    assert "unknown key" in (verify_job(job_doc(other), trusted, device="r1") or "")
    # the wire form verifies too
    parsed = JobDocument.model_validate_json(encode(doc))
    assert verify_job(parsed, trusted, device="r1") is None


def test_signing_key_is_private_and_stable(tmp_path: Path) -> None:
    path = tmp_path / "console" / "key.pem"
    key = SigningKey.load_or_create(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = SigningKey.load_or_create(path)
    assert again.kid == key.kid
    text = public_key_text(key.public_key)
    assert load_public_key(text).public_bytes_raw() == key.public_key.public_bytes_raw()


def test_outbox_keeps_results_until_acked(tmp_path: Path) -> None:
    with Outbox(tmp_path / "a.sqlite") as box:
        box.put("r1", "j1", "t/1", b"one")
        box.put("r1", "j1", "t/1", b"again")  # same id: kept once
        box.put("r2", "j2", "t/2", b"two")
        box.set_job("j1", "SUCCEEDED")
        box.set_meta("estop", "4:1")
    with Outbox(tmp_path / "a.sqlite") as box:  # survives a restart
        assert [(p.result_id, p.payload) for p in box.pending()] == [
            ("r1", b"one"),
            ("r2", b"two"),
        ]
        assert box.count() == 2
        assert box.ack("r1")
        assert not box.ack("r1")
        assert [p.result_id for p in box.pending()] == ["r2"]
        assert box.count() == 1
        assert box.job_status("j1") == ("SUCCEEDED", None)
        assert box.get_meta("estop") == "4:1"
    assert box.closed


def test_a_robot_moving_rooms_forgets_what_it_owed_and_the_old_estop_epoch(
    tmp_path: Path,
) -> None:
    with Outbox(tmp_path / "a.sqlite") as box:
        box.put("r1", "j1", "t/1", b"one")
        box.set_job("j1", "SUCCEEDED")
        box.set_meta("estop", "40:0")  # the old room was at epoch 40; the new one counts anew
        box.forget_room()
        assert box.pending() == [] and box.count() == 0
        assert box.job_status("j1") is None
        assert box.get_meta("estop") is None


def result(job: str, result_id: str, device: str = "r1") -> JobResult:
    return JobResult(
        device=device,
        job=job,
        result_id=result_id,
        status=Status.SUCCEEDED,
        result={"status": "passed", "score": 90},
        ts=0,
    )


def test_a_batch_of_results_is_stored_once_each_with_a_flag_per_message(
    db_url: str | Path,
) -> None:
    with Database(db_url) as db:
        jobs = [f"j{n}" for n in range(1000)]  # more than one IN (...) list's worth
        db.jobs.add_many([(job, "r1", "line", SHA, "{}") for job in jobs])
        assert db.results.add_many([result("j0", "x0")]) == [True]
        failed = JobResult(device="r1", job="j3", result_id="x3", status=Status.FAILED,
                           result={"status": "failed", "reason": "fell off"}, ts=0)  # fmt: skip
        batch = [
            result("j0", "x0"),  # re-sent from an outbox: stored before
            result("j1", "x1"),
            result("j1", "x1"),  # twice in one batch
            result("j2", "y2"),
            result("j2", "z2"),  # a second result for one job
            failed,
            *(result(job, f"x{job}") for job in jobs[4:]),
        ]
        flags = db.results.add_many(batch)
        assert flags[:6] == [False, True, False, True, False, True]
        assert all(flags[6:]) and len(flags) == len(batch)
        rows = db.results.list()
        assert len(rows) == len(jobs)
        assert {r.job: r.result_id for r in rows}["j2"] == "y2"
        assert [r.job for r in rows] == jobs  # in the order they came
        assert {r.lesson_id for r in rows} == {"line"}  # from each result's job
        assert rows[1].result == {"status": "passed", "score": 90}
        assert db.jobs.get("j3").status == "FAILED" and db.jobs.get("j3").reason == "fell off"
        assert db.jobs.get("j999").status == "SUCCEEDED"
        assert db.results.add_many(batch) == [False] * len(batch)  # all of it again: nothing new
        late = JobResult(device="r1", job="j1", result_id="late", status=Status.FAILED,
                         result={"status": "failed", "reason": "late"}, ts=0)  # fmt: skip
        assert db.results.add_many([late]) == [False]
        assert db.jobs.get("j1").status == "SUCCEEDED"  # a finished job stays finished


def test_an_sqlite_too_old_for_the_batch_statements_is_refused_with_what_to_do() -> None:
    require_sqlite((3, 33, 0))
    require_sqlite(sqlite3.sqlite_version_info)  # this machine's
    with pytest.raises(
        StoreError, match=r"needs SQLite 3\.33\.0 or newer; this Python has SQLite 3\.31\.1"
    ):
        require_sqlite((3, 31, 1))


def test_store_is_migrated_idempotent_and_final_states_stay(db_url: str | Path) -> None:
    path = db_url
    with Database(path) as db:
        assert db.schema_version == len(MIGRATIONS)
        db.devices.record_state(DeviceState(device="r1", session="s1", online=True, ts=0))
        assert db.rosters.bind("r1", "Li Lei")
        db.jobs.add("j1", "r1", "line", SHA, "{}")
        assert db.jobs.set_status("j1", Status.IN_PROGRESS, None)
        assert not db.jobs.set_status("j1", Status.QUEUED, None)  # late, out of order
        assert db.results.add(result("j1", "x1"))
        assert not db.results.add(result("j1", "x1"))  # re-sent from an outbox
        assert not db.results.add(result("j1", "x2"))  # a second result for one job
        assert db.jobs.set_status("j1", Status.SUCCEEDED, None)
        assert not db.jobs.set_status("j1", Status.FAILED, "late")
        assert db.jobs.pending("r1") == []
        # a stale last will (old session) does not mark the new session offline
        assert not db.devices.record_state(
            DeviceState(device="r1", session="old", online=False, ts=0)
        )
        assert db.devices.list()[0].online
    with Database(path) as db:  # reopening runs no migration twice
        rows = db.results.list(student="Li Lei")
        assert [(r.job, r.score, r.lesson_id) for r in rows] == [("j1", 90.0, "line")]
        assert db.results.list(student="nobody") == []
        assert json.dumps(rows[0].result) == '{"status": "passed", "score": 90}'


def test_teacher_login_and_estop_epochs(db_url: str | Path) -> None:
    with Database(db_url) as db:
        assert not db.accounts.has_teachers()
        db.accounts.add_teacher("ms-li", "correct horse")
        assert db.accounts.login("ms-li", "wrong") is None
        token = db.accounts.login("ms-li", "correct horse")
        assert token is not None
        assert db.accounts.token_user(token) == "ms-li"
        assert db.accounts.token_user("forged") is None
        first = db.estop.set(True, "ms-li")
        second = db.estop.set(False, "ms-li")
        assert (first.epoch, second.epoch) == (1, 2)
        assert db.estop.get().active is False
