"""A school and its district, for real: two Mosquitto brokers bridged, PostgreSQL, a console.

The school: a classroom broker made by ``broker config`` with the bridge to the
district (``--district-folder`` from ``district school-cert``), a real
:class:`~fleet.console.console.Console` on it storing results that robots send
over MQTT with their own certificates (paho clients speaking the agent's
protocol: a birth, then ``up/jobs/{job}/result``), and its district link
(:mod:`fleet.console.district`) signing what it stored. The district: its own
broker (``district broker-config``), :class:`~district.ingest.Ingest` and
:class:`~district.store.DistrictStore` on a real PostgreSQL.
"""

from __future__ import annotations

import json
import queue
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from district.broker import DistrictBroker, DistrictLayout, school_cert, write_district_broker
from district.ingest import Ingest
from district.records import ResultFilter
from district.store import DistrictStore
from fleet.broker.config import BrokerSettings, write_classroom
from fleet.broker.mosquitto import Mosquitto
from fleet.console.console import Console, ConsoleConfig
from fleet.console.district import DistrictLink, start_district
from fleet.core.credentials import Credentials
from fleet.core.district import DistrictTopics, Kind, ResultBody, Results, seal
from fleet.core.protocol import DeviceState, JobResult, Status, encode
from fleet.core.signing import SigningKey, public_key_text
from tests.conftest import free_port, system_part
from tests.postgres import TempPostgres, postgres  # noqa: F401 - the session fixture

pytestmark = pytest.mark.integration

ROBOTS = ("robot-01", "robot-02", "robot-03")
SCHOOL = "s1"


def _client(folder: Path) -> mqtt.Client:
    """An MQTT client with the certificate in ``folder``, connected, its loop running."""
    creds = Credentials.load(folder)
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=creds.identity, protocol=mqtt.MQTTv311
    )
    client.tls_set_context(creds.tls_context())
    client.connect(creds.host, creds.port)
    client.loop_start()
    return client


@dataclass
class World:
    district_layout: DistrictLayout
    district_port: int
    district_broker: Mosquitto
    school_broker: Mosquitto
    store: DistrictStore
    ingest: Ingest
    console: Console
    link: DistrictLink
    robots: dict[str, mqtt.Client]
    tmp: Path
    school_port: int
    sent: int = 0

    def send_results(self, n: int) -> list[str]:
        """``n`` results, round-robin over the robots, each for a job the console pushed."""
        topics = self.console.topics
        ids = []
        for _ in range(n):
            self.sent += 1
            device = ROBOTS[self.sent % len(ROBOTS)]
            job, result_id = f"j{self.sent:04d}", f"r{self.sent:04d}"
            self.console.db.jobs.add(job, device, "draw-a-square", "0" * 64, "{}")
            msg = JobResult(
                device=device, job=job, result_id=result_id, status=Status.SUCCEEDED,
                result={"score": 0.5 + (self.sent % 5) / 10}, ts=time.time(),
            )  # fmt: skip
            self.robots[device].publish(topics.result(device, job), encode(msg), qos=1)
            ids.append(result_id)
        return ids

    def district_count(self) -> int:
        return self.store.results.count(ResultFilter(school=SCHOOL))


