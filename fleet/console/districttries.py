"""A school's hand-ins of the district challenges it opened, up to the district's leaderboard.

The district link's results (:mod:`fleet.console.district`) carry a score,
not a lesson's metric; a challenge ranks the metric (``lap_time_s``, say). So
while a district challenge opened here is on, a thread sends each handed-in,
passed result of its lesson (received while it is open) with the metric's
value, as :class:`~fleet.core.districtlib.ChallengeTries` signed by the
console's key, over HTTP to the district. The student is the same pseudonym
the link sends (HMAC-SHA256 of the student's id under the console's
``district-pseudonym.key``), never a name. What the district took is
remembered (``district-tries-sent.json``); what it could not take (the
district unreachable) goes at the next look, every :data:`LOOK_S` seconds or
when a challenge is opened. The district stores each result once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
from typing import Any

from fleet.console.console import Console
from fleet.console.district import PSEUDONYM_KEY_FILE
from fleet.console.districtlib import DistrictLib
from fleet.console.store import Result
from fleet.core.districtlib import ChallengeNotice, ChallengeTries, ChallengeTry, sign
from fleet.core.errors import DistrictLibError
from rcbase import files
from rcbase.closeable import Closeable

__all__ = ["LOOK_S", "SENT_FILE", "TriesSender", "tries_of"]

logger = logging.getLogger(__name__)

LOOK_S = 5.0
SENT_FILE = "district-tries-sent.json"
#: A challenge's hand-ins are still sent this long after it ended (a school back online).
AFTER_END_S = 7 * 24 * 3600.0
_BATCH = 200


def tries_of(
    notice: ChallengeNotice, results: list[Result], room: str, pseudonym: Any
) -> list[ChallengeTry]:
    """The challenge's tries among ``results``: hand-ins of its lesson, passed, received
    while it was open, with a number for its metric."""
    found = []
    for r in results:
        metrics = r.result.get("metrics") or {}
        value = metrics.get(notice.rule.metric) if isinstance(metrics, dict) else None
        if (
            r.handin is None
            or r.student_id is None
            or r.lesson_id != notice.lesson.lesson_id
            or r.result.get("status") != "passed"
            or not isinstance(value, int | float)
            or not notice.starts <= r.received < notice.ends
        ):
            continue
        found.append(
            ChallengeTry.model_validate(
                {
                    "result_id": r.result_id,
                    "room": room,
                    "class": r.roster or "default",
                    "student": pseudonym(r.student_id),
                    "value": float(value),
                    "score": r.score,
                    "at": r.received,
                }
            )
        )
    return found


class TriesSender(Closeable):
    """The thread that sends the challenges' tries; it stops when closed, or soon after
    ``closing`` (the API server's) is set."""

    def __init__(self, console: Console, lib: DistrictLib, closing: threading.Event) -> None:
        self.console = console
        self.lib = lib
        self._closing = closing
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._sent_file = console.config.data_dir / SENT_FILE
        self.sent = 0
        self._thread = threading.Thread(target=self._run, name="district-tries", daemon=True)

    def start(self) -> TriesSender:
        if not self._thread.is_alive():
            self._thread.start()
        return self

    def poke(self) -> None:
        """Look now (a challenge was just opened)."""
        self._wake.set()

    def _close(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)

    def _run(self) -> None:
        said = ""  # the last problem logged: each is logged once, until it changes
        while not (self._stop.is_set() or self._closing.is_set()):
            try:
                self.send()
                said = ""
            except DistrictLibError as exc:
                if exc.text.en != said:
                    said = exc.text.en
                    logger.warning("challenge tries wait for the district: %s", said)
            except Exception:  # a bad look this time: the next one tries again
                logger.exception("sending challenge tries to the district failed")
            self._wake.wait(LOOK_S)
            self._wake.clear()

    def _pseudonym(self) -> Any:
        path = self.console.config.data_dir / PSEUDONYM_KEY_FILE
        if not path.is_file():
            return None  # the district link makes it when it starts
        secret = path.read_bytes().strip()

        def pseudonym(student_id: str) -> str:
            digest = hmac.new(secret, student_id.encode(), hashlib.sha256).hexdigest()
            return f"p-{digest[:16]}"

        return pseudonym

    def _load_sent(self) -> dict[str, list[str]]:
        try:
            data: dict[str, list[str]] = json.loads(self._sent_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data

    def send(self, now: float | None = None) -> int:
        """Send every try not sent yet; how many the district took now."""
        t = time.time() if now is None else now
        pseudonym = self._pseudonym()
        if pseudonym is None:
            return 0
        sent = self._load_sent()
        took = 0
        for raw in self.lib.challenges().values():
            notice = ChallengeNotice.model_validate(raw)
            if notice.ends + AFTER_END_S < t or notice.starts > t:
                continue
            results = self.console.db.results.list(
                lesson=notice.lesson.lesson_id, since=notice.starts, until=notice.ends
            )
            done = set(sent.get(notice.id, []))
            fresh = [
                x
                for x in tries_of(notice, results, self.console.config.room, pseudonym)
                if x.result_id not in done
            ]
            for first in range(0, len(fresh), _BATCH):
                chunk = fresh[first : first + _BATCH]
                self.lib.send_tries(
                    sign(
                        self.console.key,
                        ChallengeTries(
                            school=self.lib.school, challenge=notice.id, tries=chunk, issued=t
                        ),
                    )
                )
                done.update(x.result_id for x in chunk)
                sent[notice.id] = sorted(done)
                files.write_atomic(self._sent_file, json.dumps(sent).encode(), 0o644)
                took += len(chunk)
        self.sent += took
        return took
