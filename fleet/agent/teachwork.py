"""The slow parts of teaching on the robot: train, try it, deploy (see :mod:`fleet.agent.teach`).

They run on the teach part's own threads and answer with events: ``progress``
while training, ``result`` (accuracy, the confusion matrix, the mistaken
pictures, the seconds each stage took), ``try`` (the live answer), and
``deployed`` followed by the model's ``chunk`` events (QoS 1, each at most
:data:`~fleet.core.teach.MAX_CHUNK` base64 characters) for the console's shelf.
"""

from __future__ import annotations

import base64
import logging
import math
import threading
import time
from typing import TYPE_CHECKING, Any

from fleet.agent.preview import thumbnail
from fleet.core.teach import MAX_CHUNK, MAX_MISTAKES, TRY_SECONDS, Mistake
from rcbase.i18n import Text

if TYPE_CHECKING:
    from fleet.agent.teach import TeachPart
    from fleet.agent.teachstore import TeachSession
    from vision.teach.model import TrainedModel

__all__ = ["TRY_FPS", "b64", "deploy", "train_session", "try_loop", "upload"]

logger = logging.getLogger(__name__)

#: "Try it" answers a second, at most.
TRY_FPS = 4.0
#: Raw bytes of the model per chunk (its base64 is at most MAX_CHUNK characters).
RAW_CHUNK = MAX_CHUNK * 3 // 4
_PROGRESS_S = 0.25

TRAIN_FIRST = Text("train the model first", "请先训练模型")
TOO_MANY_LABELS = Text("at most 8 labels: delete one first", "最多 8 个标签：请先删除一个")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def train_session(part: TeachPart, s: TeachSession) -> TrainedModel | None:
    """Train on the student's pictures; progress, then the result (or an error) go up."""
    from vision.teach import TeachError, train  # noqa: PLC0415 - numpy, onnxruntime

    last = [0.0]

    def progress(stage: str, done: float) -> None:
        now = time.monotonic()
        if done >= 1.0 or now - last[0] >= _PROGRESS_S:
            last[0] = now
            part.send("progress", s.student, stage=stage, done=min(1.0, max(0.0, done)))

    t0 = time.perf_counter()
    try:
        model = train(s.dataset, on_progress=progress, registry=part.registry)
    except TeachError as exc:
        part.send("error", s.student, en=exc.message.en[:400], zh=exc.message.zh[:400])
        return None
    total = time.perf_counter() - t0
    files = s.dataset.files()
    mistakes = [
        Mistake(picture=files[row][0].removesuffix(".jpg"), truth=files[row][1], said=said)
        for row, said in model.mistakes[:MAX_MISTAKES]
    ]
    report = model.report
    t = model.timing
    part.send(
        "result",
        s.student,
        accuracy=round(report.accuracy, 4),
        confusion=[list(row) for row in report.confusion],
        order=list(report.labels),
        mistakes=mistakes,
        trained_on=report.trained_on,
        checked_on=report.checked_on,
        seconds={
            "read": round(t.read, 3),
            "features": round(t.features, 3),
            "head": round(t.head, 3),
            "total": round(total, 3),
        },
    )
    logger.info("teach: trained a model (%s) in %.1f s", report, total)
    return model


def owned_model(part: TeachPart, s: TeachSession) -> Any:
    """The student's model on this robot (pushed by the console), as a Classifier; None: none."""
    from models import ModelError, Registry, default_roots  # noqa: PLC0415
    from vision import Classifier, VisionError  # noqa: PLC0415

    names = s.models()
    if not names:
        part.send("error", s.student, en=TRAIN_FIRST.en, zh=TRAIN_FIRST.zh)
        return None
    registry = part.registry or Registry(roots=[(part.store.models, "cache"), *default_roots()])
    try:
        return Classifier(names[-1], threads=1, registry=registry)
    except (VisionError, ModelError) as exc:
        part.send(
            "error",
            s.student,
            en=f"{names[-1]} is not on this robot yet: wait a moment ({exc})"[:400],
            zh=f"{names[-1]} 还没到这台机器人上：请稍等"[:400],
        )
        return None


