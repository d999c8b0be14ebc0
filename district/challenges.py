"""District challenges: a library lesson with a metric, open for a while, one leaderboard.

District staff start a challenge on a published lesson of the library (its
metric and which way is better come from the lesson's ``challenge:``, or are
given). Schools pull the open challenges over HTTP with the library
(``GET /api/v1/library/challenges``, each a signed
:class:`~fleet.core.districtlib.ChallengeNotice`); a teacher opens one in
their room with the console's own challenge mode, and the students' hand-ins
come up as results over the school's link. The leaderboard ranks, across
schools, each student's best handed-in value of the metric while the
challenge was open: one line per student (pseudonymous id, school, class),
never a name::

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

from psycopg.types.json import Jsonb

from district.errors import LibraryError
from district.library import Connect, Library
from fleet.core.districtlib import Bilingual, ChallengeNotice, ChallengeRule, sign
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

    def start(  # noqa: PLR0913 - what a challenge is, each said once
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

    def notices(self, *, open_only: bool = False, now: float | None = None) -> list[ChallengeNotice]:
        """The challenges, newest first (only those open now with ``open_only``)."""
        t = time.time() if now is None else now
        clause, args = ("WHERE starts <= %s AND ends > %s", (t, t)) if open_only else ("", ())
        with self._connect() as conn:
            rows = conn.execute(
                f"SELECT notice FROM challenges {clause} ORDER BY starts DESC",  # noqa: S608
                args,
            ).fetchall()
        return [ChallengeNotice.model_validate(r["notice"]) for r in rows]

    def leaderboard(self, challenge_id: str, limit: int = MAX_RANKS) -> list[Rank]:
        """Each student's best handed-in value of the metric while the challenge was open,
        ranked (ties: the earlier hand-in first); one line per student and school."""
        notice = self.get(challenge_id)
        if notice is None:
            raise LibraryError(f"no challenge {challenge_id}", f"没有挑战赛 {challenge_id}")
        order = "ASC" if notice.rule.better == "lower" else "DESC"
        query = LEADERBOARD_SQL.format(order=order)
        with self._connect() as conn:
            rows = conn.execute(
                query,
                {
                    "challenge": notice.id,
                    "lesson": notice.lesson.lesson_id,
                    "metric": notice.rule.metric,
                    "starts": notice.starts,
                    "ends": notice.ends,
                    "limit": max(1, min(limit, MAX_RANKS)),
                },
            ).fetchall()
        return [Rank(i + 1, **row) for i, row in enumerate(rows)]


#: A student's best value among the challenge's hand-ins: those ingested under the
#: challenge's id, or (a school that did not name it) the lesson's hand-ins while it was open.
LEADERBOARD_SQL = """
WITH tries AS (
    SELECT school, room, class_id, student_id, score, issued,
           (metrics ->> %(metric)s)::double precision AS value
    FROM results
    WHERE handin AND student_id IS NOT NULL AND status = 'passed'
      AND jsonb_typeof(metrics -> %(metric)s) = 'number'
      AND (challenge = %(challenge)s
           OR (challenge IS NULL AND lesson_id = %(lesson)s
               AND issued >= %(starts)s AND issued < %(ends)s))
), best AS (
    SELECT DISTINCT ON (school, student_id) school, room, class_id, student_id, value, score,
           issued, count(*) OVER (PARTITION BY school, student_id) AS tries
    FROM tries
    ORDER BY school, student_id, value {order}, issued
)
SELECT school, room, class_id, student_id, value, score, issued, tries FROM best
ORDER BY value {order}, issued
LIMIT %(limit)s
"""