@pytest.fixture
def world(tmp_path: Path, postgres: TempPostgres) -> Iterator[World]:  # noqa: F811
    system_part("mosquitto")
    dport, sport = free_port(), free_port()
    dlayout = write_district_broker(
        DistrictBroker(("localhost", "127.0.0.1"), dport, "127.0.0.1"), tmp_path / "district"
    )
    cert = school_cert(dlayout.root, SCHOOL, tmp_path / "s1-cert")
    settings = BrokerSettings(
        hosts=("localhost", "127.0.0.1"), port=sport, bind="127.0.0.1", devices=ROBOTS,
        school=SCHOOL, district_host="127.0.0.1", district_port=dport,
    )  # fmt: skip
    layout = write_classroom(settings, tmp_path / "school", district_folder=cert)
    assert "connection district" in layout.conf.read_text()
    district_broker = Mosquitto(dlayout.conf, "127.0.0.1", dport, log=tmp_path / "d.log").start()
    school_broker = Mosquitto(layout.conf, "127.0.0.1", sport, log=tmp_path / "s.log").start()
    store = DistrictStore(postgres.fresh_database())
    data = tmp_path / "console-data"
    data.mkdir()
    (data / "signing-key.pem").write_bytes((layout.console / "signing-key.pem").read_bytes())
    (data / "signing-key.pem").chmod(0o600)
    key = SigningKey.load_or_create(data / "signing-key.pem")
    store.schools.add(SCHOOL, "School One", public_key_text(key.public_key))
    console_tls = Credentials.load(layout.console).tls_context()
    console = Console(ConsoleConfig("localhost", sport, data, tls=console_tls)).start()
    service_tls = Credentials.load(dlayout.service).tls_context()
    ingest = Ingest(DistrictStore(store.db.url), "localhost", dport, tls=service_tls,
                    tally_every_s=1.0, tally_margin_s=0.0).start()  # fmt: skip
    robots = {r: _client(layout.device_dir(r)) for r in ROBOTS}
    try:
        assert console.wait_connected(15) and ingest.wait_connected(15)
        for device, client in robots.items():
            birth = DeviceState(
                device=device, session="s" + device[-2:], online=True, ts=time.time()
            )
            client.publish(console.topics.state(device), encode(birth), qos=1, retain=True)
        assert console.wait_for(lambda: len(console.db.devices.ids()) == len(ROBOTS), 15)
        for n, device in enumerate(ROBOTS):
            assert console.db.rosters.bind(device, f"Student {n}", "7a")
        link = start_district(console, SCHOOL, broker_folder=layout.console)
        assert link is not None and link.link.wait_connected(15)
        made = World(dlayout, dport, district_broker, school_broker, store, ingest, console, link,
                     robots, tmp_path, sport)  # fmt: skip
        yield made
    finally:
        for client in robots.values():
            client.loop_stop()
            client.disconnect()
        if "made" in locals():
            made.link.close()  # the test may have made a new one
            district_broker = made.district_broker  # ... and started the brokers again
            school_broker = made.school_broker
        console.close()
        ingest.close()
        ingest.store.close()
        store.close()
        school_broker.close()
        district_broker.close()


def test_results_reach_the_district_once_across_a_cut_bridge(world: World) -> None:
    first = world.send_results(12)
    assert world.console.wait_for(lambda: world.console.results_stored == 12, 30)
    assert world.ingest.wait_for(lambda: world.district_count() == 12, 60), world.ingest.counts()
    stored = world.store.results.list(ResultFilter(school=SCHOOL))
    assert sorted(r.result_id for r in stored) == first
    one = stored[0].to_json()
    assert one["class"] == "7a" and one["room"] == "room1" and one["grade_band"] == "perceive"
    assert one["student"].startswith("p-") and "Student" not in json.dumps(one)
    assert {r.student for r in stored} == {world.link.pseudonym(s.id) for s in
                                          world.console.db.rosters.students()}  # fmt: skip

    # The district's broker goes away: the school keeps storing, its bridge queues.
    world.district_broker.close()
    during = world.send_results(15)
    assert world.console.wait_for(lambda: world.console.results_stored == 27, 30)
    assert world.console.wait_for(lambda: world.link.sent >= 27, 30)  # on the school's broker
    assert world.district_count() == 12
    # ... and comes back: what was queued arrives, nothing lost, nothing doubled.
    world.district_broker = Mosquitto(
        world.district_layout.conf, "127.0.0.1", world.district_port, log=world.tmp / "d2.log"
    ).start()
    assert world.ingest.wait_for(lambda: world.district_count() == 27, 90), world.ingest.counts()
    after = world.send_results(3)
    assert world.ingest.wait_for(lambda: world.district_count() == 30, 60)
    ids = [r.result_id for r in world.store.results.list(ResultFilter(school=SCHOOL))]
    assert sorted(ids) == sorted(first + during + after) and len(set(ids)) == 30

    # The school console restarts its link: the last minutes go again, stored once.
    world.link.close()
    tls = Credentials.load(world.console.config.data_dir.parent / "school/console/district-link")
    world.link = DistrictLink(world.console, world.link.settings, tls=tls.tls_context()).start()
    assert world.console.wait_for(lambda: world.link.sent >= 30, 30)
    assert world.ingest.wait_for(lambda: world.ingest.counts().get("duplicate", 0) >= 30, 60)
    assert world.district_count() == 30
    progress = world.store.results.by_class(ResultFilter(school=SCHOOL))
    assert [(p.class_, p.results, p.students) for p in progress] == [("7a", 30, 3)]
    assert world.ingest.wait_for(lambda: bool(world.store.live.list(SCHOOL)), 30)
    assert world.store.live.list(SCHOOL)[0].robots_known == len(ROBOTS)


