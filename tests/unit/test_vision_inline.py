"""The pipeline's inline fallback: the model runs in the caller's thread when two
threads cannot win, and the answers are the same either way (decision 0031)."""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Iterator

import cv2
import numpy as np
import pytest

from hardware.sim import sign_views
from vision import Classifier, Pipeline
from vision.inline import Costs
from vision.pipeline import LatestSlot

FRAME = np.ones((4, 4, 3), np.uint8)


@pytest.fixture(scope="module")
def signs() -> Iterator[Classifier]:
    with Classifier("traffic-signs", threads=1, lang="en") as c:
        yield c


class Fake:
    """A model split in three that records where each step ran; ``slow`` seconds
    of GIL-free waiting in prepare and compute (0: as quick as Python gets)."""

    def __init__(self, slow: float = 0.0) -> None:
        self.slow = slow
        self.where: list[tuple[str, str]] = []

    def _step(self, name: str) -> None:
        self.where.append((name, threading.current_thread().name))
        if self.slow:
            time.sleep(self.slow)

    def prepare(self, frame: np.ndarray) -> int:
        self._step("prepare")
        return int(frame.sum())

    def compute(self, prepared: int) -> int:
        self._step("compute")
        return prepared * 2

    def read(self, computed: int) -> int:
        return computed + 1

    def finish(self, prepared: int) -> int:
        return self.read(self.compute(prepared))

    def __call__(self, frame: np.ndarray) -> int:
        return self.finish(self.prepare(frame))


def test_a_fast_model_goes_inline_and_gives_the_same_answers() -> None:
    fake = Fake()
    with Pipeline(lambda: FRAME, fake) as pipe:
        assert pipe.mode == "threads"
        values = [pipe.latest(timeout=5).value for _ in range(40)]
        assert pipe.mode == "inline" and pipe.inline_frames > 0
        fake.where.clear()
        after = [pipe.latest(timeout=5).value for _ in range(5)]
    assert set(values + after) == {fake(FRAME)}
    # inline: the caller's thread prepares and computes, one frame per result
    assert fake.where[-10:] == [("prepare", "MainThread"), ("compute", "MainThread")] * 5


def test_a_slow_model_keeps_its_two_threads() -> None:
    fake = Fake(slow=0.01)  # 10 ms to prepare and 10 to compute: the overlap is worth it
    with Pipeline(lambda: FRAME, fake) as pipe:
        values = [pipe.latest(timeout=5).value for _ in range(20)]
        assert pipe.mode == "threads" and pipe.inline_frames == 0
    assert {t for step, t in fake.where if step == "compute"} == {"vision-model"}
    assert set(values) == {fake(FRAME)}


def test_the_pipeline_goes_back_to_threads_when_the_model_slows_down() -> None:
    fake = Fake()
    with Pipeline(lambda: FRAME, fake) as pipe:
        for _ in range(40):
            pipe.latest(timeout=5)
        assert pipe.mode == "inline"
        fake.slow = 0.003  # now two threads are quicker: the next trial of them shows it
        for _ in range(300):
            pipe.latest(timeout=5)
            if pipe.mode == "threads":
                break
        assert pipe.mode == "threads"
        assert pipe.latest(timeout=5).value == fake(FRAME)  # and results keep coming


def test_fixed_modes_and_models_that_keep_their_threads() -> None:
    frames = [np.full((4, 4, 3), i, np.uint8) for i in range(30)]
    with Pipeline(frames, Fake(), inline=True) as pipe:  # every frame, in order, inline
        assert [(r.frame_seq, r.value) for r in pipe] == [
            (i + 1, int(f.sum()) * 2 + 1) for i, f in enumerate(frames)
        ]
        assert pipe.mode == "inline" and pipe.inline_frames == 30
    with Pipeline(lambda: FRAME, Fake(), inline=False) as pipe:
        for _ in range(30):
            pipe.latest(timeout=5)
        assert pipe.mode == "threads" and pipe.inline_frames == 0
    with Pipeline(lambda: FRAME, lambda f: int(f.sum())) as pipe:  # a plain function
        for _ in range(30):
            pipe.latest(timeout=5)
        assert pipe.mode == "threads"


def test_inline_and_threaded_give_the_same_predictions(signs: Classifier) -> None:
    frames = [cv2.resize(img, (320, 240)) for _, img in sign_views(2, 64, seed=4250)]
    expected = [signs(f) for f in frames]
    for inline in (True, False):
        with Pipeline(frames, signs, inline=inline) as pipe:
            got = [(r.frame_seq, r.value) for r in pipe]
        assert got and all(value == expected[seq - 1] for seq, value in got), inline
        if inline:
            assert [seq for seq, _ in got] == list(range(1, len(frames) + 1))  # none dropped


