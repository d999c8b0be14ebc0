"""The district's store on a real PostgreSQL: migrations per domain, schools, results once."""

from __future__ import annotations

import psycopg
import pytest

from district.challenges import CHALLENGE_MIGRATIONS
from district.errors import SchemaTooNew, SchoolError, StaffError
from district.migrate import migrate, version
from district.records import LiveCount, ResultFilter, ResultRow
from district.store import DistrictStore
from fleet.core.signing import SigningKey, public_key_text
from tests.postgres import TempPostgres, postgres  # noqa: F401 - the session fixture

pytestmark = pytest.mark.integration


def _key_hex(tmp_path_factory: pytest.TempPathFactory) -> str:
    key = SigningKey.load_or_create(tmp_path_factory.mktemp("k") / "signing-key.pem")
    return public_key_text(key.public_key)


def _row(n: int, school: str = "s1", **kw: object) -> ResultRow:
    values: dict[str, object] = {
        "result_id": f"r{n}", "school": school, "room": "room1", "class_": "7a",
        "student": f"p-{n % 3:016x}", "grade_band": "apply", "lesson_id": "line-follow",
        "score": float(n), "status": "SUCCEEDED", "at": 1000.0 + n,
    }  # fmt: skip
    values.update(kw)
    return ResultRow(**values)  # type: ignore[arg-type]


def test_migrate_keeps_a_version_per_domain(postgres: TempPostgres) -> None:  # noqa: F811
    url = postgres.fresh_database()
    with psycopg.connect(url, autocommit=True) as conn:
        migrate(conn, "a", [["CREATE TABLE a1 (x INT)"]])
        migrate(conn, "b", [["CREATE TABLE b1 (x INT)"], ["CREATE TABLE b2 (x TEXT)"]])
        migrate(conn, "a", [["CREATE TABLE a1 (x INT)"], ["ALTER TABLE a1 ADD COLUMN y INT"]])
        migrate(conn, "a", [["CREATE TABLE a1 (x INT)"], ["ALTER TABLE a1 ADD COLUMN y INT"]])
        assert (version(conn, "a"), version(conn, "b"), version(conn, "c")) == (2, 2, 0)
        conn.execute("INSERT INTO a1 (x, y) VALUES (1, 2)")
        with pytest.raises(SchemaTooNew, match="newer"):
            migrate(conn, "b", [["CREATE TABLE b1 (x INT)"]])
        with pytest.raises(psycopg.errors.UndefinedTable):  # a failed step leaves no version
            migrate(conn, "c", [["CREATE TABLE c1 (x INT)", "ALTER TABLE nowhere ADD y INT"]])
        assert version(conn, "c") == 0
        assert conn.execute("SELECT to_regclass('c1')").fetchone() == (None,)


