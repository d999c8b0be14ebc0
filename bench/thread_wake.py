"""What it costs a thread to wake another one that sleeps, on this machine.

A pipeline hands every result from its model thread to the thread that
waits for it (a student's loop), so each result costs the model thread one
wake-up: a system call, and on a virtual machine usually an interrupt to
an idle virtual core. This prints what the waking thread pays (median and
p90 over ``--count`` wakes, each after ~0.3 ms of numpy work that releases
the GIL, as ``session.run`` does), for the primitives Python offers, next to
the same call with nobody waiting (the floor).

    .venv/bin/python bench/thread_wake.py [--count 2000] [--markdown]

Numbers, no asserts.
"""

from __future__ import annotations

import argparse
import os
import queue
import statistics
import threading
import time
from collections.abc import Callable

import numpy as np
from report import print_markdown

WORK = np.random.default_rng(0).random((200, 200))


def waker_cost(
    wait: Callable[[], object], wake: Callable[[], object], count: int
) -> tuple[float, float]:
    """Median and p90 (us) of ``wake()`` while another thread sleeps in ``wait()``."""
    stop = threading.Event()

    def sleeper() -> None:
        while not stop.is_set():
            wait()
            sum(range(200))  # a little Python, like reading a result

    thread = threading.Thread(target=sleeper, daemon=True)
    thread.start()
    costs = []
    for _ in range(count):
        np.dot(WORK, WORK)  # the other thread falls asleep meanwhile
        t0 = time.perf_counter_ns()
        wake()
        costs.append(time.perf_counter_ns() - t0)
    stop.set()
    wake()
    thread.join(1)
    costs.sort()
    return statistics.median(costs) / 1000, costs[int(len(costs) * 0.9)] / 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--markdown", action="store_true", help="a table for docs/benchmarks.md")
    args = parser.parse_args()
    lock = threading.Lock()
    lock.acquire()

    def release() -> None:
        if lock.locked():
            lock.release()

    simple: queue.SimpleQueue[None] = queue.SimpleQueue()
    event = threading.Event()

    def wait_event() -> None:
        event.wait(0.5)
        event.clear()

    read_end, write_end = os.pipe()
    cases: dict[str, tuple[Callable[[], object], Callable[[], object]]] = {
        "nobody waiting (floor)": (lambda: time.sleep(0.001), lambda: None),
        "threading.Lock": (lambda: lock.acquire(timeout=0.5), release),
        "queue.SimpleQueue": (lambda: simple.get(timeout=0.5), lambda: simple.put(None)),
        "threading.Event": (wait_event, event.set),
        "os.pipe": (lambda: os.read(read_end, 1), lambda: os.write(write_end, b"x")),
    }
    print(f"{os.cpu_count()} cores; the waking thread's cost per wake, {args.count} wakes")
    rows = []
    for name, (wait, wake) in cases.items():
        median, p90 = waker_cost(wait, wake, args.count)
        print(f"  {name:24s} median {median:5.1f} us   p90 {p90:5.1f} us")
        rows.append([name, f"{median:.1f}", f"{p90:.1f}"])
    if args.markdown:
        print()
        print_markdown(["primitive", "waker's cost median us", "p90 us"], rows)
    os.close(read_end)
    os.close(write_end)


if __name__ == "__main__":
    main()
