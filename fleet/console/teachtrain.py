"""Training on the console instead of the robot: the option for a robot too slow to train.

When a student picks "train on the console", their robot sends its pictures up
(``upload`` events); the console keeps them under its data folder, per
pseudonymous student id (``<data>/teach/<student id>/``, never a name), trains
with :mod:`vision.teach` on a thread of its own, and on Deploy pushes the model
to the student's robot as a signed model job (:mod:`fleet.core.modelpush`), the
way the teacher's pushes go. A class purge deletes the folder. Progress, result
and the deployed model reach the page through the relay, as the robot's would::

    trainer = ConsoleTrainer(console, relay)
    trainer.receive(event)                 # an upload event from the student's robot
    trainer.deploy(student, device, "my-signs")
    trainer.close()                        # waits for the training under way; drops the rest

Training and deploys run on one worker thread the trainer owns, one at a time (the
console serves a room). A student's newer upload, or a purge, makes the training
queued or under way for them stale: it is dropped, and a purge that came while a
model was being trained also deletes what that training wrote.
"""

from __future__ import annotations

import base64
import binascii
import logging
import shutil
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fleet.core.errors import ModelPushError
from fleet.core.teach import MAX_MISTAKES, MAX_PICTURES, STUDENT_PATTERN, TeachEvent
from rcbase.closeable import Closeable

if TYPE_CHECKING:
    from fleet.console.console import Console
    from fleet.console.teach import TeachRelay
    from vision.teach.model import TrainedModel

__all__ = ["ConsoleTrainer"]

logger = logging.getLogger(__name__)


