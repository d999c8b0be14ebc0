"""The console's side of the live camera preview: which robots a teacher watches.

It keeps only the newest thumbnail of each watched robot, in memory, for the
web page; nothing goes to disk or into the database. The robot's side is
:mod:`fleet.agent.preview`::

    relay = PreviewRelay()
    relay.start("robot-07", by="ms-li")
    relay.offer(preview_message)     # from up/preview
    version, view = relay.latest("robot-07")
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fleet.core.errors import PreviewError
from fleet.core.protocol import PREVIEW_SECONDS, Preview

__all__ = ["MAX_WATCHED", "PreviewRelay"]

#: Robots one console previews at the same time (each is ~10 kB/s on the Wi-Fi).
MAX_WATCHED = 4


@dataclass
class _Watch:
    by: str
    until: float
    version: int = 0
    view: dict[str, Any] | None = None


class PreviewRelay:
    """The console's side: which robots a teacher watches, and each one's newest thumbnail.

    Memory only, by design: a thumbnail is replaced by the next one and
    forgotten when the preview stops or runs out. ``clock`` is wall time.
    """

    def __init__(
        self,
        *,
        max_watched: int = MAX_WATCHED,
        seconds: float = PREVIEW_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.max_watched = max_watched
        self.seconds = seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._watching: dict[str, _Watch] = {}
        self.dropped = 0  # previews that arrived while nobody watched

    def _prune(self) -> None:
        now = self._clock()
        for device in [d for d, w in self._watching.items() if w.until <= now]:
            del self._watching[device]

    def start(self, device: str, by: str) -> dict[str, Any]:
        """Watch ``device`` (again) for :attr:`seconds`; :class:`PreviewError` when too many are on."""
        with self._lock:
            self._prune()
            if device not in self._watching and len(self._watching) >= self.max_watched:
                raise PreviewError(
                    f"at most {self.max_watched} previews at a time: turn one off first"
                )
            watch = self._watching.get(device)
            until = self._clock() + self.seconds
            if watch is None:
                watch = self._watching[device] = _Watch(by, until)
            watch.by, watch.until = by, until
            return {"device": device, "by": by, "until": until}

    def stop(self, device: str) -> bool:
        """Stop watching; the newest thumbnail is forgotten. False when it was not on."""
        with self._lock:
            return self._watching.pop(device, None) is not None

    def watching(self) -> dict[str, dict[str, Any]]:
        """Every preview that is on: ``{device: {by, until}}``."""
        with self._lock:
            self._prune()
            return {d: {"by": w.by, "until": w.until} for d, w in self._watching.items()}

    def offer(self, msg: Preview) -> bool:
        """Keep ``msg`` as the device's newest view; False (dropped) when nobody watches it."""
        with self._lock:
            self._prune()
            watch = self._watching.get(msg.device)
            if watch is None:
                self.dropped += 1
                return False
            view: dict[str, Any] = {
                "state": msg.state,
                "seq": msg.seq,
                "ts": msg.ts,
                "until": watch.until,
            }
            if msg.state == "frame":
                view.update(source=msg.source, jpeg=msg.jpeg, width=msg.width, height=msg.height)
            elif msg.detail:
                view["detail"] = msg.detail
            if msg.state == "off" and watch.view is not None and watch.view["seq"] > msg.seq:
                return True  # the end of an earlier preview, after this one's first picture
            watch.view = view
            watch.version += 1
            return True

    def latest(self, device: str) -> tuple[int, dict[str, Any]] | None:
        """(version, view) of a watched device; the view is ``{"state": "waiting"}`` before the
        first message; None when the device is not watched (or its time ran out)."""
        with self._lock:
            self._prune()
            watch = self._watching.get(device)
            if watch is None:
                return None
            view = watch.view or {"state": "waiting", "seq": 0}
            return watch.version, {**view, "until": watch.until, "by": watch.by}
