"""Live camera preview: opt-in per robot, a few small pictures a second, never stored.

The teacher turns it on for one robot (``down/cmd/preview_on``). That robot's
agent then sends a thumbnail (at most 160x120, JPEG, a few kB) on its own
``up/preview``, at most :data:`PREVIEW_FPS` a second, and stops by itself
:data:`PREVIEW_SECONDS` after the last ``preview_on`` (or at once on
``preview_off``). The console keeps only the newest thumbnail of each robot
it is watching, in memory (:class:`PreviewRelay`), for the web page; nothing
goes to disk or into the database.

The preview never opens the camera a second time and never takes a frame
the student's program would have had. While a job runs, it shows the frames
the student's program reads (the lesson runner's robot server hands each one
to :class:`FrameTap`, which keeps a reference to the newest); between jobs,
it reads the agent's own robot's camera, which nobody else is reading then.

Agent side::

    sender = PreviewSender("robot-07", publish, camera=lambda: robot.camera.read,
                           busy=lambda: agent.current_job is not None)
    until = sender.start()          # again within the time: another PREVIEW_SECONDS
    job_runner(on_frame=sender.tap)  # the student's frames, while a job runs
    sender.stop()
    sender.close()

The console's side is :mod:`fleet.console.preview`.
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fleet.core.errors import FleetError, PreviewError
from fleet.core.protocol import MAX_PREVIEW_JPEG, PREVIEW_SECONDS, Preview
from rcbase.closeable import Closeable

if TYPE_CHECKING:  # numpy and OpenCV load only when a preview really sends a picture
    import numpy as np
    import numpy.typing as npt

    Frame = npt.NDArray[np.uint8]

__all__ = [
    "PREVIEW_FPS",
    "PREVIEW_SECONDS",
    "THUMBNAIL",
    "FrameTap",
    "PreviewSender",
    "thumbnail",
]

logger = logging.getLogger(__name__)

#: Thumbnails a second, at most.
PREVIEW_FPS = 2.0
#: The largest thumbnail (width, height); smaller frames are sent as they are.
THUMBNAIL = (160, 120)
JPEG_QUALITY = 60
#: While a job runs and the student's program has read no frame for this long: ``no_frames``.
STALE_S = 3.0
#: A reason for no picture is said again at most this often while it stays the same.
REPEAT_S = 2.0


def thumbnail(
    frame: Frame, size: tuple[int, int] = THUMBNAIL, quality: int = JPEG_QUALITY
) -> tuple[bytes, int, int]:
    """A BGR frame as JPEG bytes no larger than ``size``; returns (jpeg, width, height)."""
    import cv2  # noqa: PLC0415 - only a robot that previews pays for OpenCV

    from rcbase.resize import resize  # noqa: PLC0415 - it loads OpenCV too

    height, width = frame.shape[:2]
    scale = min(size[0] / width, size[1] / height, 1.0)
    small: Any = frame
    if scale < 1.0:
        shape = (max(1, round(width * scale)), max(1, round(height * scale)))
        small = resize(frame, shape)
    for q in (quality, 40, 20):
        ok, data = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, q])
        if not ok:
            raise PreviewError("the frame could not be encoded as JPEG")
        jpeg = data.tobytes()
        if len(jpeg) * 4 // 3 + 4 <= MAX_PREVIEW_JPEG:
            return jpeg, int(small.shape[1]), int(small.shape[0])
    raise PreviewError("the thumbnail is too large even at JPEG quality 20")


class FrameTap:
    """The newest frame the student's program read; kept only while a preview is on.

    Call it with each frame (``on_frame=tap``): it only keeps a reference, so
    the student's program does not wait for the preview.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._frame: Frame | None = None
        self._seq = 0
        self._at = 0.0
        self.active = False

    def __call__(self, frame: Frame) -> None:
        if not self.active:
            return
        with self._lock:
            self._frame, self._at = frame, self._clock()
            self._seq += 1

    def newest(self) -> tuple[int, float, Frame | None]:
        """(sequence number, age in seconds, frame); the frame is None when none was kept."""
        with self._lock:
            age = self._clock() - self._at if self._frame is not None else float("inf")
            return self._seq, age, self._frame

    def clear(self) -> None:
        with self._lock:
            self._frame = None


@dataclass(frozen=True)
class _Shot:
    state: str  # frame, no_camera, no_frames, error, or "" (nothing new to send)
    frame: Frame | None = None
    source: str | None = None
    detail: str | None = None


