"""The district's lesson library: lesson bundles by sha256, signed by the district.

District staff publish a lesson (its bundle, ``roboclass lesson pack``); a
school shares one of its own up (:class:`~fleet.core.districtlib.Submission`,
signed by the school console's key) and it waits for review until staff
approve it into the library or refuse it. Every published lesson is a
:class:`~fleet.core.districtlib.LibraryEntry` the district signs with its
key; schools check that signature and the bundle's sha256 before they
import it (:mod:`fleet.console.api.districtlib`)::

    library = Library(store.connection, key)
    entry = library.publish(pack_bundle("my-lesson"), by="ms-wang")
    library.entries()            # what schools see, newest version of each lesson
    library.bundle(entry.sha256) # the bytes, exactly

The bundles live in PostgreSQL (``library_bundles``, at most
:data:`~fleet.core.districtlib.MAX_LIBRARY_BUNDLE` each), so a backup or a
read replica of the district's store has them too. Domain ``library`` of
:func:`district.migrate.migrate`.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from psycopg.types.json import Jsonb

from district.errors import DistrictError
from fleet.core.districtlib import (
    MAX_LIBRARY_BUNDLE,
    LibraryEntry,
    Submission,
    sign,
    submission_reason,
)
from fleet.core.signing import SigningKey
from rcbase.i18n import Text

__all__ = [
    "LIBRARY_MIGRATIONS",
    "Library",
    "LibraryError",
    "LibraryItem",
    "Review",
    "SubmissionRefused",
    "describe",
]

logger = logging.getLogger(__name__)


class LibraryError(DistrictError, ValueError):
    """A lesson of the library, a school's submission or a challenge is refused; ``text``
    says why and what to do next (en, zh)."""

    def __init__(self, en: str, zh: str) -> None:
        super().__init__(f"{en} / {zh}")
        self.text = Text(en, zh)


#: Most lessons one school may have waiting for review at once.
MAX_WAITING = 20


class SubmissionRefused(LibraryError):
    """A school's submission is not signed by that school's registered key, or is stale."""


Connect = Callable[[], AbstractContextManager[Any]]

LIBRARY_MIGRATIONS: list[list[str]] = [
    [
        "CREATE TABLE library_bundles (sha256 TEXT PRIMARY KEY, data BYTEA NOT NULL)",
        """CREATE TABLE library_lessons (
            sha256 TEXT PRIMARY KEY REFERENCES library_bundles (sha256),
            lesson_id TEXT NOT NULL,
            version INTEGER NOT NULL,
            entry JSONB NOT NULL,
            review TEXT NOT NULL CHECK (review IN ('waiting', 'published', 'refused')),
            origin TEXT NOT NULL,
            note TEXT NOT NULL DEFAULT '',
            submitted DOUBLE PRECISION NOT NULL,
            decided DOUBLE PRECISION,
            decided_by TEXT,
            reason TEXT NOT NULL DEFAULT ''
        )""",
        "CREATE INDEX library_lessons_review ON library_lessons (review, lesson_id, version)",
    ]
]


class Review(StrEnum):
    WAITING = "waiting"
    PUBLISHED = "published"
    REFUSED = "refused"


@dataclass(frozen=True)
class LibraryItem:
    """A lesson in the library or waiting for review, as district staff see it."""

    entry: LibraryEntry
    review: Review
    note: str
    submitted: float
    decided: float | None
    decided_by: str | None
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {
            "entry": self.entry.model_dump(mode="json"),
            "review": self.review.value,
            "note": self.note,
            "submitted": self.submitted,
            "decided": self.decided,
            "decided_by": self.decided_by,
            "reason": self.reason,
        }


def describe(data: bytes, origin: str, now: float | None = None) -> LibraryEntry:
    """The (unsigned) entry for a bundle: it is unpacked with every check of
    :func:`lessons.bundle.unpack_bundle` and validated as a lesson; :class:`LibraryError`
    (in English and Chinese) when it is not one."""
    from lessons import LessonError, load_lesson  # noqa: PLC0415 - only when one comes
    from lessons.bundle import bundle_sha256, unpack_bundle  # noqa: PLC0415

    if not data or len(data) > MAX_LIBRARY_BUNDLE:
        raise LibraryError(
            f"a lesson bundle is 1 byte to {MAX_LIBRARY_BUNDLE} bytes; this is {len(data)}: "
            "pack it with `roboclass lesson pack FOLDER`",
            f"课程包应为 1 到 {MAX_LIBRARY_BUNDLE} 字节，这个是 {len(data)}：请用 "
            "`roboclass lesson pack 文件夹` 打包",
        )
    with tempfile.TemporaryDirectory(prefix="district-lesson-") as folder:
        try:
            lesson = load_lesson(unpack_bundle(data, Path(folder) / "lesson"))
        except LessonError as exc:
            en, _, zh = str(exc).partition(" / ")
            raise LibraryError(
                f"not a lesson RoboClass can run ({en}): check the folder with `roboclass lesson "
                "validate FOLDER` and pack it with `roboclass lesson pack FOLDER`",
                f"不是 RoboClass 能运行的课程（{zh or en}）：请用 `roboclass lesson validate 文件夹` "
                "检查，再用 `roboclass lesson pack 文件夹` 打包",
            ) from exc
    m = lesson.model
    return LibraryEntry(
        sha256=bundle_sha256(data),
        size=len(data),
        lesson_id=m.id,
        version=m.version,
        title={"en": m.title.en[:200], "zh": m.title.zh[:200]},
        summary={"en": m.summary.en[:2000], "zh": m.summary.zh[:2000]},
        band=m.band,
        grades=m.grade_range,
        minutes=m.minutes,
        challenge=m.challenge.model_dump() if m.challenge else None,
        origin=origin,
        published=time.time() if now is None else now,
    )


def _item(row: dict[str, Any]) -> LibraryItem:
    return LibraryItem(
        LibraryEntry.model_validate(row["entry"]),
        Review(row["review"]),
        row["note"],
        row["submitted"],
        row["decided"],
        row["decided_by"],
        row["reason"],
    )


_COLUMNS = "entry, review, note, submitted, decided, decided_by, reason"


class Library:
    """The library in the district's store; ``key`` signs what is published."""

    def __init__(
        self, connect: Connect, key: SigningKey, *, max_waiting: int = MAX_WAITING
    ) -> None:
        self._connect = connect
        self.key = key
        self.max_waiting = max_waiting

    def publish(self, data: bytes, by: str) -> LibraryEntry:
        """Put ``data`` (a lesson bundle) in the library now, signed; the same bytes again
        answer the entry already there (a refused or waiting one is published)."""
        entry = sign(self.key, describe(data, "district"))
        with self._connect() as conn:
            conn.execute(
                "INSERT INTO library_bundles VALUES (%s, %s) ON CONFLICT DO NOTHING",
                (entry.sha256, data),
            )
            row = conn.execute(
                "SELECT entry, review FROM library_lessons WHERE sha256 = %s", (entry.sha256,)
            ).fetchone()
            if row is not None and row["review"] == Review.PUBLISHED:
                return LibraryEntry.model_validate(row["entry"])
            if row is not None:
                return self._decide(conn, entry.sha256, Review.PUBLISHED, by, "")
            conn.execute(
                "INSERT INTO library_lessons VALUES "
                "(%s, %s, %s, %s, 'published', 'district', '', %s, %s, %s, '')",
                (
                    entry.sha256,
                    entry.lesson_id,
                    entry.version,
                    Jsonb(entry.model_dump(mode="json")),
                    entry.published,
                    entry.published,
                    by,
                ),
            )
        logger.info("library: %s published %s (%s)", by, entry.lesson_id, entry.sha256[:12])
        return entry

    def submit(self, sub: Submission, data: bytes, school_key: Any) -> LibraryItem:
        """A school's lesson, waiting for review; :class:`LibraryError` when its signature,
        bytes or time are wrong (``school_key``: the key registered for ``sub.school``)."""
        reason = submission_reason(sub, data, school_key)
        if reason is not None:
            logger.warning("library: submission from %s refused: %s", sub.school, reason)
            en, _, zh = reason.partition(" / ")
            raise SubmissionRefused(en, zh or en)
        entry = describe(data, sub.school)
        with self._connect() as conn:
            waiting = conn.execute(
                "SELECT count(*) AS n FROM library_lessons WHERE origin = %s AND review = "
                "'waiting' AND sha256 <> %s",
                (sub.school, entry.sha256),
            ).fetchone()
            if waiting is not None and waiting["n"] >= self.max_waiting:
                raise LibraryError(
                    f"{sub.school} already has {self.max_waiting} lessons waiting for review: "
                    "wait for the district's staff to decide on them",
                    f"{sub.school} 已有 {self.max_waiting} 个课程在等待审核：请等区里审核完再提交",
                )
            conn.execute(
                "INSERT INTO library_bundles VALUES (%s, %s) ON CONFLICT DO NOTHING",
                (entry.sha256, data),
            )
            conn.execute(
                "INSERT INTO library_lessons (sha256, lesson_id, version, entry, review, origin, "
                "note, submitted) VALUES (%s, %s, %s, %s, 'waiting', %s, %s, %s) "
                "ON CONFLICT (sha256) DO NOTHING",
                (
                    entry.sha256,
                    entry.lesson_id,
                    entry.version,
                    Jsonb(entry.model_dump(mode="json")),
                    sub.school,
                    sub.note,
                    time.time(),
                ),
            )
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM library_lessons WHERE sha256 = %s",  # noqa: S608
                (entry.sha256,),
            ).fetchone()
        logger.info("library: %s shared %s for review", sub.school, entry.lesson_id)
        return _item(row)

    def approve(self, sha256: str, by: str) -> LibraryEntry:
        """Publish a lesson waiting for review (signed now, by the district)."""
        with self._connect() as conn:
            return self._decide(conn, sha256, Review.PUBLISHED, by, "")

    def refuse(self, sha256: str, by: str, reason: str) -> LibraryEntry:
        """Keep a lesson out of the library, saying why (the school sees it)."""
        with self._connect() as conn:
            return self._decide(conn, sha256, Review.REFUSED, by, reason[:500])

    def _decide(self, conn: Any, sha256: str, review: Review, by: str, reason: str) -> LibraryEntry:
        row = conn.execute(
            "SELECT entry FROM library_lessons WHERE sha256 = %s FOR UPDATE", (sha256,)
        ).fetchone()
        if row is None:
            raise LibraryError(
                f"no lesson {sha256[:12]} in the library or waiting for review",
                f"图书馆里没有课程 {sha256[:12]}，待审的也没有",
            )
        now = time.time()
        entry = LibraryEntry.model_validate(row["entry"])
        if review is Review.PUBLISHED:
            entry = sign(self.key, entry.model_copy(update={"published": now}))
        conn.execute(
            "UPDATE library_lessons SET review = %s, entry = %s, decided = %s, decided_by = %s, "
            "reason = %s WHERE sha256 = %s",
            (review.value, Jsonb(entry.model_dump(mode="json")), now, by, reason, sha256),
        )
        logger.info("library: %s %s %s", by, review.value, entry.lesson_id)
        return entry

    def entries(self) -> list[LibraryEntry]:
        """The published lessons (the newest version of each), by band then id: what
        schools browse."""
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT DISTINCT ON (lesson_id) entry FROM library_lessons "
                "WHERE review = 'published' ORDER BY lesson_id, version DESC, decided DESC"
            ).fetchall()
        found = [LibraryEntry.model_validate(r["entry"]) for r in rows]
        order = {"perceive": 0, "apply": 1, "create": 2}
        return sorted(found, key=lambda e: (order[e.band], e.lesson_id))

    def items(self, review: Review | None = None) -> list[LibraryItem]:
        """Every lesson with its review (or those in one state), newest first: the staff's view."""
        clause, args = ("WHERE review = %s", (review.value,)) if review else ("", ())
        with self._connect() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM library_lessons {clause} "  # noqa: S608
                "ORDER BY submitted DESC",
                args,
            ).fetchall()
        return [_item(r) for r in rows]

    def entry(self, sha256: str) -> LibraryEntry | None:
        """A published lesson by its sha256."""
        with self._connect() as conn:
            row = conn.execute(
                "SELECT entry FROM library_lessons WHERE sha256 = %s AND review = 'published'",
                (sha256,),
            ).fetchone()
        return None if row is None else LibraryEntry.model_validate(row["entry"])

    def bundle(self, sha256: str, *, published_only: bool = True) -> bytes | None:
        """A bundle's bytes (published ones only, unless staff look at one for review)."""
        extra = " AND l.review = 'published'" if published_only else ""
        with self._connect() as conn:
            row = conn.execute(
                "SELECT b.data FROM library_bundles b JOIN library_lessons l USING (sha256) "  # noqa: S608
                f"WHERE b.sha256 = %s{extra}",
                (sha256,),
            ).fetchone()
        return None if row is None else bytes(row["data"])
