"""The district's ingest against a real Mosquitto and PostgreSQL: a message is acknowledged
only once stored, so what a stopped district had not stored comes again."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from district.ingest import Ingest
from district.records import ResultRow
from district.results import ResultStore
from district.store import DistrictStore
from fleet.broker.mosquitto import Mosquitto
from fleet.core.district import DistrictTopics, Kind, ResultBody, Results, seal
from fleet.core.signing import SigningKey, public_key_text
from tests.conftest import system_part
from tests.postgres import TempPostgres, postgres  # noqa: F401 - the session fixture

pytestmark = pytest.mark.integration


class DownResults(ResultStore):
    """The results table as when PostgreSQL is away: every write fails."""

    def add_many(self, rows: Sequence[ResultRow]) -> list[bool]:
        raise OSError("the database is away")


def _envelope(key: SigningKey, n: int) -> bytes:
    body = ResultBody.model_validate({
        "result_id": f"r{n}", "room": "room1", "class": "7a", "student": "p-0123456789abcdef",
        "grade_band": "apply", "lesson_id": "line-follower", "score": 0.5,
        "status": "SUCCEEDED", "at": 1.0,
    })  # fmt: skip
    return seal(key, "s1", Kind.RESULT, Results(results=[body]))


def test_what_was_not_stored_is_sent_again(postgres: TempPostgres, tmp_path: Path) -> None:  # noqa: F811
    system_part("mosquitto")
    key = SigningKey.load_or_create(tmp_path / "k.pem")
    url = postgres.fresh_database()
    with DistrictStore(url) as store, Mosquitto.loopback() as broker:
        store.schools.add("s1", "School One", public_key_text(key.public_key))
        first = Ingest(DistrictStore(url), broker.host, broker.port, client_id="ingest-t")
        first.store.results = DownResults(first.store.db)
        first.start()
        assert first.wait_connected(10)
        school = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="s1", protocol=mqtt.MQTTv311)
        school.connect(broker.host, broker.port)
        school.loop_start()
        try:
            topic = DistrictTopics("s1").up(Kind.RESULT)
            for n in range(5):
                school.publish(topic, _envelope(key, n), qos=1).wait_for_publish(10)
            assert first.wait_for(lambda: first.counts().get("store_retries", 0) >= 1, 30)
            first.close()  # stops with the batch unstored: nothing was acknowledged
            first.store.close()
            assert store.results.count() == 0
            second = Ingest(DistrictStore(url), broker.host, broker.port, client_id="ingest-t")
            with second:
                assert second.wait_for(lambda: store.results.count() == 5, 30)
                assert second.counts()["stored"] == 5
            second.store.close()
        finally:
            school.loop_stop()
            school.disconnect()