def try_loop(
    part: TeachPart, s: TeachSession, model: Any, stop: threading.Event, close: bool = False
) -> None:
    """Classify the live camera a few times a second until ``stop`` or :data:`TRY_SECONDS`;
    ``model`` is the model just trained (``predict``) or a Classifier (closed at the end)."""
    part.state_event(s)  # "try" shows on the page at once
    end = time.monotonic() + TRY_SECONDS
    try:
        while not stop.wait(1.0 / TRY_FPS) and time.monotonic() < end:
            if part.job_running():  # a job's program has the camera now
                break
            read = part.camera()
            if read is None:
                part.send(
                    "error", s.student, en="this robot has no camera", zh="这台机器人没有摄像头"
                )
                break
            frame = read()
            said = model.predict(frame) if hasattr(model, "predict") else model(frame)
            jpeg = b64(thumbnail(frame)[0])
            score = min(1.0, max(0.0, float(said.score)))
            part.send("try", s.student, label=said.label, score=round(score, 3), jpeg=jpeg)
    except Exception:  # the camera or the model failed: "try it" ends, the agent goes on
        logger.exception("teach: try it failed")
    finally:
        if close:
            model.close()
        if part.doing == "try":
            part.doing = None
        part.state_event(s)


def deploy(part: TeachPart, s: TeachSession, model: TrainedModel | None, name: str) -> None:
    """Save the model into this robot's model cache as ``name``; send it up in pieces."""
    from models import SHIPPED_DIR  # noqa: PLC0415
    from vision.teach import TeachError  # noqa: PLC0415

    if model is None:
        part.send("error", s.student, en=TRAIN_FIRST.en, zh=TRAIN_FIRST.zh)
        return
    if (SHIPPED_DIR / f"{name}.yaml").exists():
        part.send(
            "error",
            s.student,
            en=f"{name!r} is the name of a model RoboClass ships: choose another name",
            zh=f"{name!r} 是 RoboClass 自带模型的名字：请换一个名字",
        )
        return
    t0 = time.perf_counter()
    part.send("progress", s.student, stage="export", done=0.0)
    try:
        entry = model.export(name, zh=name, folder=part.store.models)
    except TeachError as exc:
        part.send("error", s.student, en=exc.message.en[:400], zh=exc.message.zh[:400])
        return
    s.deployed(name)
    exported = time.perf_counter() - t0
    data = entry.model_path.read_bytes()
    manifest = entry.manifest_path.read_text(encoding="utf-8")
    parts = max(1, math.ceil(len(data) / RAW_CHUNK))
    part.send(
        "deployed",
        s.student,
        qos=1,
        model=name,
        sha256=entry.manifest.sha256,
        size=len(data),
        manifest=manifest,
        parts=parts,
        seconds={"export": round(exported, 3)},
    )
    logger.info("teach: model %s deployed on this robot (%d bytes)", name, len(data))
    for n in range(parts):
        piece = data[n * RAW_CHUNK : (n + 1) * RAW_CHUNK]
        part.send(
            "chunk",
            s.student,
            qos=1,
            model=name,
            sha256=entry.manifest.sha256,
            part=n,
            parts=parts,
            data=b64(piece),
        )
        if n % 4 == 3 or n == parts - 1:
            part.send("progress", s.student, stage="send", done=(n + 1) / parts)


def upload(part: TeachPart, s: TeachSession) -> None:
    """Send every picture up (QoS 1), for training on the console; then the end, ``parts``."""
    import cv2  # noqa: PLC0415

    sent = 0
    for file, _label in s.dataset.files():
        data = (s.dataset.folder / file).read_bytes()
        if len(data) * 4 // 3 + 4 > MAX_CHUNK:  # a big camera's picture: smaller, for the wire
            frame: Any = cv2.imread(str(s.dataset.folder / file), cv2.IMREAD_COLOR)
            if frame is None:
                continue
            data = thumbnail(frame, (320, 240), 85)[0]
        part.send("upload", s.student, qos=1, picture=file.removesuffix(".jpg"), data=b64(data))
        sent += 1
    part.send("upload", s.student, qos=1, parts=max(1, sent))
