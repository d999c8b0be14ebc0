"""The school's side of the district link: its stored results and live counts, signed, go up.

Off unless configured: ``district.yaml`` in the console's data folder (or
``console serve --district-school ID [--district-url URL]``, which writes it)::

    school: binhai-01                 # the id the district registered this school under
    url: https://district.example     # the district's pages (for the Lessons page's library)
    enabled: true

Each result the console has stored goes up once stored (batched, 200 to an
envelope), signed with the console's key (:func:`fleet.core.district.seal`),
QoS 1 (live counts QoS 0), on the school's OWN broker under
``district/v1/{school}/up/result``; the broker's Mosquitto bridge (``roboclass
broker config --district-folder``) carries it on, and queues it while the
district is unreachable. The link has a connection of its own (on a
classroom broker, the certificate in ``console/district-link/``): the
console's own stays the room's. What the district sends
(``district/v1/{school}/down/#``, ``district/v1/all/down/#``) goes to the
handlers given to :meth:`DistrictLink.on_down`. Every
:data:`LIVE_EVERY_S` the room's counts go up too. Names never leave: a
result names its student by a pseudonym made for the district only
(``p-`` + HMAC-SHA256 of the school's student id under a key kept in the
data folder), its class and grade band (docs/security.md).

What was sent is remembered by the time the console received it
(``district-sent.json``); after a restart of the console, or of the school's
broker (which keeps its queue on disk only every minute), the last
:data:`RESEND_WINDOW_S` go again, which the district stores once
(idempotent by result id).

A class purged at the school (:meth:`fleet.console.console.Console.purge`)
reaches the district too: its students' pseudonyms go up in ``purge``
envelopes (:data:`~fleet.core.district.MAX_PURGE` to one), QoS 1, kept in
``district-purges.json`` until the school's broker has them (and sent again,
like results, when that broker comes back from a restart within
:data:`RESEND_WINDOW_S`); the district deletes what it holds of them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
import ssl
import threading
import time
from collections.abc import Callable
from pathlib import Path

import click
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from fleet.console.console import Console
from fleet.console.store import JobState, Result
from fleet.core.credentials import Credentials
from fleet.core.district import (
    DAY_S,
    MAX_PURGE,
    MAX_RESULTS,
    TALLY,
    DistrictTopics,
    Kind,
    LiveBody,
    PurgeBody,
    ResultBody,
    Results,
    Tally,
    seal,
)
from fleet.core.errors import BrokerError
from fleet.core.link import Link
from fleet.core.topics import ID_PATTERN, valid_id
from lessons.errors import LessonError
from lessons.library import find_lesson
from rcbase.closeable import Closeable
from rcbase.files import PRIVATE, write_atomic
from rcbase.yamlfile import load_yaml

__all__ = [
    "LIVE_EVERY_S",
    "RESEND_WINDOW_S",
    "SETTINGS_FILE",
    "DistrictLink",
    "DistrictSettings",
    "PendingPurge",
    "load_settings",
    "save_settings",
    "start_district",
]

logger = logging.getLogger(__name__)

SETTINGS_FILE = "district.yaml"
SENT_FILE = "district-sent.json"
#: Purges not yet handed to the school's broker, and those sent lately (pseudonyms only).
PURGES_FILE = "district-purges.json"
PSEUDONYM_KEY_FILE = "district-pseudonym.key"
#: How often the room's live counts go up (s).
LIVE_EVERY_S = 10.0
#: What is sent again after a restart (s before the last result known sent).
RESEND_WINDOW_S = 600.0
#: How often the store is read for new results without a wake-up (s).
POLL_S = 2.0
#: How long the link lets results gather after a wake-up (s).
LINGER_S = 0.2


class DistrictSettings(BaseModel):
    """``district.yaml``: which school this console is, where its district is, on or off."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    school: str = Field(pattern=ID_PATTERN)
    url: str | None = Field(default=None, pattern=r"^https?://\S+$")
    enabled: bool = True
    live_every_s: float = Field(default=LIVE_EVERY_S, ge=1.0, le=3600.0)


def load_settings(data_dir: Path) -> DistrictSettings | None:
    """The console's district settings, or ``None`` when it has none."""
    path = data_dir / SETTINGS_FILE
    return load_yaml(path, DistrictSettings) if path.is_file() else None


