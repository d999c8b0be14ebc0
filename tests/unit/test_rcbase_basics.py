"""The shared basics: the closeable base and the atomic file writer."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from rcbase.closeable import Closeable
from rcbase.files import PRIVATE, write_atomic
from rcbase.threads import join_thread


class Counting(Closeable):
    def __init__(self) -> None:
        self.closes = 0

    def _close(self) -> None:
        self.closes += 1


def test_close_runs_once_and_tells() -> None:
    thing = Counting()
    assert not thing.closed
    thing.close()
    thing.close()
    assert thing.closed
    assert thing.closes == 1


def test_context_manager_closes_on_error() -> None:
    with pytest.raises(RuntimeError), Counting() as thing:
        raise RuntimeError("boom")
    assert thing.closed and thing.closes == 1


def test_close_from_many_threads_runs_once() -> None:
    thing = Counting()
    threads = [threading.Thread(target=thing.close) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert thing.closes == 1


def test_failed_close_still_counts_as_closed() -> None:
    class Failing(Closeable):
        def _close(self) -> None:
            raise OSError("gone")

    thing = Failing()
    with pytest.raises(OSError):
        thing.close()
    assert thing.closed
    thing.close()  # no second try, no second error


def test_write_atomic_private_mode_and_content(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        target = tmp_path / "robot.key"
        write_atomic(target, b"secret", mode=PRIVATE)
    finally:
        os.umask(old)
    assert target.read_bytes() == b"secret"
    assert stat.S_IMODE(target.stat().st_mode) == PRIVATE
    assert [p.name for p in tmp_path.iterdir()] == ["robot.key"]


def test_write_atomic_replaces_whole(tmp_path: Path) -> None:
    target = tmp_path / "settings.json"
    write_atomic(target, b"old old old")
    write_atomic(target, b"new")
    assert target.read_bytes() == b"new"


def test_write_atomic_failure_leaves_old_file(tmp_path: Path) -> None:
    target = tmp_path / "a.txt"
    write_atomic(target, b"kept")
    with pytest.raises(TypeError):
        write_atomic(target, "not bytes")  # type: ignore[arg-type]
    assert target.read_bytes() == b"kept"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]


def test_join_thread_joins_and_tells() -> None:
    done = threading.Thread(target=lambda: None)
    done.start()
    assert join_thread(done)
    assert join_thread(None)
    assert join_thread(threading.Thread(target=lambda: None))  # never started
    assert join_thread(threading.current_thread())


def test_join_thread_logs_a_thread_that_does_not_stop(caplog: pytest.LogCaptureFixture) -> None:
    stop = threading.Event()
    stuck = threading.Thread(target=stop.wait, name="stuck-thread")
    stuck.start()
    try:
        assert not join_thread(stuck, timeout=0.05)
    finally:
        stop.set()
        stuck.join()
    assert "stuck-thread did not stop within 0.05 s" in caplog.text