def test_a_school_broker_that_crashed_loses_nothing(world: World) -> None:
    first = world.send_results(5)
    assert world.ingest.wait_for(lambda: world.district_count() == 5, 60), world.ingest.counts()
    world.district_broker.close()
    during = world.send_results(8)
    assert world.console.wait_for(lambda: world.link.sent >= 13, 30)  # queued at the bridge
    # A power cut at the school's broker: what it held in memory since its last save is gone.
    world.school_broker.kill()
    world.school_broker = Mosquitto(
        world.tmp / "school" / "mosquitto.conf", "127.0.0.1", world.school_port,
        log=world.tmp / "s2.log",
    ).start()  # fmt: skip
    world.district_broker = Mosquitto(
        world.district_layout.conf, "127.0.0.1", world.district_port, log=world.tmp / "d2.log"
    ).start()
    assert world.ingest.wait_for(lambda: world.district_count() == 13, 90), world.ingest.counts()
    ids = [r.result_id for r in world.store.results.list(ResultFilter(school=SCHOOL))]
    assert sorted(ids) == sorted(first + during)
    # They came again from the school's store (its link sent the last minutes again when
    # the broker came back), so the 5 the district had are doubles, stored once.
    assert world.ingest.wait_for(lambda: world.ingest.counts().get("duplicate", 0) >= 5, 30)


def test_results_the_district_lost_come_again(world: World) -> None:
    sent = world.send_results(6)
    assert world.ingest.wait_for(lambda: world.district_count() == 6, 60), world.ingest.counts()
    # The district's database restored from a backup a little older than its last results.
    gone = world.store.db.rows(
        "DELETE FROM results WHERE result_id = ANY(%s) RETURNING result_id", ([sent[1], sent[3]],)
    )
    assert len(gone) == 2 and world.district_count() == 4
    later = world.send_results(1)  # the next result brings the district's tally back
    assert world.ingest.wait_for(lambda: world.district_count() == 7, 60), world.ingest.counts()
    ids = [r.result_id for r in world.store.results.list(ResultFilter(school=SCHOOL))]
    assert sorted(ids) == sorted(sent + later)
    assert world.link.resent >= 2 and world.ingest.counts()["tallies"] >= 1


def test_what_the_district_sends_reaches_the_school(world: World) -> None:
    got: queue.Queue[tuple[str, bytes]] = queue.Queue()
    world.link.on_down(lambda topic, payload: got.put((topic, payload)))
    deadline = time.monotonic() + 30  # the bridge subscribes at the district once connected
    while True:
        assert world.ingest.link.publish("district/v1/all/down/ping", b"", qos=1)
        try:
            if got.get(timeout=0.5)[0] == "district/v1/all/down/ping":
                break
        except queue.Empty:
            assert time.monotonic() < deadline, "the bridge never brought the district's messages"
    while not got.empty():  # more pings
        got.get_nowait()
    for topic in ("district/v1/all/down/news", f"district/v1/{SCHOOL}/down/challenge",
                  "district/v1/s9/down/challenge"):  # fmt: skip
        assert world.ingest.link.publish(topic, topic.encode(), qos=1)
    seen = set()
    while len(seen) < 2:
        topic = got.get(timeout=30)[0]
        if not topic.endswith("/ping"):
            seen.add(topic)
    assert seen == {"district/v1/all/down/news", f"district/v1/{SCHOOL}/down/challenge"}
    assert world.ingest.link.publish("district/v1/all/down/last", b"", qos=1)
    topics = []
    while not topics or topics[-1] != "district/v1/all/down/last":  # in order, after s9's
        topics.append(got.get(timeout=30)[0])
    assert "district/v1/s9/down/challenge" not in topics  # another school's never crosses


