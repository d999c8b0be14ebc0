"""Camera thread -> latest-frame slot -> model thread -> newest result.
(Longer than most modules: the two threads, the inline mode and the switch
between them are one state machine, easier to follow in one file.)

The camera thread reads frames as fast as the camera gives them and puts each
in a slot that holds **one** frame: a frame nobody took yet is replaced (and
counted as dropped), never queued. So a slow model always works on the newest
frame, and a result is never older than one frame period plus one inference::

    from hardware import Robot
    from vision import Classifier, Pipeline

    with Robot() as robot, Pipeline(robot.camera.read, Classifier("traffic-signs")) as seen:
        while True:
            result = seen.latest(max_age=0.5)     # waits for a result newer than the last
            label, score = result.value
            print(label, f"{result.age * 1000:.0f} ms old")

``source`` is anything that gives frames: a function (``camera.read``) or an
iterable (a list of images, a generator). ``model`` is any function of a frame
(a :class:`Classifier`, a :class:`Detector`, or your own). A model that also
has ``prepare(frame)`` and ``finish(prepared)`` is split in two: the camera
thread resizes and converts each frame while the model thread runs the
previous one, so on two or more cores preprocessing costs the model no time.
A model that also has ``compute(prepared)`` and ``read(computed)`` (the
runners do) is split in three: the model thread only runs the model, and its
output is read into a result (softmax, boxes, labels) when you ask for
``result.value``, in your thread. So the model thread starts on the next
frame sooner, and a result nobody asks for costs nothing. On Linux,
``pin=True`` keeps the two threads on different cores (the camera thread on
the last core, the model on the others). It is off by default:
on a machine busy with other programs, pinned threads ran slower in
``bench/vision_models.py`` than free ones, which the scheduler moves to an idle core.

When the threads cannot win, the pipeline runs the model inline: each
:meth:`Pipeline.latest` reads a frame, prepares it and runs the model in your
thread, a plain serial loop. Two threads save the overlap of preparing one
frame while the model runs on the previous one; they cost hand-offs between
threads, and a core that a busy machine may not have. So the pipeline measures
the time between two results you get in each mode, tries inline when preparing
plus running the model is shorter than that time, and keeps the quicker mode
(``mode`` says which; ``inline=True`` or ``False`` fixes it; see
:mod:`vision.inline`). The results are the same either way. A model without
``prepare`` (a plain function), ``fps`` or ``on_result`` keeps its two threads
(decision 0031).
"""

from __future__ import annotations

import logging
import os
import statistics
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Generic, NamedTuple, TypeVar

from rcbase.closeable import Closeable
from vision.errors import RunnerClosedError, StaleFrameError
from vision.inline import Costs
from vision.preprocess import Frame
from vision.slot import LatestSlot, Stamped

__all__ = ["LatestSlot", "Pipeline", "Result", "Stamped", "split_cores"]

logger = logging.getLogger(__name__)

R = TypeVar("R")
Source = Callable[[], Frame] | Iterable[Frame]


class _Outcome(Generic[R]):
    """What the model thread made of one frame. A model split in three leaves the last
    step (reading its output into a result) to whoever first asks for the value."""

    __slots__ = ("_raw", "_read", "_value", "frame_seq", "frame_time")

    def __init__(
        self, frame_seq: int, frame_time: float, raw: Any, read: Callable[[Any], R] | None
    ) -> None:
        self.frame_seq = frame_seq
        self.frame_time = frame_time
        self._raw = raw
        self._read = read
        self._value: R = raw if read is None else None  # type: ignore[assignment]

    def value(self) -> R:
        read = self._read
        if read is not None:  # another thread may read it too: both get the same answer
            self._value = read(self._raw)
            self._read = None
        return self._value


class _Whole(NamedTuple):
    """A frame read for an inline step: the whole model runs on it, as in a serial loop."""

    frame: Frame


class Result(Generic[R]):
    """What the model said about one frame (``value``), and how old that frame is."""

    __slots__ = ("_outcome", "_value", "done_time", "frame_seq", "frame_time", "now")

    def __init__(
        self,
        frame_seq: int,
        frame_time: float,
        done_time: float,
        now: float,
        value: R,
        outcome: _Outcome[R] | None = None,  # None: ``value`` is the value
    ) -> None:
        self.frame_seq = frame_seq  # 1, 2, ... in the order the camera gave them
        self.frame_time = frame_time  # when the frame was read (time.monotonic)
        self.done_time = done_time  # when the model was done with the frame
        self.now = now  # when you got the result
        self._value = value
        self._outcome = outcome

    @property
    def value(self) -> R:
        """What the model says (a model split in three works it out now, once)."""
        outcome = self._outcome
        return self._value if outcome is None else outcome.value()

    def __repr__(self) -> str:
        return f"<Result of frame {self.frame_seq}, {self.latency * 1000:.1f} ms>"

    @property
    def latency(self) -> float:
        """Seconds from frame to result."""
        return self.done_time - self.frame_time

    @property
    def age(self) -> float:
        """Seconds since the frame was taken, when you got this result."""
        return self.now - self.frame_time


