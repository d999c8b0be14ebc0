"""A class purged at the school, on the school's side: which pseudonyms go up, kept until sent."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from fleet.console.console import Console, ConsoleConfig
from fleet.console.district import (
    PURGES_FILE,
    DistrictLink,
    DistrictSettings,
    save_settings,
    start_district,
)
from fleet.core.district import MAX_PURGE
from tests.conftest import free_port


@pytest.fixture
def console(tmp_path: Path) -> Iterator[Console]:
    # Nothing listens on the port: the school's broker is away for the whole test.
    with Console(ConsoleConfig("127.0.0.1", free_port(), tmp_path)) as made:
        yield made


def test_a_purge_is_kept_until_the_schools_broker_has_it(console: Console) -> None:
    names = [f"Student {n:03d}" for n in range(MAX_PURGE + 20)]
    ids = [console.db.rosters.add_student(name, "7a") for name in names]
    console.db.rosters.add_student("Other", "8b")
    link = DistrictLink(console, DistrictSettings(school="s1"))
    try:
        assert console.purge_hooks == [link.purge]
        assert console.purge("7a", "ms-wang").students == len(names)
        assert (
            link.send_purges() == 0 and link.purges_pending == 2
        )  # not connected: nothing went, nothing is lost
        kept = json.loads((console.config.data_dir / PURGES_FILE).read_text())
        assert [len(e["students"]) for e in kept] == [MAX_PURGE, 20]  # bounded envelopes
        assert all(e["sent"] is None for e in kept)
        sent = sorted(s for e in kept for s in e["students"])
        assert sent == sorted(link.pseudonym(i) for i in ids)  # computed from the purged ids
        text = (console.config.data_dir / PURGES_FILE).read_text()
        assert "Student" not in text and not any(i in text for i in ids)  # pseudonyms only
    finally:
        link.close()
    assert console.purge_hooks == []
    again = DistrictLink(console, DistrictSettings(school="s1"))  # the console restarted
    try:
        assert again.purges_pending == 2
    finally:
        again.close()
    (console.config.data_dir / PURGES_FILE).write_text("{not json")
    damaged = DistrictLink(console, DistrictSettings(school="s1"))  # logged, not a crash
    try:
        assert damaged.purges_pending == 0
    finally:
        damaged.close()


def test_with_the_link_off_a_purge_sends_nothing(console: Console) -> None:
    save_settings(console.config.data_dir, DistrictSettings(school="s1", enabled=False))
    assert start_district(console) is None
    console.db.rosters.add_student("Wang", "7a")
    console.purge("7a", "ms-wang")
    assert console.purge_hooks == []
    assert not (console.config.data_dir / PURGES_FILE).exists()
