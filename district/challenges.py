"""District challenges: a library lesson with a metric, open for a while, one leaderboard.

District staff start a challenge on a published lesson of the library (its
metric and which way is better come from the lesson's ``challenge:``, or are
given). Schools pull the open challenges over HTTP with the library
(``GET /api/v1/library/challenges``, each a signed
:class:`~fleet.core.districtlib.ChallengeNotice`); a teacher opens one in
their room with the console's own challenge mode. The students' hand-ins go up
as results over the school's link (naming the challenge), and their metric's
values as :class:`~fleet.core.districtlib.ChallengeTries` signed by the
school's console (``POST /api/v1/library/challenges/{id}/tries``: the link's
results carry a score, not a lesson's metric). The leaderboard ranks, across
schools, each student's best handed-in value of the metric while the
challenge was open: one line per student (pseudonymous id, school, class),
never a name; a try sent twice counts once::

    challenges = Challenges(store.connection, key, library)
    notice = challenges.start(entry.sha256, by="ms-wang", hours=48)
    challenges.leaderboard(notice.id)

Domain ``challenges`` of :func:`district.migrate.migrate`.
"""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import asdict, dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from psycopg.types.json import Jsonb

from district.library import Connect, Library, LibraryError, SubmissionRefused
from fleet.core.districtlib import (
    Bilingual,
    ChallengeNotice,
    ChallengeRule,
    ChallengeTries,
    school_reason,
    sign,
)
from fleet.core.signing import SigningKey

__all__ = ["CHALLENGE_MIGRATIONS", "Challenges", "Rank"]

logger = logging.getLogger(__name__)

#: Longest a challenge may stay open (a term).
MAX_HOURS = 24 * 120
#: Most lines a leaderboard answers.
MAX_RANKS = 500

CHALLENGE_MIGRATIONS: list[list[str]] = [
    [
        """CREATE TABLE challenges (
            id TEXT PRIMARY KEY,
            notice JSONB NOT NULL,
            lesson_id TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            metric TEXT NOT NULL,
            better TEXT NOT NULL CHECK (better IN ('lower', 'higher')),
            starts DOUBLE PRECISION NOT NULL,
            ends DOUBLE PRECISION NOT NULL,
            created_by TEXT NOT NULL
        )""",
        "CREATE INDEX challenges_open ON challenges (ends, lesson_id)",
        """CREATE TABLE challenge_tries (
            result_id TEXT NOT NULL,
            challenge TEXT NOT NULL REFERENCES challenges (id),
            school TEXT NOT NULL,
            room TEXT NOT NULL,
            class TEXT NOT NULL,
            student TEXT NOT NULL,
            value DOUBLE PRECISION NOT NULL,
            score DOUBLE PRECISION,
            at DOUBLE PRECISION NOT NULL,
            received DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (challenge, school, result_id)
        )""",
        "CREATE INDEX challenge_tries_student ON challenge_tries (challenge, school, student)",
    ]
]