def test_a_tie_goes_to_inline_and_threads_must_win_clearly() -> None:
    costs = Costs()
    for _ in range(Costs.probe):  # two threads: 1.00 ms between results
        costs.add(False, 1e-3)
        costs.pre.append(1e-4)
        costs.infer.append(2e-4)
    assert costs.decide(False, 0.0) is True  # inline could win: it goes on trial
    for _ in range(Costs.probe):  # inline: 1.03 ms, within the margin of two threads
        costs.add(True, 1.03e-3)
    assert costs.decide(True, 1.0) is True  # kept: a tie goes to inline
    for _ in range(Costs.first_wait):
        costs.add(True, 1.03e-3)
    assert costs.decide(True, 2.0) is False  # later, threads go on trial
    for _ in range(Costs.probe):  # two threads 3% quicker: not enough
        costs.add(False, 1.0e-3)
    assert costs.decide(False, 3.0) is True


class Numbered:
    """A model split in three whose answer is the number its source wrote into the
    frame, so a result says which frame it came from; ``slow`` as in :class:`Fake`."""

    def __init__(self) -> None:
        self.slow = 0.0
        self.reads = 0
        self._lock = threading.Lock()
        self._inside = {"source": 0, "compute": 0}
        self.most = {"source": 0, "compute": 0}  # the most threads ever inside at once

    def _enter(self, name: str, step: int) -> None:
        with self._lock:
            self._inside[name] += step
            self.most[name] = max(self.most[name], self._inside[name])

    def source(self) -> np.ndarray:
        self._enter("source", 1)
        self.reads += 1
        frame = np.zeros((4, 4, 3), np.uint8)
        frame[0, 0] = self.reads >> 16, (self.reads >> 8) & 255, self.reads & 255
        self._enter("source", -1)
        return frame

    def prepare(self, frame: np.ndarray) -> int:
        if self.slow:
            time.sleep(self.slow)
        return int(frame[0, 0, 0]) << 16 | int(frame[0, 0, 1]) << 8 | int(frame[0, 0, 2])

    def compute(self, prepared: int) -> int:
        self._enter("compute", 1)
        if self.slow:
            time.sleep(self.slow)
        self._enter("compute", -1)
        return prepared

    def read(self, computed: int) -> int:
        return computed

    def finish(self, prepared: int) -> int:
        return self.read(self.compute(prepared))

    def __call__(self, frame: np.ndarray) -> int:
        return self.finish(self.prepare(frame))


def test_frames_keep_their_numbers_across_modes() -> None:
    """The quick inline step numbers a frame without storing it: every result still
    says which frame it came from, newer than the last, inline, threaded and inline
    again, and never one the model thread left from before."""
    model = Numbered()
    got: list[tuple[str, int, int]] = []
    with Pipeline(model.source, model) as pipe:

        def until(mode: str, limit: int) -> None:
            for _ in range(limit):
                result = pipe.latest(timeout=5)
                got.append((pipe.mode, result.frame_seq, result.value))
                if pipe.mode == mode:
                    return

        until("inline", 100)
        assert pipe.mode == "inline"
        model.slow = 0.003  # two threads win now
        until("threads", 400)
        assert pipe.mode == "threads"
        model.slow = 0.0  # and inline again
        until("inline", 2000)
        assert pipe.mode == "inline"
        for _ in range(20):
            result = pipe.latest(timeout=5)
            got.append((pipe.mode, result.frame_seq, result.value))
        assert pipe.inline_frames > 0
    assert {mode for mode, _, _ in got} == {"inline", "threads"}
    assert all(value == seq for _, seq, value in got)  # the number is the frame's own
    seqs = [seq for _, seq, _ in got]
    assert seqs == sorted(set(seqs))  # each newer than the last
    assert seqs[-1] <= model.reads
    assert model.most == {"source": 1, "compute": 1}  # never in two threads at once


def test_inline_results_say_when_their_frame_was_taken() -> None:
    ticks = iter(range(1000))
    model = Numbered()
    with Pipeline(model.source, model, inline=True, clock=lambda: float(next(ticks))) as pipe:
        results = [pipe.latest(timeout=5) for _ in range(3)]
    assert [r.value for r in results] == [1, 2, 3] == [r.frame_seq for r in results]
    for r in results:  # read, then done after the model, and given to the caller then
        assert r.frame_time < r.done_time <= r.now and r.latency > 0 and r.age >= r.latency


def test_a_slot_numbers_a_value_it_does_not_store() -> None:
    slot: LatestSlot[str] = LatestSlot()
    slot.put("a")
    assert slot.skip() == 2 and slot.dropped == 1  # "a" was never taken
    item = slot.peek()
    assert item is not None and (item.seq, item.value) == (1, "a")
    assert slot.get(after=2, timeout=0) is None  # nothing newer than what was numbered
    slot.put("b")
    item = slot.get(after=2, timeout=0)
    assert item is not None and (item.seq, item.value) == (3, "b") and slot.dropped == 1


