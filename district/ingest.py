"""The district's MQTT side: check each school's envelope, store its results once, in batches.

::

    with Ingest(store, "district.example", 8883, tls=context) as ingest:
        ingest.wait_connected(10)
        ...
        ingest.counts()    # {'received': ..., 'stored': ..., 'duplicate': ..., 'forged': ...,
                           #  'purged': ..., 'after_purge': ...}

The network thread subscribes to ``district/v1/+/up/#`` on a persistent
session (the broker queues for the district while it restarts), checks each
envelope (:func:`fleet.core.district.open_envelope`: the topic's school is
the envelope's, the key is one registered for that school, the signature
holds) and queues what passes. A forged or malformed message is dropped,
counted and logged. A writer thread stores what came in batches, one
transaction each, idempotently by result id, and only then acknowledges
the batch's messages (QoS 1, :meth:`fleet.core.link.Link.ack`): what the
district had not stored when it stopped, its broker sends again. A batch the
database refuses (PostgreSQL down) is kept and tried again, never dropped.
Every :data:`TALLY_EVERY_S` each school that sent results is told how many
the district holds per day (:class:`fleet.core.district.Tally`); a school
that holds more on a day sends that day again (a queue lost anywhere on the
way, a district database restored from a backup). A ``purge`` envelope (a
class deleted at its school) deletes that school's results of the students it
names, and only that school's; their later results are not stored.
"""

from __future__ import annotations

import logging
import queue
import ssl
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Self

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from district.records import LiveCount, ResultRow
from district.store import DistrictStore
from fleet.core.district import (
    TALLY,
    UP_ALL,
    DistrictTopics,
    LiveBody,
    Opened,
    PurgeBody,
    Refused,
    ResultBody,
    Results,
    Tally,
    open_envelope,
)
from fleet.core.link import Link
from fleet.core.signing import load_public_key
from rcbase.closeable import Closeable

__all__ = ["BATCH", "CLIENT_ID", "LINGER_S", "Ingest"]

logger = logging.getLogger(__name__)

#: Most envelopes stored in one transaction (each holds up to 200 results).
BATCH = 500
#: How long the writer waits after a message for more (group commit), s.
LINGER_S = 0.05
#: The ingest's fixed MQTT client id: its persistent session at the district broker.
CLIENT_ID = "roboclass-district-ingest"
#: How often the trusted keys are read again at most (s), also when an unknown key shows up.
KEYS_REFRESH_S = 30.0
_UNKNOWN_KEY_REFRESH_S = 1.0
#: The keys are read at most this often, whatever key ids come (a flood of made-up ones).
_MIN_REFRESH_S = 0.05
_MISSED_KEPT = 1000
_RETRY_S = (0.5, 1.0, 2.0, 5.0)
#: How often each school that sent results is told what the district holds (s).
TALLY_EVERY_S = 30.0
#: Days a tally covers, and how long before a school's newest result it stops (s).
TALLY_DAYS = 7
TALLY_MARGIN_S = 120.0