@dataclass(frozen=True)
class Rank:
    """One student's line on a leaderboard: their best value, when, and how many tries."""

    rank: int
    school: str
    room: str
    classroom: str
    student_id: str
    value: float
    score: float | None
    when: float
    tries: int

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class Challenges:
    """The district's challenges in its store; ``key`` signs what schools are told."""

    def __init__(self, connect: Connect, key: SigningKey, library: Library) -> None:
        self._connect = connect
        self.key = key
        self.library = library

    def start(
        self,
        sha256: str,
        by: str,
        *,
        hours: float = 48.0,
        title: Bilingual | None = None,
        rule: ChallengeRule | None = None,
        now: float | None = None,
    ) -> ChallengeNotice:
        """Open a challenge on a published lesson now, for ``hours``; :class:`LibraryError`
        when the lesson is not published, has no metric, or already has a challenge open."""
        entry = self.library.entry(sha256)
        if entry is None:
            raise LibraryError(
                f"lesson {sha256[:12]} is not published in the library: publish it first",
                f"课程 {sha256[:12]} 不在图书馆里：请先发布",
            )
        rule = rule or entry.challenge
        if rule is None:
            raise LibraryError(
                f"{entry.lesson_id} has no challenge metric: give one (metric, better)",
                f"{entry.lesson_id} 没有挑战指标：请给出指标和比较方向",
            )
        if not 0 < hours <= MAX_HOURS:
            raise LibraryError(
                f"a challenge is open for more than 0 and at most {MAX_HOURS} hours",
                f"挑战赛开放时间应大于 0、最多 {MAX_HOURS} 小时",
            )
        starts = time.time() if now is None else now
        notice = sign(
            self.key,
            ChallengeNotice(
                id=f"c-{secrets.token_hex(6)}",
                title=title or entry.title,
                lesson=entry,
                rule=rule,
                starts=starts,
                ends=starts + hours * 3600,
            ),
        )
        with self._connect() as conn:
            conn.execute("LOCK TABLE challenges IN SHARE ROW EXCLUSIVE MODE")
            clash = conn.execute(
                "SELECT id FROM challenges WHERE lesson_id = %s AND ends > %s AND starts < %s",
                (entry.lesson_id, notice.starts, notice.ends),
            ).fetchone()
            if clash is not None:
                raise LibraryError(
                    f"{entry.lesson_id} already has challenge {clash['id']} open: end it first",
                    f"{entry.lesson_id} 已有挑战赛 {clash['id']} 在进行：请先结束它",
                )
            conn.execute(
                "INSERT INTO challenges VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (
                    notice.id,
                    Jsonb(notice.model_dump(mode="json")),
                    entry.lesson_id,
                    entry.sha256,
                    rule.metric,
                    rule.better,
                    notice.starts,
                    notice.ends,
                    by,
                ),
            )
        logger.info("challenge %s on %s started by %s", notice.id, entry.lesson_id, by)
        return notice

    def end(self, challenge_id: str, by: str, now: float | None = None) -> ChallengeNotice:
        """Close a challenge now (signed again with its new end): its leaderboard stays."""
        t = time.time() if now is None else now
        with self._connect() as conn:
            row = conn.execute(
                "SELECT notice FROM challenges WHERE id = %s FOR UPDATE", (challenge_id,)
            ).fetchone()
            if row is None:
                raise LibraryError(f"no challenge {challenge_id}", f"没有挑战赛 {challenge_id}")
            notice = ChallengeNotice.model_validate(row["notice"])
            if notice.ends > t:
                notice = sign(self.key, notice.model_copy(update={"ends": max(t, notice.starts)}))
                conn.execute(
                    "UPDATE challenges SET notice = %s, ends = %s WHERE id = %s",
                    (Jsonb(notice.model_dump(mode="json")), notice.ends, challenge_id),
                )
        logger.info("challenge %s ended by %s", challenge_id, by)
        return notice

    def get(self, challenge_id: str) -> ChallengeNotice | None:
        with self._connect() as conn:
            row = conn.execute(
                "SELECT notice FROM challenges WHERE id = %s", (challenge_id,)
            ).fetchone()
        return None if row is None else ChallengeNotice.model_validate(row["notice"])

    def notices(
        self, *, open_only: bool = False, now: float | None = None
    ) -> list[ChallengeNotice]:
        """The challenges, newest first (only those open now with ``open_only``)."""
        t = time.time() if now is None else now
        clause, args = ("WHERE starts <= %s AND ends > %s", (t, t)) if open_only else ("", ())
        with self._connect() as conn:
            rows = conn.execute(
                f"SELECT notice FROM challenges {clause} ORDER BY starts DESC",  # noqa: S608
                args,
            ).fetchall()
        return [ChallengeNotice.model_validate(r["notice"]) for r in rows]

    def add_tries(self, tries: ChallengeTries, public: Ed25519PublicKey | None) -> dict[str, int]:
        """Store a school's handed-in results of a challenge once each (by result id); those
        outside the challenge's time are left out. :class:`SubmissionRefused` when the
        school's signature, key or clock is wrong (``public``: the school's registered key)."""
        reason = school_reason(tries, public)
        if reason is not None:
            logger.warning("challenge tries from %s refused: %s", tries.school, reason)
            en, _, zh = reason.partition(" / ")
            raise SubmissionRefused(en, zh or en)
        notice = self.get(tries.challenge)
        if notice is None:
            raise LibraryError(f"no challenge {tries.challenge}", f"没有挑战赛 {tries.challenge}")
        inside = [t for t in tries.tries if notice.starts <= t.at < notice.ends]
        now, stored = time.time(), 0
        with self._connect() as conn:
            for t in inside:
                cur = conn.execute(
                    "INSERT INTO challenge_tries SELECT %s, %s, %s, %s, %s, %s, %s, %s::float8, "
                    "%s, %s WHERE NOT EXISTS (SELECT 1 FROM purged p WHERE p.school = %s AND "
                    "p.student = %s) ON CONFLICT DO NOTHING",  # a student the school deleted: no
                    (t.result_id, notice.id, tries.school, t.room, t.class_, t.student, t.value,
                     t.score, t.at, now, tries.school, t.student),
                )  # fmt: skip
                stored += cur.rowcount
        return {
            "stored": stored,
            "already": len(inside) - stored,
            "outside": len(tries.tries) - len(inside),
        }

    def leaderboard(self, challenge_id: str, limit: int = MAX_RANKS) -> list[Rank]:
        """Each student's best handed-in value while the challenge was open, ranked (ties:
        the earlier hand-in first); one line per student of each school."""
        notice = self.get(challenge_id)
        if notice is None:
            raise LibraryError(f"no challenge {challenge_id}", f"没有挑战赛 {challenge_id}")
        order = "ASC" if notice.rule.better == "lower" else "DESC"
        with self._connect() as conn:
            rows = conn.execute(
                LEADERBOARD_SQL.format(order=order).encode(),
                {"challenge": notice.id, "limit": max(1, min(limit, MAX_RANKS))},
            ).fetchall()
        return [Rank(i + 1, **row) for i, row in enumerate(rows)]


#: Each student's best try (a student is a pseudonym at one school), then the ranking.
LEADERBOARD_SQL = """
WITH best AS (
    SELECT DISTINCT ON (school, student) school, room, class AS classroom,
           student AS student_id, value, score, at AS "when",
           count(*) OVER (PARTITION BY school, student) AS tries
    FROM challenge_tries WHERE challenge = %(challenge)s
    ORDER BY school, student, value {order}, at
)
SELECT school, room, classroom, student_id, value, score, "when", tries FROM best
ORDER BY value {order}, "when"
LIMIT %(limit)s
"""