def split_cores() -> tuple[frozenset[int], frozenset[int]] | None:
    """(camera cores, model cores) for :class:`Pipeline`'s ``pin``: the last core this
    process may use for the camera thread, the rest for the model. ``None`` with fewer
    than two cores, or where threads cannot be pinned (not Linux)."""
    if not hasattr(os, "sched_getaffinity"):
        return None
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        return None
    return frozenset(cores[-1:]), frozenset(cores[:-1])


def _pin(cores: frozenset[int] | None) -> None:
    """Keep the calling thread on ``cores`` (Linux: the affinity of pid 0 is the thread's)."""
    if cores is None:
        return
    try:
        os.sched_setaffinity(0, cores)
    except OSError as exc:  # a container may forbid it: run unpinned
        logger.debug(
            "could not pin %s to cores %s: %s", threading.current_thread().name, cores, exc
        )


def _reader(source: Source) -> Callable[[], Frame]:
    if callable(source):
        return source
    it: Iterator[Frame] = iter(source)
    return lambda: next(it)


class Pipeline(Closeable, Generic[R]):
    """Runs ``model`` on the newest frame from ``source`` in background threads.

    ``max_age`` (seconds): frames older than this when the model is free are
    skipped (counted in ``stale``). ``fps`` reads the source at most that often
    (for sources that do not wait for the next frame themselves, like a list of
    images or a video file). ``split=False`` runs a model's ``prepare`` in the
    model thread too. ``pin`` keeps the two threads on different cores (see
    :func:`split_cores`; nothing happens with one core). ``inline``: None (the
    default) runs the model in your thread when that is quicker (see the module
    docstring), True always, False never. Close it (or use ``with``) to stop both
    threads and wait for them (up to ``join_timeout`` seconds each).
    """

    join_timeout = 5.0

    def __init__(
        self,
        source: Source,
        model: Callable[[Frame], R],
        *,
        max_age: float = 1.0,
        fps: float | None = None,
        split: bool = True,
        pin: bool = False,
        clock: Callable[[], float] = time.monotonic,
        on_result: Callable[[Result[R]], None] | None = None,
        inline: bool | None = None,
    ) -> None:
        self._read = _reader(source)
        self._model = model
        #: (camera cores, model cores) the threads are kept on, or None
        self.cores = split_cores() if pin else None
        prepare = getattr(model, "prepare", None)
        finish = getattr(model, "finish", None)
        compute, read = getattr(model, "compute", None), getattr(model, "read", None)
        self._prepare: Callable[[Frame], Any] | None = None
        self._compute: Callable[[Any], Any] = model
        self._read_out: Callable[[Any], R] | None = None  # None: _compute gives the result
        if split and callable(prepare) and callable(finish):
            self._prepare, self._compute = prepare, finish
            if callable(compute) and callable(read):
                self._compute, self._read_out = compute, read
        self.max_age = max_age
        self.fps = fps
        self.clock = clock
        self.on_result = on_result
        self.frames: LatestSlot[Any] = LatestSlot(clock)  # frames, or prepared frames
        self.results: LatestSlot[_Outcome[R]] = LatestSlot(clock)
        self._stop = threading.Event()
        self.error: BaseException | None = None
        self.source_ended = False
        self.stale = 0
        self.processed = 0
        self.inline_frames = 0  # frames run in the caller's thread
        self._last_result = 0
        self._seen = 0  # the newest frame the model thread or an inline step took
        # inline: who may decide. Only a model split in steps gains from the camera
        # thread; a callback wants results without a caller; fps paces the camera thread.
        self._auto = inline is None and self._prepare is not None and on_result is None and not fps
        self._inline = bool(inline)
        self._threaded = threading.Event()  # set while the two threads work
        if not self._inline:
            self._threaded.set()
        self._costs = Costs()
        self._quiet = 0  # results to give before the next one is noted in _costs
        self._source_lock = threading.Lock()  # one reader of the source at a time
        self._model_lock = threading.Lock()  # one thread runs the model at a time
        self._inline_lock = threading.Lock()  # one inline step at a time
        self._owned = False  # inline, the threads use neither source nor model (_own)
        self._threads = [
            threading.Thread(target=self._camera_loop, name="vision-camera", daemon=True),
            threading.Thread(target=self._model_loop, name="vision-model", daemon=True),
        ]
        for t in self._threads:
            t.start()

    @property
    def mode(self) -> str:
        """``"inline"`` (the model runs in the caller's thread) or ``"threads"``."""
        return "inline" if self._inline else "threads"

    def _wait_threaded(self) -> bool:
        """Wait while the pipeline runs inline; False when it is stopping."""
        while not self._threaded.is_set():
            if self._stop.is_set():
                return False
            self._threaded.wait(0.1)
        return not self._stop.is_set()

    # -- threads -------------------------------------------------------------------
    def _camera_loop(self) -> None:
        _pin(self.cores[0] if self.cores else None)
        period = 1.0 / self.fps if self.fps else 0.0
        due = time.monotonic()
        prepare, pre_times = self._prepare, self._costs.pre
        try:
            while self._wait_threaded():
                if period:
                    due = max(due + period, time.monotonic() - period)
                    if self._stop.wait(max(0.0, due - time.monotonic())):
                        break
                with self._source_lock:
                    if self._inline:  # the caller reads the source itself now
                        continue
                    frame = self._read()
                    stamp = self.clock()
                    if prepare is None:
                        self.frames.put(frame, stamp)
                    else:
                        t0 = time.perf_counter()
                        prepared = prepare(frame)
                        pre_times.append(time.perf_counter() - t0)
                        self.frames.put(prepared, stamp)
        except StopIteration:
            self.source_ended = True
            logger.debug("frame source ended")
        except RunnerClosedError:
            pass
        except Exception as exc:  # the error is kept and raised to the caller by latest()
            self.error = exc
            logger.exception("frame source failed")
        finally:
            self.frames.close()

    def _model_loop(self) -> None:
        _pin(self.cores[1] if self.cores else None)
        frames, results, clock, compute = self.frames, self.results, self.clock, self._compute
        infer_times = self._costs.infer
        try:
            while self._wait_threaded():
                item = frames.get(after=self._seen, timeout=0.5)
                if item is None:
                    if frames.closed:
                        break
                    continue
                with self._model_lock:
                    if self._inline:  # the caller took over: it takes this frame itself
                        continue
                    self._seen = item.seq
                    if clock() - item.time > self.max_age:
                        self.stale += 1
                        continue
                    t0 = time.perf_counter()
                    raw = compute(item.value)
                    infer_times.append(time.perf_counter() - t0)
                    self.processed += 1
                outcome = _Outcome(item.seq, item.time, raw, self._read_out)
                stored = results.put(outcome, clock())
                if self.on_result is not None:
                    self.on_result(self._result(stored))
        except RunnerClosedError:
            pass
        except Exception as exc:  # kept and raised to the caller by latest()
            self.error = exc
            logger.exception("model failed on a frame")
        finally:
            if not self._inline:
                self.results.close()

    def _switch(self, inline: bool) -> None:
        periods = self._costs.periods
        logger.debug(
            "running the model %s (median between results: %.1f us in threads, %.1f inline)",
            "inline" if inline else "in its thread",
            statistics.median(periods[False] or [0.0]) * 1e6,
            statistics.median(periods[True] or [0.0]) * 1e6,
        )
        self._costs.last, self._quiet = None, 0  # a period across the switch counts for neither
        if inline:
            self._threaded.clear()
            self._inline = True
        else:  # a result the model thread left is older than those given inline since
            self._owned = False
            left = self.results.peek()
            self._last_result = max(self._last_result, left.seq if left else 0)
            self._inline = False
            self._threaded.set()

    def _result(self, stored: Stamped[_Outcome[R]]) -> Result[R]:
        o = stored.value
        return Result(o.frame_seq, o.frame_time, stored.time, self.clock(), o._value, o)

    # -- inline: the caller's thread runs the model ------------------------------------
    def _inline_frame(self, deadline: float) -> Stamped[Any] | None:
        """The next frame for an inline step: one the camera thread left in the slot,
        else one read here. None when the source ended or time is up."""
        frames = self.frames
        while True:
            # nothing new in the slot and the camera thread is not reading: read here
            if frames._seq <= self._seen and self._source_lock.acquire(blocking=False):
                try:
                    if frames._seq <= self._seen:
                        return None if frames.closed else self._read_here()
                finally:
                    self._source_lock.release()
            item = frames.get(after=self._seen, timeout=0.05)  # the camera thread's frame
            if item is not None or frames.closed or self.clock() >= deadline:
                return item

    def _read_here(self) -> Stamped[Any] | None:
        """A frame read in this thread (the source lock held), for the whole model."""
        try:
            frame = self._read()
        except StopIteration:
            self.source_ended = True
            self.frames.close()
            return None
        return self.frames.put(_Whole(frame), self.clock(), taken=True)

    def _own(self) -> bool:
        """Whether the caller's thread alone uses the source and the model now (running
        inline, ``_owned`` says it once this was seen to be so). The two
        threads check ``_inline`` under the source or model lock before they use either:
        once each lock was seen free since the switch to inline, neither thread uses
        them again until the switch back (which only this thread makes)."""
        for lock in (self._source_lock, self._model_lock):
            if not lock.acquire(blocking=False):
                return False
            lock.release()
        self._owned = True
        return True

    def _serial(self) -> Result[R] | None:
        """The quick inline step, exactly a serial loop's: read a frame and run the whole
        model on it, here. No slot holds the frame (only its number advances) or the
        result, and the threads are out of the way (:meth:`_own`), so a result costs
        little more than the model (decision 0031). None when :meth:`_inline_step`
        must do it: the camera thread left a frame, a thread is still busy, another
        caller is in ``latest()``, or the source ended."""
        if not self._inline_lock.acquire(blocking=False):
            return None
        try:
            if self.frames._seq > self._seen or not (self._owned or self._own()):
                return None  # the camera thread left a frame, or is still reading one
            try:
                frame = self._read()
            except StopIteration:
                self.source_ended = True
                self.frames.close()
                return None
            stamp = self.clock()
            self._seen = seq = self.frames.skip()
            raw = self._model(frame)
        except Exception as exc:  # kept: every later latest() raises it too
            self.error = exc
            raise
        finally:
            self._inline_lock.release()
        self.processed += 1
        self.inline_frames += 1
        done = self.clock()
        return Result(seq, stamp, done, done, raw)

    def _inline_step(self, deadline: float) -> Stamped[_Outcome[R]] | None:
        with self._inline_lock:
            while True:
                try:
                    item = self._inline_frame(deadline)
                    if item is None:
                        return None
                    self._seen = item.seq
                    value, read = item.value, self._read_out
                    if not isinstance(value, _Whole) and self.clock() - item.time > self.max_age:
                        self.stale += 1
                        continue
                    with self._model_lock:
                        if isinstance(value, _Whole):  # a plain serial loop: model(frame)
                            raw, read = self._model(value.frame), None
                        else:  # a frame the camera thread prepared
                            raw = self._compute(value)
                except Exception as exc:  # kept: every later latest() raises it too
                    self.error = exc
                    raise
                self.processed += 1
                self.inline_frames += 1
                return self.results.put(_Outcome(item.seq, item.time, raw, read))

    # -- for the caller --------------------------------------------------------------
    def latest(self, timeout: float = 5.0, max_age: float | None = None) -> Result[R]:
        """The next result newer than the last one you got.

        Raises :class:`StaleFrameError` when none comes within ``timeout`` seconds
        (or none whose frame is younger than ``max_age``), and re-raises an error of
        the camera or the model. Running inline, it reads a frame and runs the model
        before it returns (a source that blocks is waited for).
        """
        if self._inline and self.error is None and not self._closed:
            result = self._serial()
            if result is not None and (max_age is None or result.age <= max_age):
                if self._quiet:  # a result whose period nobody needs (Costs.note)
                    self._quiet -= 1
                elif self._auto:
                    self._measured()
                return result
        deadline = self.clock() + timeout
        while True:
            if self.error is not None:
                raise self.error
            if self._inline and not self.closed:
                stored = self._inline_step(deadline)
            else:
                left = deadline - self.clock()
                stored = self.results.get(after=self._last_result, timeout=max(0.0, left))
            if self.error is not None:
                raise self.error
            if stored is None:
                self._costs.last = None
                why = "the frame source ended" if self.source_ended else f"{timeout} s passed"
                raise StaleFrameError(f"no new result: {why}")
            self._last_result = stored.seq
            result = self._result(stored)
            if max_age is None or result.age <= max_age:
                self._measured()
                return result
            if self.clock() >= deadline:
                raise StaleFrameError(f"results are {result.age:.3f} s old (max_age {max_age})")

    def _measured(self) -> None:
        """Note the time since the last result the caller got; switch modes if it says so."""
        if self._quiet:
            self._quiet -= 1
        elif self._auto:
            inline = self._inline
            mode, self._quiet = self._costs.note(inline, time.perf_counter())
            if mode != inline and not self._closed:
                self._switch(mode)

    def __iter__(self) -> Iterator[Result[R]]:
        """Results one after another until the source ends or the pipeline closes."""
        while True:
            try:
                yield self.latest()
            except StaleFrameError:
                if self.source_ended or self.closed:
                    return
                raise

    @property
    def dropped(self) -> int:
        """Frames the camera replaced before the model could take them."""
        return self.frames.dropped

    def _close(self) -> None:
        """Stop both threads and wait for them."""
        self._stop.set()
        self._threaded.set()
        self.frames.close()
        self.results.close()
        timeout = self.join_timeout
        for t in self._threads:
            if t is not threading.current_thread():
                t.join(timeout)
                if t.is_alive():
                    logger.warning(
                        "%s did not stop within %.1f s (a blocking camera read?)", t.name, timeout
                    )