class PreviewSender(Closeable):
    """A robot's side of the preview: a thread that sends thumbnails while it is on.

    ``publish`` sends one :class:`Preview` (QoS 0, not retained). ``camera()``
    returns a function that reads the robot's camera, or None when the robot
    has none; it is called only while ``busy()`` is false (no job runs). While
    a job runs, the frames come from :attr:`tap`.
    """

    def __init__(
        self,
        device: str,
        publish: Callable[[Preview], object],
        *,
        camera: Callable[[], Callable[[], Frame] | None],
        busy: Callable[[], bool],
        fps: float = PREVIEW_FPS,
        seconds: float = PREVIEW_SECONDS,
        size: tuple[int, int] = THUMBNAIL,
    ) -> None:
        if not 0 < fps <= PREVIEW_FPS:
            raise ValueError(f"fps must be in (0, {PREVIEW_FPS}]")
        if not 0 < seconds <= PREVIEW_SECONDS:
            raise ValueError(f"seconds must be in (0, {PREVIEW_SECONDS}]")
        self.device = device
        self.tap = FrameTap()
        self.period = 1.0 / fps
        self.seconds = seconds
        self.size = size
        self.sent = 0
        self._publish = publish
        self._camera = camera
        self._busy = busy
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._deadline: float | None = None  # monotonic; None: off
        self._until = 0.0  # the same moment in wall-clock time, for the console
        self._seq = 0
        self._tap_seq = 0
        self._started = 0.0  # monotonic, when the preview was last turned on
        self._said = ("", 0.0)  # the last reason sent, and when
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------

    @property
    def on(self) -> bool:
        return self._deadline is not None

    def start(self) -> float:
        """Turn the preview on (again) for :attr:`seconds`; returns when it stops (Unix time)."""
        with self._lock:
            if self.closed:
                raise PreviewError("this preview was closed")
            self._started = time.monotonic()
            self._deadline = self._started + self.seconds
            self._until = time.time() + self.seconds
            self.tap.active = True
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name=f"agent-{self.device}-preview", daemon=True
                )
                self._thread.start()
            until = self._until
        self._wake.set()
        logger.info("camera preview on for %.0f s", self.seconds)
        return until

    def stop(self) -> None:
        """Turn the preview off now (the thread sends ``off`` and waits for the next start)."""
        with self._lock:
            if self._deadline is not None:
                self._deadline = 0.0
        self._wake.set()

    def _close(self) -> None:
        """Stop and join the thread."""
        with self._lock:
            thread = self._thread
        self.stop()
        if thread is not None:
            thread.join(timeout=5)
        self.tap.active = False
        self.tap.clear()

    # -- the thread ----------------------------------------------------------

    def _run(self) -> None:
        while True:
            self._wake.wait(None if self._deadline is None else self.period)
            self._wake.clear()
            with self._lock:
                deadline, until = self._deadline, self._until
                ended = deadline is not None and time.monotonic() >= deadline
                if ended or (self.closed and deadline is not None):
                    self._deadline = None
                    self.tap.active = False
                closed = self.closed
            if deadline is not None and (ended or closed):
                self.tap.clear()
                self._send(_Shot("off"), until)
                logger.info("camera preview off")
            elif deadline is not None:
                self._send(self._shoot(), until)
            if closed:
                return

    def _shoot(self) -> _Shot:
        """What to send now: a new frame, or why there is none ("" : nothing new)."""
        if self._busy():
            seq, age, frame = self.tap.newest()
            if frame is not None and seq != self._tap_seq:
                self._tap_seq = seq
                return _Shot("frame", frame, "program")
            waited = min(age, time.monotonic() - self._started)
            return _Shot("" if waited < STALE_S else "no_frames")
        try:
            read = self._camera()
            if read is None:
                return _Shot("no_camera")
            return _Shot("frame", read(), "robot")
        except Exception as exc:  # a camera that fails must not end the agent's preview thread
            logger.warning("preview: the camera gave no frame: %s", exc)
            return _Shot("error", detail=f"{type(exc).__name__}: {exc}"[:300])

    def _send(self, shot: _Shot, until: float) -> None:
        now = time.monotonic()
        if not shot.state:
            return
        if shot.state not in ("frame", "off"):
            said, at = self._said
            if said == shot.state and now - at < REPEAT_S:
                return
        self._said = (shot.state, now)
        fields: dict[str, Any] = {}
        state = shot.state
        if shot.frame is not None:
            try:
                jpeg, width, height = thumbnail(shot.frame, self.size)
            except (FleetError, ValueError, ImportError) as exc:
                state, fields = "error", {"detail": str(exc)[:300]}
            else:
                fields = {
                    "source": shot.source,
                    "jpeg": base64.b64encode(jpeg).decode("ascii"),
                    "width": width,
                    "height": height,
                }
        elif shot.detail:
            fields = {"detail": shot.detail}
        self._seq += 1
        msg = Preview(
            device=self.device, seq=self._seq, ts=time.time(), until=until, state=state, **fields
        )
        self._publish(msg)
        self.sent += 1