class ConsoleTrainer(Closeable):
    """Students' pictures on the console, a model per student, trained one at a time."""

    def __init__(self, console: Console, relay: TeachRelay) -> None:
        self.root = console.config.data_dir / "teach"
        self._console = console
        self._relay = relay
        self._lock = threading.Lock()
        self._work = ThreadPoolExecutor(max_workers=1, thread_name_prefix="console-teach")
        self._received: dict[str, list[tuple[str, bytes]]] = {}
        self._models: dict[str, TrainedModel] = {}
        #: Bumped by each new upload and each purge: a training of an older one is dropped.
        self._generation: dict[str, int] = {}

    def _close(self) -> None:
        self._work.shutdown(wait=True, cancel_futures=True)
        with self._lock:
            models, self._models = list(self._models.values()), {}
        for model in models:
            model.close()

    def _current(self, student: str, generation: int) -> bool:
        """Whether nothing newer (an upload, a purge) came for ``student``; caller holds the lock."""
        return self._generation.get(student, 0) == generation and not self.closed

    def folder(self, student: str) -> Path:
        import re  # noqa: PLC0415

        if not re.match(STUDENT_PATTERN, student):
            raise ValueError("not a pseudonymous student id")
        return self.root / student

    def start(self, student: str) -> None:
        """A new upload begins: forget what came before."""
        with self._lock:
            self._received[student] = []
            self._generation[student] = self._generation.get(student, 0) + 1

    def receive(self, event: TeachEvent, names: dict[str, tuple[str, str]]) -> None:
        """One uploaded picture, or the end of the upload (then training starts)."""
        student = event.student or ""
        with self._lock:
            pictures = self._received.get(student)
            if pictures is None:
                return  # no upload was asked for
            if event.picture and event.data:
                try:
                    pictures.append((event.picture, base64.b64decode(event.data, validate=True)))
                except (binascii.Error, ValueError):
                    return
                del pictures[:-MAX_PICTURES]
                return
            if event.parts is None:
                return
            del self._received[student]
            generation = self._generation.get(student, 0)
        self._submit(self._train, student, generation, event.device, pictures, names)

    def _submit(self, work: Any, *args: Any) -> None:
        """Run ``work(*args)`` on the trainer's thread, after what is queued (not once closed)."""
        try:
            self._work.submit(work, *args)
        except RuntimeError:  # shut down: the console is closing
            logger.info("the console is closing: %s not started", work.__name__)

    def _train(
        self,
        student: str,
        generation: int,
        device: str,
        pictures: list[tuple[str, bytes]],
        names: dict[str, tuple[str, str]],
    ) -> None:
        import cv2  # noqa: PLC0415
        import numpy as np  # noqa: PLC0415

        from vision.teach import Dataset, TeachError, train  # noqa: PLC0415

        relay = self._relay
        with self._lock:
            if not self._current(student, generation):
                return  # a newer upload is queued, or the student was purged
        folder = self.folder(student)
        shutil.rmtree(folder, ignore_errors=True)
        data = Dataset("pictures", root=folder)
        kept: list[str] = []
        for picture, jpeg in pictures:
            frame: Any = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
            label = picture.split("/")[0]
            if frame is None or label not in names:
                continue
            en, zh = names[label]
            data.add(label, frame, en=en, zh=zh)
            kept.append(picture)

        def progress(stage: str, done: float) -> None:
            relay.local(student, device, "progress", stage=stage, done=min(1.0, done))

        start = time.perf_counter()
        try:
            model = train(data, on_progress=progress)
        except TeachError as exc:
            relay.local(student, device, "error", en=exc.message.en[:400], zh=exc.message.zh[:400])
            return
        total = time.perf_counter() - start
        with self._lock:
            current = self._current(student, generation)
            old = self._models.get(student)
            if current:
                self._models[student] = model
        if not current:  # purged (or a newer upload came) while it trained: all of it goes
            model.close()
            shutil.rmtree(folder, ignore_errors=True)
            return
        if old is not None:
            old.close()
        report, t = model.report, model.timing
        relay.local(
            student,
            device,
            "result",
            accuracy=round(report.accuracy, 4),
            confusion=[list(row) for row in report.confusion],
            order=list(report.labels),
            mistakes=[
                {"picture": kept[row], "truth": kept[row].split("/")[0], "said": said}
                for row, said in model.mistakes[:MAX_MISTAKES]
            ],
            trained_on=report.trained_on,
            checked_on=report.checked_on,
            seconds={"read": round(t.read, 3), "features": round(t.features, 3),
                     "head": round(t.head, 3), "total": round(total, 3)},
        )  # fmt: skip
        logger.info("a student's model trained on the console: %s in %.1f s", report, total)

    def has_model(self, student: str) -> bool:
        with self._lock:
            return student in self._models

    def deploy_later(self, student: str, device: str, name: str) -> None:
        """:meth:`deploy` on the trainer's thread, after the training queued before it."""
        self._submit(self.deploy, student, device, name)

    def deploy(self, student: str, device: str, name: str) -> None:
        """Export the model, keep it in the bundle store and the shelf, push it to ``device``."""
        from fleet.console.teach import Shelved, shelve  # noqa: PLC0415
        from fleet.core.modelpush import prepare_model  # noqa: PLC0415
        from vision.teach import TeachError  # noqa: PLC0415

        with self._lock:
            model = self._models.get(student)
        if model is None:
            return
        start = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="roboclass-teach-") as tmp:
            try:
                entry = model.export(name, zh=name, folder=Path(tmp))
            except TeachError as exc:
                self._relay.local(student, device, "error", en=exc.message.en, zh=exc.message.zh)
                return
            data = entry.model_path.read_bytes()
            manifest = entry.manifest_path.read_text(encoding="utf-8")
        exported = time.perf_counter() - start
        sha = entry.manifest.sha256
        shelve(self._console, Shelved(student, name, sha, len(data), manifest, 1, {0: data}))
        try:
            ref = prepare_model(self._console.bundles, manifest, sha, name=name)
        except ModelPushError as exc:
            self._relay.local(student, device, "error", en=str(exc), zh=str(exc))
            return
        self._console.push_model(ref, [device])
        self._relay.command(device, student, "owns", model=name)  # a purge deletes it there too
        fields: dict[str, Any] = {"model": name, "sha256": sha, "size": len(data)}
        self._relay.local(
            student, device, "deployed", seconds={"export": round(exported, 3)}, **fields
        )

    def purge(self, students: list[str]) -> None:
        """Forget these students' pictures and models (a training under way drops its own)."""
        for student in students:
            with self._lock:
                self._received.pop(student, None)
                self._generation[student] = self._generation.get(student, 0) + 1
                model = self._models.pop(student, None)
            if model is not None:
                model.close()
            shutil.rmtree(self.folder(student), ignore_errors=True)
