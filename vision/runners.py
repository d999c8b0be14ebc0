"""Run a model on camera frames: :class:`Classifier` and :class:`Detector`.

::

    from vision import Classifier, Detector

    sign = Classifier("traffic-signs")       # a model name, or a path to an .onnx
    label, score = sign(frame)               # 'stop', 0.97
    sign(frame).name                         # 'Stop' or '停车', in your language

    finder = Detector("sim-objects")
    for thing in finder(frame):
        print(thing.name, thing.score, thing.box)

The model file is checked (sha256) before it loads. Each runner owns an
onnxruntime session: close it (or use ``with``) when you are done.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from pathlib import Path
from typing import Any, ClassVar, Generic, NamedTuple, TypeVar

import numpy as np
from numpy.typing import NDArray

from models import Manifest, Registry
from models.manifest import OutputFormat, Task
from rcbase import Lang, detect_lang
from rcbase.closeable import Closeable
from vision.errors import RunnerClosedError
from vision.nms import decode_yolo
from vision.preprocess import Frame, Letterbox, Preprocessor, SourceColour, Tensor
from vision.results import Box, Detection, Prediction
from vision.session import default_threads, make_session

__all__ = ["Classifier", "Computed", "Detector", "Prepared", "Runner", "Timings"]

logger = logging.getLogger(__name__)

R = TypeVar("R")


class Timings:
    """Seconds spent on the last frame: preprocess, inference, postprocess."""

    __slots__ = ("infer", "post", "pre")

    def __init__(self) -> None:
        self.pre = self.infer = self.post = 0.0


class Prepared(NamedTuple):
    """A frame made ready for the model (its own copy of the input tensor)."""

    tensor: Tensor
    letterbox: Letterbox
    frame_size: tuple[int, int]  # (width, height)
    pre_seconds: float


class Computed(NamedTuple):
    """What the model gave for a prepared frame, not yet read into a result."""

    outputs: list[NDArray[Any]]
    letterbox: Letterbox
    frame_size: tuple[int, int]  # (width, height)
    pre_seconds: float
    infer_seconds: float


class Runner(Closeable, Generic[R]):
    """One model, ready to run on frames. Subclasses read the output for their task.

    ``runner(frame)`` does it all. A pipeline splits it in three steps, each
    in the thread where it costs least: :meth:`prepare` (resize and convert,
    in the camera thread), :meth:`compute` (the model itself, in the model
    thread) and :meth:`read` (the output turned into a result, when someone
    asks for the result).

    A call that is running when the runner is closed finishes first.
    """

    task: ClassVar[Task | None] = None  # the task a model must have; None: any
    default_model: ClassVar[str] = ""

    def __init__(
        self,
        model: str | Path | None = None,
        *,
        threads: int | None = None,
        colour: SourceColour = "BGR",
        lang: Lang | None = None,
        registry: Registry | None = None,
    ) -> None:
        entry = (registry or Registry()).find(model or self.default_model, task=self.task)
        self.manifest: Manifest = entry.manifest
        self.lang: Lang = lang or detect_lang()
        #: inference threads of the session
        self.threads = threads if threads is not None else default_threads()
        session = make_session(entry.read_verified(), self.threads)
        self._session: Any = session  # None once closed
        self._input = session.get_inputs()[0].name
        self._pre = Preprocessor(self.manifest.input, colour)
        self._lock = threading.Lock()  # the input buffer is shared: one frame at a time
        self._staging = Preprocessor(self.manifest.input, colour)  # for prepare()
        self._staging_lock = threading.Lock()
        self.timings = Timings()
        self._ids = self.manifest.label_ids()
        self._names = [label.name(self.lang) for label in self.manifest.labels]
        logger.info("loaded %s %s from %s", entry.name, self.manifest.version, entry.model_path)

    @property
    def labels(self) -> list[str]:
        """The label ids this model knows, in order."""
        return list(self._ids)

    @property
    def session(self) -> Any:
        """The onnxruntime session (for benchmarks and experts)."""
        return self._open_session()

    def __call__(self, frame: Frame) -> R:
        """What the model says about ``frame``."""
        with self._lock:
            self._open_session()
            t0 = time.perf_counter()
            tensor, box = self._pre(frame)
            t1 = time.perf_counter()
            outputs = self.infer(tensor)
            t2 = time.perf_counter()
        result = self._read(outputs, box, (frame.shape[1], frame.shape[0]))
        self.timings.pre, self.timings.infer = t1 - t0, t2 - t1
        self.timings.post = time.perf_counter() - t2
        return result

    def prepare(self, frame: Frame) -> Prepared:
        """Step 1 of 3, for pipelines: the frame resized and converted (any thread)."""
        with self._staging_lock:
            t0 = time.perf_counter()
            tensor, box = self._staging(frame)
            return Prepared(
                tensor.copy(), box, (frame.shape[1], frame.shape[0]), time.perf_counter() - t0
            )

    def compute(self, prepared: Prepared) -> Computed:
        """Step 2 of 3, for pipelines: run the model on a prepared frame."""
        t0 = time.perf_counter()
        outputs = self.infer(prepared.tensor)
        return Computed(
            outputs,
            prepared.letterbox,
            prepared.frame_size,
            prepared.pre_seconds,
            time.perf_counter() - t0,
        )

    def read(self, computed: Computed) -> R:
        """Step 3 of 3, for pipelines: the result in the model's output (any thread)."""
        t0 = time.perf_counter()
        result = self._read(computed.outputs, computed.letterbox, computed.frame_size)
        timings = self.timings
        timings.pre, timings.infer = computed.pre_seconds, computed.infer_seconds
        timings.post = time.perf_counter() - t0
        return result

    def finish(self, prepared: Prepared) -> R:
        """Steps 2 and 3 together: run the model on a prepared frame and read the output."""
        return self.read(self.compute(prepared))

    def _read(
        self, outputs: list[NDArray[Any]], letterbox: Letterbox, frame_size: tuple[int, int]
    ) -> R:
        raise NotImplementedError

    def preprocess(self, frame: Frame) -> tuple[Tensor, Letterbox]:
        """The input tensor for ``frame`` (a buffer reused by the next call)."""
        return self._pre(frame)

    def infer(self, tensor: Tensor) -> list[NDArray[Any]]:
        """Run the model on a ready input tensor."""
        outputs: list[NDArray[Any]] = self._open_session().run(None, {self._input: tensor})
        return outputs

    def _open_session(self) -> Any:
        session = self._session
        if session is None:
            raise RunnerClosedError(f"the {self.manifest.name} model was closed")
        return session

    def _close(self) -> None:
        """Free the model, once a call that is running has finished."""
        with self._lock:
            self._session = None

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<{type(self).__name__} {self.manifest.name} {self.manifest.version} {state}>"