def test_a_forged_school_message_is_refused(world: World, tmp_path: Path) -> None:
    # A second school, registered with its own key, connected with its own certificate.
    s2_key = SigningKey.load_or_create(tmp_path / "s2-key.pem")
    world.store.schools.add("s2", "School Two", public_key_text(s2_key.public_key))
    cert = school_cert(world.district_layout.root, "s2", tmp_path / "s2-cert")
    world.district_broker.close()  # the district broker reads the new ACL at its start
    world.district_broker = Mosquitto(
        world.district_layout.conf, "127.0.0.1", world.district_port, log=tmp_path / "d3.log"
    ).start()
    assert world.ingest.wait_connected(30)
    (cert / "broker.json").write_text(json.dumps({
        "identity": "school:s2", "site": "district", "room": "district",
        "hosts": ["localhost"], "port": world.district_port,
        "ca": "ca.crt", "cert": "school.crt", "key": "school.key",
    }))  # fmt: skip
    s2 = _client(cert)
    try:
        stranger = SigningKey.load_or_create(tmp_path / "stranger.pem")
        t1, t2 = DistrictTopics(SCHOOL), DistrictTopics("s2")

        def body(result_id: str, school_key: SigningKey, school: str) -> bytes:
            r = ResultBody.model_validate({
                "result_id": result_id, "room": "room1", "class": "9c",
                "student": "p-0123456789abcdef", "grade_band": "apply",
                "lesson_id": "first-steps", "score": 1.0, "status": "SUCCEEDED", "at": 1.0,
            })  # fmt: skip
            return seal(school_key, school, Kind.RESULT, Results(results=[r]))

        # s2 claims to be s1 on its own topic, signed with its own key: forged.
        s2.publish(t2.up(Kind.RESULT), body("forged-1", s2_key, SCHOOL), qos=1)
        # s2's own school, but a key the district never registered: refused.
        s2.publish(t2.up(Kind.RESULT), body("forged-2", stranger, "s2"), qos=1)
        # s2's own message, altered after it was signed: the signature no longer holds.
        tampered = json.loads(body("real-3", s2_key, "s2"))
        tampered["body"]["results"][0]["score"] = 100.0
        tampered["body"]["results"][0]["result_id"] = "forged-3"
        s2.publish(t2.up(Kind.RESULT), json.dumps(tampered).encode(), qos=1)
        # s2 writing on s1's topic: the district broker's ACL drops it.
        s2.publish(t1.up(Kind.RESULT), body("forged-4", world.console.key, SCHOOL), qos=1)
        # ... and one honest message from s2, which is taken.
        s2.publish(t2.up(Kind.RESULT), body("honest-5", s2_key, "s2"), qos=1).wait_for_publish(10)

        assert world.ingest.wait_for(
            lambda: world.store.results.count(ResultFilter(school="s2")) == 1, 30
        )
        counts = world.ingest.counts()
        assert counts.get("forged", 0) == 2 and counts.get("unknown_key", 0) == 1, counts
        ids = {r.result_id for r in world.store.results.list()}
        assert "honest-5" in ids and not ids & {"forged-1", "forged-2", "forged-3", "forged-4"}
    finally:
        s2.loop_stop()
        s2.disconnect()


