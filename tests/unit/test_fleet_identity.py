"""The console's signs that two computers use one robot's certificate
(fleet/console/identity.py); tests/security/test_fleet_attacks.py makes the attack."""

from __future__ import annotations

from fleet.console.identity import SESSIONS_KEPT, SHOWN_S, IdentityWatch
from fleet.core.link import PUSHED_OFF_TIMES


def test_a_session_born_again_after_another_is_a_clash_a_restart_is_not() -> None:
    now = [0.0]
    watch = IdentityWatch(clock=lambda: now[0])
    watch.born("robot-01", "a1")
    watch.born("robot-01", "a1")  # a reconnect: same session
    watch.born("robot-01", "b2")  # the agent restarted: a new session
    assert not watch.clashing("robot-01")
    watch.born("robot-01", "a1")  # the old one is back: two agents take turns
    assert watch.clashing("robot-01") and not watch.clashing("robot-02")
    now[0] += SHOWN_S + 1
    assert not watch.clashing("robot-01")  # quiet long enough: the card clears
    watch.born("robot-01", "b2")  # an old session much later: not counted
    assert not watch.clashing("robot-01")
    assert watch.sessions("robot-01") == ["a1", "b2"]


def test_the_agents_own_count_is_a_clash_from_the_threshold() -> None:
    watch = IdentityWatch()
    watch.reported("robot-01", PUSHED_OFF_TIMES - 1)
    assert not watch.clashing("robot-01")
    watch.reported("robot-01", PUSHED_OFF_TIMES)
    assert watch.clashing("robot-01")
    watch.forget("robot-01")
    assert not watch.clashing("robot-01")


def test_only_the_newest_sessions_are_remembered() -> None:
    watch = IdentityWatch()
    for n in range(SESSIONS_KEPT + 5):
        watch.born("robot-01", f"s{n}")
    assert len(watch.sessions("robot-01")) == SESSIONS_KEPT
    watch.born("robot-01", "s0")  # forgotten: looks new
    assert not watch.clashing("robot-01")
