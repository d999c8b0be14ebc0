"""When a pipeline should run its model inline, in the caller's thread.

Two threads save, per frame, the overlap of preparing the next frame while the
model runs; they cost hand-offs between threads (a wake is 8-14 us on a small
machine, ``bench/thread_wake.py``) and, on a busy machine, a core that may
not be free. Rather than guess, the pipeline measures what the caller feels:
the time between two results it returns, in each mode. It starts with two
threads, tries inline for a few frames when inline could win (preparing plus
running the model takes less than the time between two results), keeps the
quicker mode (inline, the plain loop a student would write, unless two threads
are clearly quicker: by :attr:`Costs.margin`), and tries the other one again later.
Two threads, after twice as many results each time they lose, and never before
50 times the losing trial's length, counted from the switch, has passed (so
their trials cost at most 2% of the time, however slow they or a switch are on
a busy machine). Inline, after :attr:`Costs.first_wait` results every time: it is
the serial loop, so a trial of it costs little, and a trial it lost to a moment
of load must not keep a slower mode for long. See decision 0031.
"""

from __future__ import annotations

import statistics
from collections import deque

__all__ = ["Costs"]


def _median(values: deque[float] | list[float]) -> float:
    return statistics.median(values) if values else float("inf")


class Costs:
    """Recent times (seconds) of a pipeline, and what they say: inline or two threads.

    ``pre`` and ``infer`` are per frame; ``periods[inline]`` the time between two
    results the caller got in that mode. Only the caller's thread asks
    :meth:`decide`; the others only append.
    """

    window = 16  # recent values whose median counts
    probe = 8  # results a mode is measured for before it is judged
    first_wait = 64  # results in the better mode before the other is tried again
    max_wait = 4096
    hold = 50  # times a losing trial's length (from the switch on) before the next trial
    #: Two threads must beat inline by this much to be kept: a tie goes to inline, which
    #: never loses to the serial loop, while threads can (a busy core, the hand-offs).
    margin = 0.05

    def __init__(self) -> None:
        self.pre: deque[float] = deque(maxlen=self.window)
        self.infer: deque[float] = deque(maxlen=self.window)
        self.periods: dict[bool, deque[float]] = {
            False: deque(maxlen=self.window),
            True: deque(maxlen=self.window),
        }
        self._count = 0  # results measured in this mode since the last decision
        self._wait = self.probe  # results before the other mode is tried
        self._probing = False  # this mode is on trial
        self._hold_until = 0.0  # no trial before this time (perf_counter seconds)
        self._trial_start = 0.0  # when the trial began, with its switch
        #: when the caller last got a result in this mode (None: a period across a
        #: switch or a wait that failed counts for neither mode)
        self.last: float | None = None

    def add(self, inline: bool, period: float) -> None:
        self.periods[inline].append(period)
        self._count += 1

    def note(self, inline: bool, now: float) -> tuple[bool, int]:
        """The caller got a result at ``now`` (``time.perf_counter``): add the period
        since the last one, then :meth:`decide`. Returns the mode to run in and how many
        results the caller may give next without noting them: the next decision needs
        only the last :attr:`window` periods, so the ones long before it are not taken
        (running inline, taking them would cost as much as the rest of the step)."""
        last, self.last = self.last, now
        if last is not None:
            self.add(inline, now - last)
        if self._probing:
            return (inline if self._count < self.probe else self.decide(inline, now)), 0
        if self._count < self._wait:
            quiet = self._wait - self._count - self.window - 1
        elif now < self._hold_until:
            period = _median(self.periods[inline])
            quiet = int((self._hold_until - now) / period) - self.window - 1 if period else 0
        else:
            return self.decide(inline, now), 0
        if quiet <= 0:
            return inline, 0
        self._count += quiet
        self.last = None  # the next period would span the results not noted
        return inline, quiet

    def could_go_inline(self) -> bool:
        """Preparing and running the model take less than the time between two results."""
        work = _median(list(self.pre)) + _median(list(self.infer))
        return work < _median(self.periods[False])

    def decide(self, inline: bool, now: float) -> bool:
        """Inline from now on? Asked after every result the caller gets, at ``now``
        (``time.perf_counter``)."""
        if self._count < (self.probe if self._probing else self._wait):
            return inline
        if self._probing:  # this mode was on trial: keep it if it was quicker
            self._count, self._probing = 0, False
            trial = list(self.periods[inline])[-self.probe :]
            other = _median(self.periods[not inline])
            better = other * (1 + self.margin) if inline else other * (1 - self.margin)
            kept = _median(trial) < better
            if kept or inline:  # or inline lost: it is the serial loop, cheap to try again soon
                # threads that won face inline again after a probe: 8 results may win
                # by a moment of load, and 64 of them at the threads' pace cost much
                self._wait = self.probe if kept and not inline else self.first_wait
                return inline and kept
            self._wait = min(2 * self._wait, self.max_wait)
            # from the switch on: on a busy machine, waking threads may cost more than the trial
            self._hold_until = now + self.hold * (now - self._trial_start)
            return not inline
        if now < self._hold_until:
            return inline
        self._count = 0
        if not inline and not self.could_go_inline():
            return inline
        self._probing, self._trial_start = True, now  # try the other mode
        return not inline