def test_inline_never_reads_while_the_camera_thread_still_does() -> None:
    """The quick inline step reads the source without a lock only once the camera
    thread has seen the switch: a read it is still in is waited for, and its frame
    is the next result."""
    model = Numbered()
    gate, stuck = threading.Event(), threading.Event()
    inside: list[str] = []
    most = 0

    def source() -> np.ndarray:
        nonlocal most
        inside.append(threading.current_thread().name)
        most = max(most, len(inside))
        try:
            if threading.current_thread().name == "vision-camera" and model.reads >= 3:
                stuck.set()  # the camera thread is in its 4th read, and stays there
                gate.wait(10)
            return model.source()
        finally:
            inside.pop()

    with Pipeline(source, model, inline=False) as pipe:
        assert stuck.wait(5)
        while pipe.latest(timeout=5).frame_seq < 3:  # the model thread took frame 3
            pass
        pipe._switch(True)  # as the pipeline does when inline is quicker
        opener = threading.Timer(0.2, gate.set)
        opener.start()
        result = pipe.latest(timeout=5)  # inline now: waits for the camera's read
        after = pipe.latest(timeout=5)
        opener.join()
    assert most == 1  # the caller never read while the camera thread was reading
    assert (result.frame_seq, result.value) == (4, 4)  # the camera's frame, not lost
    assert (after.frame_seq, after.value) == (5, 5) and pipe.mode == "inline"


def test_costs_ask_only_for_the_periods_the_next_decision_needs() -> None:
    costs = Costs()
    for _ in range(Costs.window):  # preparing and running take 0.3 ms: inline could win
        costs.pre.append(1e-4)
        costs.infer.append(2e-4)
    now, quiet = 0.0, 0
    noted = given = 0

    def give(inline: bool, period: float, most: int) -> bool:
        """Results ``period`` apart, noted as the pipeline does, until the mode changes."""
        nonlocal now, quiet, noted, given
        for _ in range(most):
            now += period
            given += 1
            if quiet:
                quiet -= 1
                continue
            noted += 1
            mode, quiet = costs.note(inline, now)
            if mode != inline:
                return mode
        return inline

    assert give(False, 1e-3, 100) is True  # threads at 1 ms: inline goes on trial
    assert give(True, 0.5e-3, Costs.probe + 1) is True  # and wins it
    noted = given = 0  # threads go on trial again after first_wait results ...
    assert give(True, 0.5e-3, 30) is True
    assert give(True, 0.6e-3, 1000) is False
    assert Costs.first_wait <= given <= Costs.first_wait + 2
    assert noted <= Costs.window + 3  # ... of which only the last few were noted
    assert statistics.median(costs.periods[True]) == pytest.approx(0.6e-3)  # all recent
    # threads lose their trial: inline again, held 50 trial lengths (8 x 1 ms) at least
    assert give(False, 1e-3, 100) is True
    noted = given = 0
    start = now
    assert give(True, 0.6e-3, 10_000) is False
    assert now - start >= Costs.hold * Costs.probe * 1e-3
    assert given > 600 and noted <= 3 * Costs.window


def test_inline_a_model_error_is_kept_and_the_source_has_not_ended() -> None:
    def model(frame: np.ndarray) -> int:
        raise StopIteration  # the model's own error, not the end of the frames

    with Pipeline(lambda: FRAME, model, inline=True) as pipe:
        for _ in range(2):  # kept: raised again
            with pytest.raises(StopIteration):
                pipe.latest(timeout=1)
        assert isinstance(pipe.error, StopIteration) and not pipe.source_ended


def test_inline_that_lost_a_trial_is_tried_again_soon() -> None:
    """Inline is the serial loop: a trial of it costs little, so one it lost (to a
    moment of load, say) does not keep the threads for long."""
    costs = Costs()
    for _ in range(Costs.probe):  # two threads: 1 ms between results
        costs.add(False, 1e-3)
        costs.pre.append(1e-4)
        costs.infer.append(2e-4)
    assert costs.decide(False, 0.0) is True  # inline on trial ...
    for _ in range(Costs.probe):
        costs.add(True, 1.2e-3)
    assert costs.decide(True, 0.01) is False  # ... lost it
    for _ in range(Costs.first_wait - 1):
        costs.add(False, 1e-3)
    assert costs.decide(False, 0.02) is False
    costs.add(False, 1e-3)
    assert costs.decide(False, 0.03) is True  # on trial again after first_wait, no hold


def test_threads_that_won_a_trial_face_inline_again_soon() -> None:
    costs = Costs()
    for _ in range(Costs.window):  # inline: 1 ms between results; preparing and running 0.3
        costs.add(True, 1e-3)
        costs.pre.append(1e-4)
        costs.infer.append(2e-4)
    costs._wait = Costs.first_wait
    costs._count = Costs.first_wait
    assert costs.decide(True, 0.0) is False  # threads on trial ...
    for _ in range(Costs.probe):
        costs.add(False, 0.9e-3)
    assert costs.decide(False, 0.01) is False  # ... won it (10% quicker)
    for _ in range(Costs.probe - 1):
        costs.add(False, 0.9e-3)
    assert costs.decide(False, 0.02) is False
    costs.add(False, 0.9e-3)
    assert costs.decide(False, 0.03) is True  # inline on trial again after one probe
