"""The e-stop latch on its own: epochs, stays stopped until a newer clear, saved, waited on."""

from __future__ import annotations

import threading

import pytest

from fleet.agent.estop import Change, EStopLatch
from fleet.core.protocol import EStop
from tests.unit.agent_fakes import FakeClock


class Settings:
    def __init__(self) -> None:
        self.values: dict[str, str] = {}
        self.writes: list[str] = []

    def get_meta(self, key: str) -> str | None:
        return self.values.get(key)

    def set_meta(self, key: str, value: str) -> None:
        self.values[key] = value
        self.writes.append(value)


def stop(epoch: int) -> EStop:
    return EStop(active=True, epoch=epoch, by="ms-li", ts=0.0)


def clear(epoch: int) -> EStop:
    return EStop(active=False, epoch=epoch, by="ms-li", ts=0.0)


def test_it_stops_and_stays_stopped_until_a_clear_with_a_newer_epoch() -> None:
    settings = Settings()
    latch = EStopLatch(settings)
    assert (latch.active, latch.epoch) == (False, 0)
    assert latch.apply(stop(3)) is Change.STOPPED
    assert (latch.active, latch.epoch) == (True, 3)
    assert latch.apply(clear(2)) is Change.STALE  # an older clear: still stopped
    assert latch.apply(clear(3)) is Change.SAME  # the same epoch: still stopped
    assert latch.active
    assert latch.apply(stop(3)) is Change.HELD  # the retained stop again (a new connection)
    assert latch.apply(clear(4)) is Change.CLEARED
    assert (latch.active, latch.epoch) == (False, 4)
    assert latch.apply(stop(1)) is Change.STALE
    assert not latch.active
    assert settings.writes == ["3:1", "3:1", "4:0"]


def test_the_robot_stops_before_anything_is_written() -> None:
    settings = Settings()
    seen: list[tuple[str, bool, list[str]]] = []
    latch = EStopLatch(
        settings,
        on_stop=lambda msg: seen.append(("stop", latch.active, list(settings.writes))),
        on_clear=lambda msg: seen.append(("clear", latch.active, list(settings.writes))),
    )
    latch.apply(stop(1))
    latch.apply(clear(2))
    # on_stop sees the latch stopped already (a job starting now waits) and nothing saved yet
    assert seen == [("stop", True, []), ("clear", False, ["1:1"])]


def test_a_restarted_agent_is_still_stopped() -> None:
    settings = Settings()
    EStopLatch(settings).apply(stop(7))
    again = EStopLatch(settings)
    assert (again.active, again.epoch) == (True, 7)
    assert again.apply(clear(6)) is Change.STALE
    assert again.apply(clear(8)) is Change.CLEARED


def test_stopped_at_says_when_it_became_stopped() -> None:
    clock = FakeClock(10.0)
    latch = EStopLatch(Settings(), clock=clock)
    assert latch.stopped_at is None
    latch.apply(stop(1))
    assert latch.stopped_at == 10.0
    clock.now = 20.0
    latch.apply(stop(2))  # still stopped: not a new stop
    assert latch.stopped_at == 10.0


def test_wait_clear_returns_when_cleared_from_another_thread() -> None:
    latch = EStopLatch(Settings())
    assert latch.wait_clear(0)  # not stopped: at once
    latch.apply(stop(1))
    assert not latch.wait_clear(0.05)
    threading.Timer(0.05, lambda: latch.apply(clear(2))).start()
    assert latch.wait_clear(5)


def test_forget_starts_from_epoch_0_for_the_next_room() -> None:
    latch = EStopLatch(Settings())
    latch.apply(stop(9))
    latch.forget()
    assert (latch.active, latch.epoch) == (False, 0)
    assert latch.apply(stop(1)) is Change.STOPPED  # the next room's first stop counts


def test_a_hook_that_fails_leaves_the_latch_stopped_and_saved() -> None:
    settings = Settings()

    def broken(msg: EStop) -> None:
        raise OSError("the board did not answer")

    latch = EStopLatch(settings, on_stop=broken)
    with pytest.raises(OSError):
        latch.apply(stop(1))
    assert latch.active and settings.values == {"estop": "1:1"}
    assert latch.stopped_at is not None