SMALL = 64  # up to this many labels, a classifier's output is read in plain Python


def _softmax(x: NDArray[Any]) -> NDArray[np.float64]:
    e = np.exp(x.astype(np.float64) - x.max())
    out: NDArray[np.float64] = e / e.sum()
    return out


class Classifier(Runner[Prediction]):
    """Says what a picture shows, from a list of labels.

    >>> sign = Classifier("traffic-signs")          # doctest: +SKIP
    >>> label, score = sign(robot.camera.read())    # doctest: +SKIP
    >>> if label == "stop" and score > 0.8: ...     # doctest: +SKIP
    """

    task = Task.CLASSIFY
    default_model = "traffic-signs"

    def __init__(
        self,
        model: str | Path | None = None,
        *,
        threads: int | None = None,
        colour: SourceColour = "BGR",
        lang: Lang | None = None,
        registry: Registry | None = None,
    ) -> None:
        super().__init__(model, threads=threads, colour=colour, lang=lang, registry=registry)
        self._logits = self.manifest.output.format == OutputFormat.LOGITS

    def __call__(self, frame: Frame) -> Prediction:
        """The most likely label for ``frame``, with its score and the best few."""
        return super().__call__(frame)

    def _read(
        self, outputs: list[NDArray[Any]], letterbox: Letterbox, frame_size: tuple[int, int]
    ) -> Prediction:
        raw = outputs[0].ravel()
        ids = self._ids
        if raw.size > SMALL:
            array = _softmax(raw) if self._logits else raw
            order: list[int] = np.argsort(-array)[:3].tolist()
            top = tuple((ids[i], float(array[i])) for i in order)
        else:  # plain Python is quicker than numpy's per-call cost here
            x = raw.tolist()
            order = sorted(range(len(x)), key=x.__getitem__, reverse=True)[:3]
            if self._logits:  # softmax, worked out only for the best few
                most = x[order[0]]
                total = sum([math.exp(v - most) for v in x])
                top = tuple((ids[i], math.exp(x[i] - most) / total) for i in order)
            else:
                top = tuple((ids[i], x[i]) for i in order)
        best = order[0]
        return Prediction(ids[best], top[0][1], self._names[best], top)


class Detector(Runner[list[Detection]]):
    """Finds things in a picture and says where they are (YOLOv8/YOLO11 output layout).

    >>> finder = Detector("sim-objects", score=0.4)           # doctest: +SKIP
    >>> for thing in finder(frame):                           # doctest: +SKIP
    ...     print(thing.label, round(thing.score, 2), thing.box.centre)
    """

    task = Task.DETECT
    default_model = "sim-objects"

    def __init__(
        self,
        model: str | Path | None = None,
        *,
        score: float | None = None,
        iou: float | None = None,
        max_detections: int = 100,
        agnostic: bool = False,
        threads: int | None = None,
        colour: SourceColour = "BGR",
        lang: Lang | None = None,
        registry: Registry | None = None,
    ) -> None:
        super().__init__(model, threads=threads, colour=colour, lang=lang, registry=registry)
        self.score = score if score is not None else self.manifest.output.score
        self.iou = iou if iou is not None else self.manifest.output.iou
        self.max_detections = max_detections
        self.agnostic = agnostic

    def __call__(self, frame: Frame) -> list[Detection]:
        """Everything found in ``frame`` above the score threshold, best first."""
        return super().__call__(frame)

    def _read(
        self, outputs: list[NDArray[Any]], letterbox: Letterbox, frame_size: tuple[int, int]
    ) -> list[Detection]:
        boxes, scores, classes = decode_yolo(
            outputs[0],
            self.score,
            self.iou,
            max_detections=self.max_detections,
            agnostic=self.agnostic,
        )
        letterbox.to_frame(boxes)
        return [
            Detection(self._ids[c], float(s), self._names[c], Box.inside(x, y, w, h, frame_size))
            for (x, y, w, h), s, c in zip(
                boxes.tolist(), scores.tolist(), classes.tolist(), strict=True
            )
        ]
