"""The district's store: PostgreSQL, one store per domain, migrated at start.

::

    with DistrictStore("postgresql://roboclass@127.0.0.1/district") as store:
        store.schools.add("binhai-01", "Binhai No. 1 Primary", public_key_hex)
        store.results.add_many([row, ...])        # one flag each: stored now (True) or before
        store.results.by_school(ResultFilter(lesson="line-follow"))
        store.live.list()

Domains (each with its own version in ``schema_versions``,
:mod:`district.migrate`): ``schools`` (:class:`SchoolStore`), ``results``
(:class:`district.results.ResultStore`), ``live`` (:class:`LiveStore`),
``staff`` (:class:`district.staff.StaffStore`). The district's web side adds
its own domains with the same runner, on :attr:`DistrictStore.db`.
"""

from __future__ import annotations

import time
from typing import Any

from district.db import Db
from district.errors import SchoolError
from district.migrate import migrate
from district.records import LiveCount, School
from district.results import ResultStore
from district.schema import DOMAINS
from district.staff import StaffStore
from fleet.core.errors import FleetError
from fleet.core.signing import key_id, load_public_key, public_key_text
from fleet.core.topics import ID_PATTERN, valid_id
from rcbase.closeable import Closeable

__all__ = ["RESERVED_SCHOOLS", "DistrictStore", "LiveStore", "SchoolStore"]

#: Names that are topic levels of their own (``district/v1/all/down/...``), never a school.
RESERVED_SCHOOLS = frozenset({"all"})


def check_school_id(school: str) -> None:
    """Raise :class:`SchoolError` unless ``school`` can be a school id."""
    if not valid_id(school) or school in RESERVED_SCHOOLS:
        raise SchoolError(
            f"school id {school!r} must match {ID_PATTERN} and not be 'all' / 学校编号 {school!r} "
            "只能用字母、数字、_ . -（最多 64 个），且不能是 all"
        )


class SchoolStore:
    """``schools``, ``school_keys`` and ``rooms``."""

    def __init__(self, db: Db) -> None:
        self._db = db

    def add(self, school: str, name: str, public_key: str) -> School:
        """Register ``school`` with its console's public key (64 hex digits), or add a key to it."""
        check_school_id(school)
        if not name.strip() or len(name) > 200:
            raise SchoolError(
                "give the school a name of 1-200 characters / 学校名称需 1-200 个字符"
            )
        try:
            public = load_public_key(public_key)
        except FleetError as exc:
            raise SchoolError(
                f"{exc} / 公钥不对：请填写学校控制台 `roboclass console key` 打印的 64 位十六进制"
            ) from exc
        kid, text, now = key_id(public), public_key_text(public), time.time()
        with self._db.transaction() as conn:
            conn.execute(
                "INSERT INTO schools (id, name, added) VALUES (%s, %s, %s) "
                "ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name",
                (school, name.strip(), now),
            )
            owner = conn.execute("SELECT school FROM school_keys WHERE kid = %s", (kid,)).fetchone()
            if owner is not None and owner["school"] != school:
                raise SchoolError(
                    f"this key already belongs to school {owner['school']}: every school's "
                    f"console has its own / 这个公钥已属于学校 {owner['school']}"
                )
            conn.execute(
                "INSERT INTO school_keys (kid, school, public_key, added) VALUES (%s, %s, %s, %s) "
                "ON CONFLICT (kid) DO UPDATE SET retired = NULL",
                (kid, school, text, now),
            )
        found = self.get(school)
        if found is None:  # deleted between the two statements
            raise SchoolError(f"school {school} was removed while it was being added")
        return found

    def retire_key(self, school: str, kid: str) -> bool:
        """Stop trusting one key of ``school`` (a console replaced); False if it had none such."""
        with self._db.transaction() as conn:
            cur = conn.execute(
                "UPDATE school_keys SET retired = %s WHERE school = %s AND kid = %s "
                "AND retired IS NULL",
                (time.time(), school, kid),
            )
            return cur.rowcount > 0

    def _list(self, where: str, args: tuple[Any, ...]) -> list[School]:
        rows = self._db.rows(
            "SELECT s.id, s.name, s.added, "  # noqa: S608 - fixed clauses, placeholders only
            "COALESCE(array_agg(DISTINCT k.kid) FILTER (WHERE k.kid IS NOT NULL AND "
            "k.retired IS NULL), '{}') AS kids, "
            "COALESCE(array_agg(DISTINCT r.room) FILTER (WHERE r.room IS NOT NULL), '{}') AS rooms "
            "FROM schools s LEFT JOIN school_keys k ON k.school = s.id "
            f"LEFT JOIN rooms r ON r.school = s.id {where} GROUP BY s.id ORDER BY s.id",
            args,
        )
        return [
            School(r["id"], r["name"], r["added"], sorted(r["kids"]), sorted(r["rooms"]))
            for r in rows
        ]

    def list(self) -> list[School]:
        """Every school, by id."""
        return self._list("", ())

    def get(self, school: str) -> School | None:
        found = self._list("WHERE s.id = %s", (school,))
        return found[0] if found else None

    def trusted_keys(self) -> dict[str, tuple[str, str]]:
        """Every trusted key: key id -> (school, public key hex)."""
        rows = self._db.rows(
            "SELECT kid, school, public_key FROM school_keys WHERE retired IS NULL"
        )
        return {r["kid"]: (r["school"], r["public_key"]) for r in rows}


