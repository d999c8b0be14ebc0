"""fleet/console/store/: pseudonymous students, the version-1 upgrade, purging a class,
token expiry and revocation, the audit log."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from fleet.console.store import (
    DEFAULT_ROSTER,
    MIGRATIONS,
    AuditAction,
    Database,
    Device,
    JobState,
    ResultFilter,
)
from fleet.core.protocol import DeviceState, JobResult, Status

# names nobody would write by chance, so a byte search of the file finds only them
GONE = ("Zhaoxiaoming Qwerty", "王小明同学")
KEPT = "Lileileilei Asdfgh"


def birth(db: Database, device: str) -> None:
    state = DeviceState(device=device, session="s1", online=True, ts=time.time())
    assert db.devices.record_state(state)


def result(device: str, job: str, score: float = 80) -> JobResult:
    return JobResult(
        device=device,
        job=job,
        result_id=f"res-{job}",
        status=Status.SUCCEEDED,
        result={"status": "passed", "score": score},
        ts=time.time(),
    )


def every_value(path: Path) -> list[tuple[str, str, Any]]:
    """(table, column, value) for every cell of every table, read with plain sqlite3."""
    db = sqlite3.connect(path)
    try:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        cells = []
        for table in tables:
            cursor = db.execute(f'SELECT * FROM "{table}"')
            columns = [d[0] for d in cursor.description]
            for row in cursor.fetchall():
                cells.extend((table, c, v) for c, v in zip(columns, row, strict=True))
        return cells
    finally:
        db.close()


def every_stored_value(store: str | Path) -> list[tuple[str, str, Any]]:
    """(table, column, value) for every cell of every table, read through a new connection
    on either engine."""
    with Database(store) as db:
        if db.engine == "sqlite":
            listed = "SELECT name FROM sqlite_master WHERE type = 'table'"
        else:
            listed = (
                "SELECT table_name AS name FROM information_schema.tables "
                "WHERE table_schema = 'public'"
            )
        cells = []
        for (table,) in db._connection.rows(listed):
            for row in db._connection.rows(f'SELECT * FROM "{table}"'):
                cells.extend((table, c, row[c]) for c in row.keys())  # noqa: SIM118 - a Row
        return cells


def file_bytes(path: Path) -> bytes:
    """The database and its WAL and shared-memory files, as they are on disk."""
    return b"".join(
        p.read_bytes() for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()
    )


def test_a_version_1_database_upgrades_with_names_moved_into_students(tmp_path: Path) -> None:
    path = tmp_path / "console.sqlite"
    old = sqlite3.connect(path)
    for statement in MIGRATIONS[0]:
        old.execute(statement)
    old.execute("PRAGMA user_version = 1")
    now = time.time()
    old.execute(
        "INSERT INTO devices (device, online, student, first_seen, last_seen) "
        "VALUES ('r1', 0, 'Wang Fang', ?, ?), ('r2', 0, NULL, ?, ?)",
        (now, now, now, now),
    )
    old.execute(
        "INSERT INTO jobs VALUES ('j1', 'r1', 'line-follower', ?, 'SUCCEEDED', NULL, '{}', ?, ?)",
        ("0" * 64, now, now),
    )
    old.executemany(
        "INSERT INTO results VALUES (?, ?, ?, ?, 'line-follower', 'SUCCEEDED', 90, '{}', ?)",
        [
            ("res1", "j1", "r1", "Wang Fang", now),
            ("res2", "j2", "r2", "Li Lei", now + 1),  # a student no robot is bound to any more
            ("res3", "j3", "r2", None, now + 2),
        ],
    )
    old.execute(
        "INSERT INTO tokens VALUES ('h-login', 'ms-li', 'login', ?), ('h-cli', 'ms-li', 'cli', ?)",
        (now, now),
    )
    old.commit()
    old.close()

    with Database(path) as db:
        assert db.schema_version == len(MIGRATIONS) == 5
        r1, r2 = db.devices.list()
        assert (r1.student, r1.roster) == ("Wang Fang", DEFAULT_ROSTER)
        assert r1.student_id.startswith("s-")
        assert r2.student is None
        rows = {r.result_id: r for r in db.results.list()}
        assert rows["res1"].student == "Wang Fang"
        assert rows["res1"].student_id == r1.student_id
        assert rows["res2"].student == "Li Lei"
        assert rows["res3"].student_id is None
        assert [s.name for s in db.rosters.students()] == ["Li Lei", "Wang Fang"]
        # binding the same name again gives the same pseudonym
        assert db.rosters.bind("r2", "Wang Fang")
        assert db.devices.list()[1].student_id == r1.student_id
    # the names are now only in students: devices and results hold the id
    raw = sqlite3.connect(path)
    try:
        for table in ("devices", "results"):
            columns = {r[1] for r in raw.execute(f"PRAGMA table_info({table})")}
            assert "student" not in columns
            assert "student_id" in columns
        expires = dict(raw.execute("SELECT name, expires FROM tokens").fetchall())
    finally:
        raw.close()
    assert expires["login"] == now + 12 * 3600  # old logins now expire
    assert expires["cli"] is None  # API tokens do not
    assert {t for t, _, v in every_value(path) if v in ("Wang Fang", "Li Lei")} == {"students"}


def test_results_belong_to_the_student_the_job_was_pushed_for(db_url: str | Path) -> None:
    with Database(db_url) as db:
        birth(db, "r1")
        assert not db.rosters.bind("nope", "Wang Fang")  # no such robot: no student made either
        assert db.rosters.students() == []
        db.rosters.bind("r1", "Wang Fang", "7-2")
        db.jobs.add("j1", "r1", "line-follower", "0" * 64, "{}")
        db.rosters.bind("r1", "Li Lei", "7-2")  # the next pupil sits down before the result comes
        db.jobs.add("j2", "r1", "line-follower", "0" * 64, "{}")
        db.results.add_many([result("r1", "j1"), result("r1", "j2")])
        names = [r.student for r in db.results.list()]
        assert names == ["Wang Fang", "Li Lei"]
        assert [r.student for r in db.results.list(roster="7-2", student="Li Lei")] == ["Li Lei"]
        wang = db.rosters.students("7-2")[1]
        assert (wang.name, wang.results, wang.devices) == ("Wang Fang", 1, [])
        assert [r.job for r in db.results.list(student_id=wang.id)] == ["j1"]


def test_purging_a_class_leaves_nothing_of_it_in_the_file(db_url: str | Path) -> None:
    with Database(db_url) as db:
        for device in ("r1", "r2", "r3"):
            birth(db, device)
        db.rosters.bind("r1", GONE[0], "7-2")
        db.rosters.bind("r2", GONE[1], "7-2")
        db.rosters.bind("r3", KEPT, "7-3")
        db.jobs.add_many([(f"j{n}", f"r{n}", "line-follower", "0" * 64, "{}") for n in (1, 2, 3)])
        db.results.add_many([result("r1", "j1"), result("r2", "j2"), result("r3", "j3")])
        gone_ids = {s.id for s in db.rosters.students("7-2")}
        assert len(gone_ids) == 2
        db.audit.add("ms-li", "push", lesson_id="line-follower")
        if db.path is not None:
            everything = file_bytes(db.path)
            for name in (*GONE, KEPT):  # the byte search does find names that are there
                assert name.encode() in everything, name
        assert {v for _, _, v in every_stored_value(db_url)} >= {*GONE, KEPT, *gone_ids}

        purged = db.rosters.purge("7-2")

        assert purged.to_json() == {
            "roster": "7-2",
            "students": 2,
            "results": 2,
            "jobs": 2,
            "devices": ["r1", "r2"],
        }
        assert [d.student for d in db.devices.list()] == [None, None, KEPT]
        assert [r.student for r in db.results.list()] == [KEPT]
        assert [j.job for j in db.jobs.list()] == ["j3"]
        assert [r.to_json() for r in db.rosters.list()] == [
            {"roster": "7-3", "students": 1, "results": 1}
        ]
    # every cell of every table, read afresh: no name, no pseudonym of the class
    cells = every_stored_value(db_url)
    assert KEPT in {v for _, _, v in cells}
    for table, column, value in cells:
        text = str(value)
        assert not any(name in text for name in GONE), (table, column)
        assert not any(sid in text for sid in gone_ids), (table, column)
    if not isinstance(db_url, Path):
        return  # PostgreSQL's files are the server's (docs/security.md)
    for table, column, value in every_value(db_url):  # and with plain sqlite3
        assert not any(name in str(value) for name in GONE), (table, column)
    # and no deleted text left in free pages or the write-ahead log
    everything = file_bytes(db_url)
    for name in GONE:
        assert name.encode() not in everything, name
    for sid in gone_ids:
        assert sid.encode() not in everything, sid
    assert KEPT.encode() in everything


def test_known_says_which_ids_are_students_here(db_url: str | Path) -> None:
    """What a robot back on is checked against: ids of a purged class, or never ours, are not."""
    with Database(db_url) as db:
        gone = db.rosters.add_student(GONE[0], "7-2")
        kept = db.rosters.add_student(KEPT, "7-3")
        strangers = [f"s-{n:016x}" for n in range(600)]  # more than one statement's IN list
        assert db.rosters.known([*strangers, gone, kept]) == {gone, kept}
        db.rosters.purge("7-2")
        assert db.rosters.known([gone, kept, *strangers]) == {kept}
        assert db.rosters.known([]) == set()


def test_login_tokens_expire_and_can_be_revoked(db_url: str | Path) -> None:
    with Database(db_url) as db:
        db.accounts.add_teacher("ms-li", "a long secret")
        assert db.accounts.login("ms-li", "wrong") is None
        token = db.accounts.login("ms-li", "a long secret", ttl_s=3600)
        assert token is not None
        assert db.accounts.token_user(token) == "ms-li"
        stale = db.accounts.login("ms-li", "a long secret", ttl_s=0.0)
        assert stale is not None
        assert db.accounts.token_user(stale) is None  # expired the moment it was made
        forever = db.accounts.new_token("ms-li", "cli")
        assert db.accounts.token_user(forever) == "ms-li"
        assert db.accounts.revoke_token(token)
        assert db.accounts.token_user(token) is None
        assert not db.accounts.revoke_token(token)
        assert db.accounts.token_user(forever) == "ms-li"  # revoking one token leaves the others


def test_audit_log_is_newest_first_and_filters_by_action(db_url: str | Path) -> None:
    with Database(db_url) as db:
        db.audit.add("ms-li", "push", lesson_id="line-follower", devices=["r1"])
        db.audit.add("ms-li", "stop", epoch=1)
        db.audit.add("mr-wu", "release", epoch=2)
        log = db.audit.list()
        assert [(e.who, e.action) for e in log] == [
            ("mr-wu", "release"),
            ("ms-li", "stop"),
            ("ms-li", "push"),
        ]
        assert log[2].detail == {"lesson_id": "line-follower", "devices": ["r1"]}
        assert [e.action for e in db.audit.list(action="stop")] == ["stop"]
        assert len(db.audit.list(limit=1)) == 1


def test_each_domain_answers_typed_records_that_convert_to_the_api_json(
    db_url: str | Path,
) -> None:
    with Database(db_url) as db:
        birth(db, "r1")
        birth(db, "r2")
        gone = DeviceState(device="r2", session="s1", online=False, ts=time.time())
        assert db.devices.record_state(gone)
        assert [d.device for d in db.devices.list(online_only=True)] == ["r1"]
        assert db.devices.ids(online_only=True) == ["r1"]
        assert db.devices.get("nope") is None
        device = db.devices.get("r1")
        assert isinstance(device, Device) and device.online is True
        assert list(device.to_json()) == [
            "device", "session", "online", "kit", "backend", "battery", "estopped", "job",
            "preflight", "versions", "student_id", "first_seen", "last_seen", "student", "roster",
        ]  # fmt: skip
        db.jobs.add("j1", "r1", "line-follower", "0" * 64, "{}")
        [job] = db.jobs.list()
        assert job.status is JobState.PENDING
        assert [p.job for p in db.jobs.pending("r1")] == ["j1"]
        assert (db.jobs.count(JobState.PENDING), db.jobs.count(JobState.IN_PROGRESS)) == (1, 0)
        assert db.jobs.set_status("j1", Status.IN_PROGRESS, None)
        assert (db.jobs.count(JobState.PENDING), db.jobs.count(JobState.IN_PROGRESS)) == (0, 1)
        stored = db.jobs.get("j1")
        assert stored is not None and stored.status is JobState.IN_PROGRESS and stored.doc == "{}"
        assert db.results.add(result("r1", "j1"))
        [found] = db.results.matching(ResultFilter(device="r1", lesson="line-follower"))
        assert found.status is Status.SUCCEEDED and found.result["score"] == 80
        assert db.results.matching(ResultFilter(device="r2")) == []
        received = found.received
        assert db.results.list(since=received, until=received + 1) == [found]
        assert db.results.list(until=received) == []  # before: not at
        assert not db.rosters.exists("7-2")
        db.rosters.bind("r1", "Wang Fang", "7-2")
        assert db.rosters.exists("7-2")
        state = db.estop.set(True, "ms-li")
        assert state == db.estop.get()
        assert state.to_json() == {"active": True, "epoch": 1, "by": "ms-li", "ts": state.ts}
        with pytest.raises(ValueError, match="not-an-action"):
            db.audit.add("ms-li", "not-an-action")
        db.audit.add("ms-li", AuditAction.STOP, epoch=1)
        assert [e.action for e in db.audit.list()] == ["stop"]
    assert db.closed