class Ingest(Closeable):
    """Schools' envelopes in, results and live counts stored once."""

    def __init__(
        self,
        store: DistrictStore,
        host: str,
        port: int,
        *,
        tls: ssl.SSLContext | None = None,
        client_id: str = CLIENT_ID,
        keepalive: int = 10,
        tally_every_s: float = TALLY_EVERY_S,
        tally_margin_s: float = TALLY_MARGIN_S,
    ) -> None:
        self.store = store
        self._tally_every_s = tally_every_s
        self._tally_margin_s = tally_margin_s
        self._counts: Counter[str] = Counter()
        self._count_lock = threading.Lock()
        self._trusted: dict[str, tuple[str, Ed25519PublicKey]] = {}
        self._keys_read = 0.0
        self._missed: dict[str, float] = {}  # unknown key id -> when it was last looked up
        self._keys_lock = threading.Lock()
        self._queue: queue.Queue[tuple[Opened, int, int] | None] = queue.Queue()
        self._closing = threading.Event()  # set on close: no lingering, no more retries
        self._sent_results: set[str] = set()  # schools with results since the last tallies
        self._tally_due = time.monotonic() + tally_every_s
        self._changed = threading.Condition()
        self._writer = threading.Thread(target=self._write, name="district-ingest", daemon=True)
        self.refresh_keys()
        self.link = Link(
            host,
            port,
            client_id=client_id,
            subscriptions=[UP_ALL],
            on_delivery=self._on_delivery,
            keepalive=keepalive,
            tls=tls,
            no_delay=False,
            clean_session=False,
        )

    # -- lifecycle -----------------------------------------------------------

    def start(self) -> Self:
        if not self._writer.is_alive():
            self._writer.start()
        self.link.start()
        return self

    def __enter__(self) -> Self:
        return self.start()

    @property
    def connected(self) -> bool:
        return self.link.connected

    def wait_connected(self, timeout: float) -> bool:
        return self.link.wait_connected(timeout)

    def _close(self) -> None:
        self.link.close()  # nothing more comes in; what came is stored first
        self._closing.set()
        self._queue.put(None)
        if self._writer.is_alive():
            self._writer.join(timeout=30)

    # -- what came in --------------------------------------------------------

    def counts(self) -> dict[str, int]:
        """received, stored, duplicate, live, and each reason a message was refused."""
        with self._count_lock:
            return dict(self._counts)

    def _count(self, name: str, n: int = 1) -> None:
        with self._count_lock:
            self._counts[name] += n

    def wait_for(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """Wait until ``predicate()`` holds; it is checked after every batch stored."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(min(left, 0.5))
        return True

    def refresh_keys(self) -> None:
        """Read the registered schools' keys again (a school added, a key retired)."""
        keys = {
            kid: (school, load_public_key(text))
            for kid, (school, text) in self.store.schools.trusted_keys().items()
        }
        with self._keys_lock:
            self._trusted = keys
            self._keys_read = time.monotonic()
        logger.info("trusting %d keys of %d schools", len(keys), len({s for s, _ in keys.values()}))

    def _keys(self, kid: str | None) -> dict[str, tuple[str, Ed25519PublicKey]]:
        """The trusted keys, read again when old or when ``kid`` is new to us (a school just
        registered); a key id that stays unknown is looked up again at most once a second."""
        now = time.monotonic()
        age = now - self._keys_read
        fresh_miss = False
        if kid is not None and kid not in self._trusted:
            last = self._missed.get(kid)
            fresh_miss = last is None or now - last > _UNKNOWN_KEY_REFRESH_S
            if fresh_miss:
                if len(self._missed) > _MISSED_KEPT:
                    self._missed.clear()
                self._missed[kid] = now
        if age > KEYS_REFRESH_S or (fresh_miss and age > _MIN_REFRESH_S):
            try:
                self.refresh_keys()
            except Exception:  # the database is away: the keys we have still hold
                logger.warning("cannot read the schools' keys again", exc_info=True)
        return self._trusted

    def _on_delivery(self, topic: str, payload: bytes, mid: int, qos: int) -> None:
        self._count("received")
        kid = _kid_of(payload)
        opened = open_envelope(topic, payload, self._keys(kid))
        if isinstance(opened, Refused):
            self._count(opened.reason)
            logger.warning(
                "refused a message on %s (%s): %s", topic[:120], opened.reason, opened.detail
            )
            self.link.ack(mid, qos)  # dropped for good: the broker need not keep it
            return
        self._queue.put((opened, mid, qos))  # acknowledged once stored

    # -- the writer ----------------------------------------------------------

    def _write(self) -> None:
        while True:
            try:
                first = self._queue.get(timeout=max(0.1, self._tally_due - time.monotonic()))
            except queue.Empty:
                self._send_tallies()
                continue
            if first is None:
                return
            if self._queue.qsize() < BATCH - 1:
                self._closing.wait(LINGER_S)  # group commit: let a burst gather
            batch, last = [first], False
            while len(batch) < BATCH:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    last = True
                    break
                batch.append(more)
            if self._store([opened for opened, _, _ in batch]):
                for _, mid, qos in batch:  # kept: the broker may forget them now
                    self.link.ack(mid, qos)
            with self._changed:
                self._changed.notify_all()
            if last:
                return
            if time.monotonic() >= self._tally_due:
                self._send_tallies()

    def _send_tallies(self) -> None:
        """Tell each school that sent results lately how many the district holds per day."""
        self._tally_due = time.monotonic() + self._tally_every_s
        schools, self._sent_results = self._sent_results, set()
        for school in sorted(schools):
            try:
                found = self.store.results.tally(school, TALLY_DAYS, self._tally_margin_s)
            except Exception:  # the database is away: the next round tells
                logger.warning("cannot count %s's results", school, exc_info=True)
                continue
            if found is None:
                continue
            since, until, rooms = found
            tally = Tally(since=since, until=until, rooms=rooms)
            self.link.publish(DistrictTopics(school).down(TALLY), tally.model_dump_json().encode())
            self._count("tallies")

    def _store(self, batch: list[Opened]) -> bool:
        """Store a batch (trying again while the database is away); False if closed first."""
        rows: list[ResultRow] = []
        live: dict[tuple[str, str], LiveCount] = {}
        purges: list[tuple[str, list[str]]] = []
        now = time.time()
        for envelope, body in batch:
            if isinstance(body, PurgeBody):  # the envelope's school, checked against the topic's
                purges.append((envelope.school, body.students))
            elif isinstance(body, Results):
                rows.extend(_row(envelope.school, r) for r in body.results)
                self._sent_results.add(envelope.school)
            elif isinstance(body, LiveBody):
                count = LiveCount(
                    envelope.school, body.room, body.robots_online, body.robots_known,
                    body.lessons_running, body.at, now,
                )  # fmt: skip
                old = live.get((count.school, count.room))
                if old is None or old.at < count.at:
                    live[(count.school, count.room)] = count
        for attempt in range(1_000_000):
            try:
                added = self.store.results.add_many(rows)
                if live:
                    self.store.live.update(list(live.values()))
                for school, students in purges:  # after the batch's results: theirs go too
                    gone, tries = self.store.results.purge(school, students)
                    logger.info("%s deleted %d students: %d results, %d challenge tries gone",
                                school, len(students), gone, tries)  # fmt: skip
                break
            except Exception:  # PostgreSQL away: keep the batch, try again
                wait = _RETRY_S[min(attempt, len(_RETRY_S) - 1)]
                logger.exception("storing %d results failed; again in %.1f s", len(rows), wait)
                self._count("store_retries")
                if self._closing.wait(wait):
                    return False  # not acknowledged: the broker sends them again
        stored, late = sum(added), self._after_purge(rows, added)
        self._count("stored", stored)
        self._count("duplicate", len(added) - stored - late)
        self._count("after_purge", late)
        self._count("live", len(live))
        self._count("purged", sum(len(students) for _, students in purges))
        return True

    def _after_purge(self, rows: list[ResultRow], added: list[bool]) -> int:
        """How many of the rows not stored are of students their school deleted (late)."""
        missed: dict[str, set[str]] = {}
        for row, new in zip(rows, added, strict=True):
            if not new:
                missed.setdefault(row.school, set()).add(row.student)
        try:
            gone = {s: self.store.results.purged(s, sorted(st)) for s, st in missed.items()}
        except Exception:  # only a count: the rows are stored (or not) either way
            logger.warning("cannot tell late results from doubles", exc_info=True)
            return 0
        return sum(
            1 for row, new in zip(rows, added, strict=True)
            if not new and row.student in gone[row.school]
        )  # fmt: skip


def _row(school: str, r: ResultBody) -> ResultRow:
    return ResultRow(
        result_id=r.result_id, school=school, room=r.room, class_=r.class_, student=r.student,
        grade_band=r.grade_band, lesson_id=r.lesson_id, score=r.score, status=r.status,
        at=r.at, challenge=r.challenge,
    )  # fmt: skip


def _kid_of(payload: bytes) -> str | None:
    """The key id an envelope names, found cheaply (to refresh the keys when it is new)."""
    at = payload.find(b'"kid":"')
    if at < 0:
        return None
    return payload[at + 7 : at + 23].decode("ascii", errors="replace")