class LiveStore:
    """``live``: each room's newest counts."""

    def __init__(self, db: Db) -> None:
        self._db = db

    def update(self, counts: list[LiveCount]) -> int:
        """Keep each room's newest counts (older ones than stored are ignored); how many changed."""
        changed = 0
        with self._db.transaction() as conn:
            for c in counts:
                cur = conn.execute(
                    "INSERT INTO live (school, room, robots_online, robots_known, lessons_running, "
                    "at, received) VALUES (%s, %s, %s, %s, %s, %s, %s) "
                    "ON CONFLICT (school, room) DO UPDATE SET robots_online = EXCLUDED.robots_online, "
                    "robots_known = EXCLUDED.robots_known, lessons_running = EXCLUDED.lessons_running, "
                    "at = EXCLUDED.at, received = EXCLUDED.received WHERE live.at < EXCLUDED.at",
                    (c.school, c.room, c.robots_online, c.robots_known, c.lessons_running, c.at,
                     c.received),
                )  # fmt: skip
                changed += cur.rowcount
        return changed

    def list(self, school: str | None = None) -> list[LiveCount]:
        where, args = ("WHERE school = %s", (school,)) if school else ("", ())
        rows = self._db.rows(
            "SELECT school, room, robots_online, robots_known, lessons_running, at, received "  # noqa: S608
            f"FROM live {where} ORDER BY school, room",
            args,
        )
        return [LiveCount(**r) for r in rows]


class DistrictStore(Closeable):
    """The district's PostgreSQL and its stores; every method is thread-safe."""

    def __init__(self, url: str) -> None:
        self.db = Db(url)
        try:
            with self.db.lock:
                for domain, migrations in DOMAINS.items():
                    migrate(self.db.conn, domain, migrations)
        except BaseException:
            self.db.close()
            raise
        self.schools = SchoolStore(self.db)
        self.results = ResultStore(self.db)
        self.live = LiveStore(self.db)
        self.staff = StaffStore(self.db)

    def migrate(self, domain: str, migrations: list[list[str]]) -> None:
        """Bring another part's domain up to date on this database (the district's pages:
        ``library``, ``challenges``); its stores then use :attr:`db`."""
        with self.db.lock:
            migrate(self.db.conn, domain, migrations)

    def _close(self) -> None:
        self.db.close()