def save_settings(data_dir: Path, settings: DistrictSettings) -> None:
    lines = [f"school: {settings.school}", f"enabled: {'true' if settings.enabled else 'false'}"]
    if settings.url:
        lines.append(f"url: {settings.url}")
    if settings.live_every_s != LIVE_EVERY_S:
        lines.append(f"live_every_s: {settings.live_every_s}")
    data_dir.mkdir(parents=True, exist_ok=True)
    write_atomic(data_dir / SETTINGS_FILE, ("\n".join(lines) + "\n").encode())


class PendingPurge(BaseModel):
    """One purge envelope's pseudonyms, when the class was purged, and when the school's
    broker took it (kept :data:`RESEND_WINDOW_S` after, to send again if that broker restarts)."""

    model_config = ConfigDict(extra="forbid")
    students: list[str] = Field(min_length=1, max_length=MAX_PURGE)
    at: float
    sent: float | None = None


_PURGES = TypeAdapter(list[PendingPurge])


def _pseudonym_key(data_dir: Path) -> bytes:
    path = data_dir / PSEUDONYM_KEY_FILE
    if not path.is_file():
        write_atomic(path, secrets.token_hex(32).encode(), PRIVATE)
    return path.read_bytes().strip()


class DistrictLink(Closeable):
    """Sends a console's results and live counts up to its district (a thread)."""

    def __init__(
        self,
        console: Console,
        settings: DistrictSettings,
        *,
        tls: ssl.SSLContext | None = None,
        client_id: str | None = None,
    ) -> None:
        """``tls``: the district link's own credentials on a classroom broker
        (``console/district-link/``); ``None`` on a plain broker (demo, tests)."""
        self.console = console
        self.settings = settings
        self.topics = DistrictTopics(settings.school)
        self._down: list[Callable[[str, bytes], None]] = []
        self.link = Link(
            console.config.host,
            console.config.port,
            client_id=client_id or f"rc-district-{console.session}",
            subscriptions=self.topics.subscriptions,
            on_message=self._on_down,
            on_connect=self._on_connect,
            tls=tls,
            keepalive=console.config.keepalive,
        )
        data_dir = console.config.data_dir
        self._sent_file = data_dir / SENT_FILE
        self._secret = _pseudonym_key(data_dir)
        self._cursor = max(0.0, self._load_cursor() - RESEND_WINDOW_S)
        self._at_cursor: set[str] = set()  # sent, received exactly at the cursor
        self._connects = 0
        self._tally_topic = self.topics.down(TALLY)
        self._tally: Tally | None = None  # the district's newest, for the link's thread
        self.resent = 0
        self._rewind = threading.Event()  # the school's broker came back: send again
        self._bands: dict[str, str] = {}
        self.sent = 0
        self.skipped = 0
        self._live_due = 0.0
        self._stop = threading.Event()
        self._purges_file = data_dir / PURGES_FILE
        self._purges_lock = threading.Lock()
        self._purges: list[PendingPurge] = self._load_purges()
        self._purge_due = threading.Event()
        self.purges_sent = 0
        console.purge_hooks.append(self.purge)
        self._thread = threading.Thread(target=self._run, name="console-district", daemon=True)

    def start(self) -> DistrictLink:
        self.link.start()
        if not self._thread.is_alive():
            self._thread.start()
        return self

    def _close(self) -> None:
        if self.purge in self.console.purge_hooks:
            self.console.purge_hooks.remove(self.purge)
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        self.link.close()

    def on_down(self, handler: Callable[[str, bytes], None]) -> None:
        """Call ``handler(topic, payload)`` for each message the district sends this school
        (in the link's network thread: hand work on, do not block)."""
        self._down.append(handler)

    def _on_down(self, topic: str, payload: bytes) -> None:
        if topic == self._tally_topic:
            try:
                self._tally = Tally.model_validate_json(payload)
            except ValidationError:
                logger.warning("the district's tally is not valid: %r", payload[:200])
            return
        for handler in list(self._down):
            handler(topic, payload)

    def reconcile(self, tally: Tally) -> int:
        """Send again each day's results of which the district holds fewer than this
        console (``tally``); how many went. The district stores them once."""
        theirs = tally.rooms.get(self.console.config.room, {})
        mine: dict[int, list[Result]] = {}
        for r in self.console.db.results.list(since=tally.since, until=tally.until):
            if self.body(r) is not None:
                mine.setdefault(int(r.received // DAY_S), []).append(r)
        again = 0
        for day, results in sorted(mine.items()):
            if len(results) > theirs.get(day, 0):
                logger.info("the district holds %d of this room's %d results of day %d: "
                            "sending them again", theirs.get(day, 0), len(results), day)  # fmt: skip
                again += self._send(results)
        self.resent += again
        return again

    def pseudonym(self, student_id: str) -> str:
        """The student's id for the district: the same at every send, useless elsewhere."""
        digest = hmac.new(self._secret, student_id.encode(), hashlib.sha256).hexdigest()
        return f"p-{digest[:16]}"

    def _on_connect(self) -> None:
        """A connection to the school's broker again (not the first): it may have lost
        what it held since its last save (a crash, a power cut), so the last
        :data:`RESEND_WINDOW_S` go up again; the district stores them once."""
        self._connects += 1
        if self._connects > 1:
            self._rewind.set()

    # -- purges ------------------------------------------------------------------

    def purge(self, student_ids: list[str]) -> list[str]:
        """The district is to delete these students' results: their pseudonyms are kept
        (``district-purges.json``) and go up from the link's thread; answers the pseudonyms."""
        pseudonyms = sorted({self.pseudonym(s) for s in student_ids})
        if not pseudonyms:
            return []
        with self._purges_lock:
            for first in range(0, len(pseudonyms), MAX_PURGE):
                chunk = pseudonyms[first : first + MAX_PURGE]
                self._purges.append(PendingPurge(students=chunk, at=time.time()))
            self._save_purges()
        self._purge_due.set()
        logger.info("%d deleted students go to the district", len(pseudonyms))
        return pseudonyms

    def send_purges(self) -> int:
        """Send the purges the school's broker does not have yet; how many envelopes went."""
        self._purge_due.clear()
        went = 0
        with self._purges_lock:
            for entry in self._purges:
                if entry.sent is not None:
                    continue
                body = PurgeBody(students=entry.students)
                payload = seal(self.console.key, self.settings.school, Kind.PURGE, body)
                if not self.link.publish(self.topics.up(Kind.PURGE), payload, qos=1):
                    break  # not connected now: the rest go next time
                entry.sent = time.time()
                went += 1
            old = time.time() - RESEND_WINDOW_S  # taken a while ago: the broker has saved them
            kept = [e for e in self._purges if e.sent is None or e.sent >= old]
            if went or len(kept) != len(self._purges):
                self._purges = kept
                self._save_purges()
        self.purges_sent += went
        return went

    @property
    def purges_pending(self) -> int:
        """Purge envelopes the school's broker does not have yet."""
        with self._purges_lock:
            return sum(e.sent is None for e in self._purges)

    def _load_purges(self) -> list[PendingPurge]:
        try:
            return _PURGES.validate_json(self._purges_file.read_bytes())
        except FileNotFoundError:
            return []
        except ValidationError:
            logger.error("%s is damaged: the purges it held are not sent", self._purges_file)
            return []

    def _save_purges(self) -> None:
        write_atomic(self._purges_file, _PURGES.dump_json(self._purges), PRIVATE)

    def _load_cursor(self) -> float:
        try:
            return float(json.loads(self._sent_file.read_text(encoding="utf-8"))["received"])
        except (FileNotFoundError, ValueError, KeyError, TypeError):
            return 0.0

    def _run(self) -> None:
        console = self.console
        while not self._stop.is_set():
            seen = console.results_stored
            try:
                # results, then purges, on one connection: a purge reaches the district after
                # the results it deletes (and a result later than its purge is not stored)
                self.send_results()
                if self.link.connected:
                    self.send_purges()
                tally, self._tally = self._tally, None
                if tally is not None:
                    self.reconcile(tally)
                if time.monotonic() >= self._live_due and self.send_live():
                    self._live_due = time.monotonic() + self.settings.live_every_s
            except Exception:  # the store or the link failed this time: try again soon
                logger.exception("sending to the district failed")
                self._stop.wait(1.0)
            # Woken by a result the console stored (not by every telemetry message); the
            # store is also read every POLL_S for results stored another way (hand-ins).
            console.wait_for(
                lambda seen=seen: (
                    console.results_stored != seen
                    or self._stop.is_set()
                    or self._purge_due.is_set()
                ),
                POLL_S,
            )
            self._stop.wait(LINGER_S)  # a burst of results goes up in few messages

    def _band(self, lesson_id: str) -> str:
        band = self._bands.get(lesson_id)
        if band is None:
            try:
                band = str(find_lesson(lesson_id).model.band)
            except LessonError:
                band = "unknown"
            self._bands[lesson_id] = band
        return band

    def body(self, r: Result) -> ResultBody | None:
        """What the district may see of a result, or ``None`` for one it does not get."""
        if r.student_id is None or r.lesson_id is None or r.lesson_id.startswith("model:"):
            return None
        challenge = r.result.get("challenge")
        return ResultBody.model_validate(
            {
                "result_id": r.result_id,
                "room": self.console.config.room,
                "class": r.roster or "default",
                "student": self.pseudonym(r.student_id),
                "grade_band": self._band(r.lesson_id),
                "lesson_id": r.lesson_id,
                "score": r.score,
                "status": r.status.value,
                "at": r.received,
                "challenge": challenge
                if isinstance(challenge, str) and valid_id(challenge)
                else None,
            }
        )

    def send_results(self) -> int:
        """Send what was stored since the last send; how many results went out."""
        link = self.link
        if not link.connected:
            return 0
        if self._rewind.is_set():
            self._rewind.clear()
            self._cursor, self._at_cursor = max(0.0, self._cursor - RESEND_WINDOW_S), set()
            with self._purges_lock:  # the purges sent lately go again too
                for entry in self._purges:
                    entry.sent = None
            logger.info(
                "the school's broker is back: sending the last %.0f s again", RESEND_WINDOW_S
            )
        fresh = [
            r
            for r in self.console.db.results.list(since=self._cursor)
            if r.result_id not in self._at_cursor
        ]
        sent = 0
        for first in range(0, len(fresh), MAX_RESULTS):
            chunk = fresh[first : first + MAX_RESULTS]
            went = self._send(chunk)
            if went < 0:
                break  # not connected now: the same ones go next time
            sent += went
            last = chunk[-1].received
            if last != self._cursor:
                self._cursor, self._at_cursor = last, set()
            self._at_cursor.update(r.result_id for r in chunk if r.received == last)
        if fresh:
            write_atomic(self._sent_file, json.dumps({"received": self._cursor}).encode())
        self.sent += sent
        return sent

    def _send(self, results: list[Result]) -> int:
        """Send ``results`` (at most :data:`MAX_RESULTS` an envelope); how many went, or -1
        when the link is down."""
        went = 0
        for first in range(0, len(results), MAX_RESULTS):
            chunk = results[first : first + MAX_RESULTS]
            bodies = [b for b in map(self.body, chunk) if b is not None]
            self.skipped += len(chunk) - len(bodies)
            if not bodies:
                continue
            payload = seal(self.console.key, self.settings.school, Kind.RESULT,
                           Results(results=bodies))  # fmt: skip
            if not self.link.publish(self.topics.up(Kind.RESULT), payload, qos=1):
                return -1
            went += len(bodies)
        return went

    def send_live(self) -> bool:
        """Send the room's counts now; False when the console's link is down."""
        db = self.console.db
        running = db.jobs.count(JobState.IN_PROGRESS)
        body = LiveBody(
            room=self.console.config.room,
            robots_online=len(db.devices.ids(online_only=True)),
            robots_known=len(db.devices.ids()),
            lessons_running=running,
            at=time.time(),
        )
        payload = seal(self.console.key, self.settings.school, Kind.LIVE, body)
        # QoS 0: old counts are worth nothing, so the bridge does not queue them
        return self.link.publish(self.topics.up(Kind.LIVE), payload, qos=0)


def start_district(
    console: Console,
    school: str | None = None,
    url: str | None = None,
    broker_folder: Path | None = None,
) -> DistrictLink | None:
    """The console's district link, started, when configured (flags win and are saved).

    ``broker_folder`` is the console's folder of a classroom broker
    (``--broker-folder DIR/console``): the link connects with the certificate
    in its ``district-link/``.
    """
    data_dir = console.config.data_dir
    if school is not None:
        if not valid_id(school) or school == "all":
            raise click.BadParameter(
                f"{school!r} must match {ID_PATTERN}", param_hint="--district-school"
            )
        save_settings(data_dir, DistrictSettings(school=school, url=url))
    settings = load_settings(data_dir)
    if settings is None or not settings.enabled or os.environ.get("ROBOCLASS_DISTRICT") == "off":
        return None
    tls = None
    if console.config.tls is not None:
        folder = (broker_folder or data_dir) / "district-link"
        try:
            tls = Credentials.load(folder).tls_context()
        except (BrokerError, OSError, ssl.SSLError) as exc:
            raise click.ClickException(
                f"{exc}: this classroom's broker has no district link; make it with `roboclass "
                "broker config ... --district-folder DIR` / 本教室的代理没有区级连接证书："
                "请用 broker config --district-folder 重新生成"
            ) from exc
    logger.info("sending results to district as school %s", settings.school)
    return DistrictLink(console, settings, tls=tls).start()