def test_a_class_purged_at_the_school_is_gone_at_the_district(world: World) -> None:
    console, link = world.console, world.link
    assert console.db.rosters.bind("robot-03", "Student 9", "8b")  # another class, which stays
    world.send_results(9)
    assert world.ingest.wait_for(lambda: world.district_count() == 9, 60), world.ingest.counts()
    purged = [link.pseudonym(s.id) for s in console.db.rosters.students("7a")]
    kept = [link.pseudonym(s.id) for s in console.db.rosters.students("8b")]
    assert len(purged) == 3 and len(kept) == 1  # Student 2 of 7a has no robot now, no results
    at_district = {r.student for r in world.store.results.list(ResultFilter(school=SCHOOL))}
    assert at_district == {purged[0], purged[1], kept[0]}  # by name: Student 0, 1, 2
    # What a late resend will carry: one of the purged students' results, as the link sent it.
    late = next(b for b in map(link.body, console.db.results.list()) if b and b.student in purged)

    assert console.purge("7a", "ms-wang").students == 3
    assert console.wait_for(lambda: link.purges_sent == 1, 30)
    assert world.ingest.wait_for(lambda: world.district_count() == 3, 60), world.ingest.counts()
    left = world.store.results.list(ResultFilter(school=SCHOOL))
    assert {r.student for r in left} == set(kept)
    assert world.store.results.purged(SCHOOL, [*purged, *kept]) == set(purged)
    assert world.ingest.counts()["purged"] == 3
    assert "Student" not in (console.config.data_dir / "district-purges.json").read_text()

    # A late resend of a purged student's result, then a new result of the class that stays
    # (after it on the same connection, through the same bridge): only the new one is stored.
    resend = seal(console.key, SCHOOL, Kind.RESULT, Results(results=[late]))
    assert link.link.publish(link.topics.up(Kind.RESULT), resend, qos=1)
    marker = world.send_results(3)[1]  # robot-03's (8b); robot-01 and robot-02 have no one now
    assert world.ingest.wait_for(lambda: world.district_count() == 4, 60), world.ingest.counts()
    ids = {r.result_id for r in world.store.results.list(ResultFilter(school=SCHOOL))}
    assert marker in ids and late.result_id not in ids
    assert world.ingest.wait_for(lambda: world.ingest.counts().get("after_purge") == 1, 30)


def test_a_purge_waits_in_the_bridge_while_the_district_is_away(world: World) -> None:
    world.send_results(6)
    assert world.ingest.wait_for(lambda: world.district_count() == 6, 60), world.ingest.counts()
    world.district_broker.close()
    assert world.console.purge("7a", "ms-wang").students == 3
    assert world.console.wait_for(lambda: world.link.purges_sent == 1, 30)  # on the school's
    assert world.district_count() == 6
    world.district_broker = Mosquitto(
        world.district_layout.conf, "127.0.0.1", world.district_port, log=world.tmp / "d2.log"
    ).start()
    assert world.ingest.wait_for(lambda: world.district_count() == 0, 90), world.ingest.counts()
    assert world.ingest.counts()["purged"] == 3


def test_a_purge_the_crashed_school_broker_lost_is_sent_again(world: World) -> None:
    world.send_results(6)
    assert world.ingest.wait_for(lambda: world.district_count() == 6, 60), world.ingest.counts()
    world.district_broker.close()
    assert world.console.purge("7a", "ms-wang").students == 3
    assert world.console.wait_for(lambda: world.link.purges_sent == 1, 30)  # queued there
    world.school_broker.kill()  # a power cut: its queue since the last save is gone
    world.school_broker = Mosquitto(
        world.tmp / "school" / "mosquitto.conf", "127.0.0.1", world.school_port,
        log=world.tmp / "s2.log",
    ).start()  # fmt: skip
    world.district_broker = Mosquitto(
        world.district_layout.conf, "127.0.0.1", world.district_port, log=world.tmp / "d2.log"
    ).start()
    assert world.ingest.wait_for(lambda: world.district_count() == 0, 90), world.ingest.counts()
    assert world.link.purges_sent >= 2  # sent again when the school's broker came back
