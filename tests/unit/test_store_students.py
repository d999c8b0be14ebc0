"""fleet/console/store.py: pseudonymous students, the version-1 upgrade, purging a class,
token expiry and revocation, the audit log."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from fleet.console.store import DEFAULT_ROSTER, MIGRATIONS, Store
from fleet.core.protocol import DeviceState, JobResult, Status

# names nobody would write by chance, so a byte search of the file finds only them
GONE = ("Zhaoxiaoming Qwerty", "王小明同学")
KEPT = "Lileileilei Asdfgh"


def birth(store: Store, device: str) -> None:
    state = DeviceState(device=device, session="s1", online=True, ts=time.time())
    assert store.device_state(state)


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

    with Store(path) as store:
        assert store.schema_version == len(MIGRATIONS) == 3
        r1, r2 = store.devices()
        assert (r1["student"], r1["roster"]) == ("Wang Fang", DEFAULT_ROSTER)
        assert r1["student_id"].startswith("s-")
        assert r2["student"] is None
        rows = {r["result_id"]: r for r in store.results()}
        assert rows["res1"]["student"] == "Wang Fang"
        assert rows["res1"]["student_id"] == r1["student_id"]
        assert rows["res2"]["student"] == "Li Lei"
        assert rows["res3"]["student_id"] is None
        assert [s["name"] for s in store.students()] == ["Li Lei", "Wang Fang"]
        # binding the same name again gives the same pseudonym
        assert store.bind("r2", "Wang Fang")
        assert store.devices()[1]["student_id"] == r1["student_id"]
    # the names are now only in students: devices and results hold the id
    db = sqlite3.connect(path)
    try:
        for table in ("devices", "results"):
            columns = {r[1] for r in db.execute(f"PRAGMA table_info({table})")}
            assert "student" not in columns
            assert "student_id" in columns
        expires = dict(db.execute("SELECT name, expires FROM tokens").fetchall())
    finally:
        db.close()
    assert expires["login"] == now + 12 * 3600  # old logins now expire
    assert expires["cli"] is None  # API tokens do not
    assert {t for t, _, v in every_value(path) if v in ("Wang Fang", "Li Lei")} == {"students"}


def test_results_belong_to_the_student_the_job_was_pushed_for(tmp_path: Path) -> None:
    with Store(tmp_path / "console.sqlite") as store:
        birth(store, "r1")
        assert not store.bind("nope", "Wang Fang")  # no such robot: no student made either
        assert store.students() == []
        store.bind("r1", "Wang Fang", "7-2")
        store.add_job("j1", "r1", "line-follower", "0" * 64, "{}")
        store.bind("r1", "Li Lei", "7-2")  # the next pupil sits down before the result comes
        store.add_job("j2", "r1", "line-follower", "0" * 64, "{}")
        store.add_results([result("r1", "j1"), result("r1", "j2")])
        names = [r["student"] for r in store.results()]
        assert names == ["Wang Fang", "Li Lei"]
        assert [r["student"] for r in store.results(roster="7-2", student="Li Lei")] == ["Li Lei"]
        wang = store.students("7-2")[1]
        assert (wang["name"], wang["results"], wang["devices"]) == ("Wang Fang", 1, [])
        assert [r["job"] for r in store.results(student_id=wang["id"])] == ["j1"]


def test_purging_a_class_leaves_nothing_of_it_in_the_file(tmp_path: Path) -> None:
    path = tmp_path / "console.sqlite"
    with Store(path) as store:
        for device in ("r1", "r2", "r3"):
            birth(store, device)
        store.bind("r1", GONE[0], "7-2")
        store.bind("r2", GONE[1], "7-2")
        store.bind("r3", KEPT, "7-3")
        store.add_jobs([(f"j{n}", f"r{n}", "line-follower", "0" * 64, "{}") for n in (1, 2, 3)])
        store.add_results([result("r1", "j1"), result("r2", "j2"), result("r3", "j3")])
        gone_ids = {s["id"] for s in store.students("7-2")}
        assert len(gone_ids) == 2
        store.audit("ms-li", "push", lesson_id="line-follower")
        everything = file_bytes(path)
        for name in (*GONE, KEPT):  # the byte search does find names that are there
            assert name.encode() in everything, name

        purged = store.purge_roster("7-2")

        assert purged == {
            "roster": "7-2",
            "students": 2,
            "results": 2,
            "jobs": 2,
            "devices": ["r1", "r2"],
        }
        assert [d["student"] for d in store.devices()] == [None, None, KEPT]
        assert [r["student"] for r in store.results()] == [KEPT]
        assert [j["job"] for j in store.jobs()] == ["j3"]
        assert store.rosters() == [{"roster": "7-3", "students": 1, "results": 1}]
    # every cell of every table, read afresh: no name, no pseudonym of the class
    for table, column, value in every_value(path):
        text = str(value)
        assert not any(name in text for name in GONE), (table, column)
        assert not any(sid in text for sid in gone_ids), (table, column)
    # and no deleted text left in free pages or the write-ahead log
    everything = file_bytes(path)
    for name in GONE:
        assert name.encode() not in everything, name
    for sid in gone_ids:
        assert sid.encode() not in everything, sid
    assert KEPT.encode() in everything


def test_login_tokens_expire_and_can_be_revoked(tmp_path: Path) -> None:
    with Store(tmp_path / "console.sqlite") as store:
        store.add_teacher("ms-li", "a long secret")
        assert store.login("ms-li", "wrong") is None
        token = store.login("ms-li", "a long secret", ttl_s=3600)
        assert token is not None
        assert store.token_user(token) == "ms-li"
        stale = store.login("ms-li", "a long secret", ttl_s=0.0)
        assert stale is not None
        assert store.token_user(stale) is None  # expired the moment it was made
        forever = store.new_token("ms-li", "cli")
        assert store.token_user(forever) == "ms-li"
        assert store.revoke_token(token)
        assert store.token_user(token) is None
        assert not store.revoke_token(token)
        assert store.token_user(forever) == "ms-li"  # revoking one token leaves the others


def test_audit_log_is_newest_first_and_filters_by_action(tmp_path: Path) -> None:
    with Store(tmp_path / "console.sqlite") as store:
        store.audit("ms-li", "push", lesson_id="line-follower", devices=["r1"])
        store.audit("ms-li", "stop", epoch=1)
        store.audit("mr-wu", "release", epoch=2)
        log = store.audit_log()
        assert [(e["who"], e["action"]) for e in log] == [
            ("mr-wu", "release"),
            ("ms-li", "stop"),
            ("ms-li", "push"),
        ]
        assert log[2]["detail"] == {"lesson_id": "line-follower", "devices": ["r1"]}
        assert [e["action"] for e in store.audit_log(action="stop")] == ["stop"]
        assert len(store.audit_log(limit=1)) == 1