def test_schools_results_once_and_progress(
    postgres: TempPostgres,  # noqa: F811
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    with DistrictStore(postgres.fresh_database()) as store:
        k1, k2 = _key_hex(tmp_path_factory), _key_hex(tmp_path_factory)
        school = store.schools.add("s1", "School One", k1)
        store.schools.add("s2", "School Two", k2)
        assert school.name == "School One" and len(school.kids) == 1
        with pytest.raises(SchoolError, match="already belongs"):
            store.schools.add("s3", "Three", k1)
        with pytest.raises(SchoolError, match="all"):
            store.schools.add("all", "Everyone", k1)
        with pytest.raises(SchoolError, match="64 hex"):
            store.schools.add("s4", "Four", "not a key")
        assert store.schools.trusted_keys()[school.kids[0]] == ("s1", k1)
        assert store.schools.retire_key("s1", school.kids[0])
        assert school.kids[0] not in store.schools.trusted_keys()
        assert not store.schools.retire_key("s1", school.kids[0])
        store.schools.add("s1", "School One", k1)  # registered again: trusted again
        assert school.kids[0] in store.schools.trusted_keys()

        rows = [_row(n) for n in range(10)] + [_row(n, "s2", class_="8b") for n in range(10, 14)]
        assert store.results.add_many(rows) == [True] * 14
        again = store.results.add_many([_row(3), _row(20), _row(20)])
        assert again == [False, True, False]
        assert store.results.count() == 15
        assert store.schools.get("s1").rooms == ["room1"]  # type: ignore[union-attr]

        by_school = {p.school: p for p in store.results.by_school()}
        assert by_school["s1"].results == 11 and by_school["s1"].students == 3
        assert by_school["s2"].results == 4
        classes = store.results.by_class(ResultFilter(school="s2"))
        assert [(c.class_, c.results) for c in classes] == [("8b", 4)]
        assert classes[0].to_json()["class"] == "8b"
        listed = store.results.list(ResultFilter(school="s1", lesson="line-follow"), limit=5)
        assert len(listed) == 5 and listed[0].to_json()["class"] == "7a"
        assert "name" not in listed[0].to_json()
        assert store.results.by_lesson()[0]["schools"] == 2

        assert store.live.update([LiveCount("s1", "room1", 3, 40, 2, 10.0, 11.0)]) == 1
        assert store.live.update([LiveCount("s1", "room1", 9, 40, 9, 5.0, 12.0)]) == 0  # older
        assert store.live.list()[0].robots_online == 3

        store.migrate("library", [["CREATE TABLE library_test (sha256 TEXT PRIMARY KEY)"]])
        store.migrate("library", [["CREATE TABLE library_test (sha256 TEXT PRIMARY KEY)"]])
        assert store.db.rows("SELECT version FROM schema_versions WHERE domain = 'library'") == [
            {"version": 1}
        ]


def test_a_purge_deletes_one_schools_students_for_good(
    postgres: TempPostgres,  # noqa: F811
) -> None:
    with DistrictStore(postgres.fresh_database()) as store:
        store.migrate("challenges", CHALLENGE_MIGRATIONS)
        # s1 and s2 each have students p-...0, p-...1, p-...2 (the same pseudonyms, by chance)
        rows = [_row(n) for n in range(6)] + [_row(n, "s2") for n in range(6, 12)]
        assert all(store.results.add_many(rows))
        store.db.conn.execute(
            "INSERT INTO challenges VALUES ('c1', '{}', 'line-follow', 'x', 'time', 'lower', "
            "0, 1e12, 'ms-wang')"
        )
        for school, student in (("s1", 0), ("s1", 1), ("s2", 0)):
            store.db.conn.execute(
                "INSERT INTO challenge_tries VALUES (%s, 'c1', %s, 'room1', '7a', %s, 1.0, NULL, "
                "5.0, 6.0)",
                (f"t-{school}-{student}", school, f"p-{student:016x}"),
            )
        gone = f"p-{0:016x}"
        assert store.results.purge("s1", [gone, gone]) == (2, 1)  # r0 and r3, one try
        left = {(r.school, r.student) for r in store.results.list()}
        assert ("s1", gone) not in left
        assert ("s2", gone) in left  # another school's student is not touched
        assert store.results.count(ResultFilter(school="s1")) == 4
        assert store.results.count(ResultFilter(school="s2")) == 6
        tries = store.db.rows("SELECT school, student FROM challenge_tries ORDER BY 1, 2")
        assert [(t["school"], t["student"]) for t in tries] == [
            ("s1", f"p-{1:016x}"),
            ("s2", gone),
        ]
        # a late resend of a purged student's result is not stored; others' still are
        assert store.results.add_many([_row(0), _row(30), _row(31)]) == [False, False, True]
        assert store.results.count(ResultFilter(school="s1")) == 5
        assert store.results.purged("s1", [gone, f"p-{1:016x}"]) == {gone}
        assert store.results.purged("s2", [gone]) == set()
        assert store.results.purge("s1", [gone]) == (0, 0)  # twice: nothing more to do


def test_staff_login(postgres: TempPostgres) -> None:  # noqa: F811
    with DistrictStore(postgres.fresh_database()) as store:
        assert not store.staff.any()
        with pytest.raises(StaffError):
            store.staff.add("ms-wang", "short")
        store.staff.add("ms-wang", "a long secret")
        assert store.staff.login("ms-wang", "wrong secret!") is None
        assert store.staff.login("nobody", "a long secret") is None
        token = store.staff.login("ms-wang", "a long secret")
        assert token is not None and store.staff.token_user(token) == "ms-wang"
        assert store.staff.add("ms-wang", "another long secret") == 1  # logged out everywhere
        assert store.staff.token_user(token) is None
