"""The district under load: 50 schools x 40 robots' results into PostgreSQL, a bridge's lag
and a school's catch-up after an hour offline.

Three parts, all on this computer (loopback), with a real PostgreSQL (Debian's,
started in a temporary folder as the tests do) and real Mosquitto brokers
with TLS and the configurations ``roboclass district broker-config`` and
``roboclass broker config --district-folder`` write:

- **ingest**: ``--schools`` publisher identities (``school:sNN`` certificates
  from ``district school-cert``), spread over ``--processes`` processes,
  publish signed envelopes (each school's own Ed25519 key, as a console would)
  for ``--robots`` robots x ``--results`` results each STRAIGHT to the
  district broker (no bridge: 50 school brokers would not fit on 2 cores);
  :class:`district.ingest.Ingest` checks and stores them. Results per second
  from the first publish to the last stored, against a bare batched insert of
  the same rows into the same database (``ResultStore.add_many``, 500 a
  statement: the statement ingest uses, without MQTT, JSON or signatures).
  ``--per-envelope`` results go in one envelope (1: each result as its own
  message, the worst case; a console sends what one store batch held).
- **bridge lag**: one school broker bridged to the district broker; the district
  link's identity publishes ``--lag-results`` envelopes (one result each) at
  ``--lag-rate`` a second on the SCHOOL's broker; lag = stored at the district
  (``received``) - made at the school (``at``), p50/p99.
- **catch-up**: the district broker stops; ``--offline-results`` envelopes
  queue at the school's bridge (default 4800: an hour of a 4-room school
  where 40 robots each hand in every 2 minutes, one result an envelope); the
  district broker starts again; the time until all are stored, from its
  start (includes the bridge's reconnect wait, ``restart_timeout 1 10``) and
  from the first one arriving (the drain).

Numbers, no asserts::

    .venv/bin/python bench/district_ingest.py [--schools 50] [--robots 40] [--results 2]
        [--per-envelope 1] [--processes 4] [--markdown]
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from report import print_markdown

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from district.broker import (  # noqa: E402
    DistrictBroker,
    DistrictLayout,
    school_cert,
    write_district_broker,
)
from district.ingest import Ingest  # noqa: E402
from district.records import ResultRow  # noqa: E402
from district.store import DistrictStore  # noqa: E402
from fleet.broker.config import BrokerSettings, write_classroom  # noqa: E402
from fleet.broker.mosquitto import Mosquitto  # noqa: E402
from fleet.core.credentials import Credentials  # noqa: E402
from fleet.core.district import DistrictTopics, Kind, ResultBody, Results, seal  # noqa: E402
from fleet.core.signing import SigningKey, public_key_text  # noqa: E402
from tests.postgres import TempPostgres  # noqa: E402

LOG = logging.getLogger("district_ingest")


def _free_port() -> int:
    import socket  # noqa: PLC0415

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _connect(folder: Path, host: str, port: int) -> mqtt.Client:
    creds = Credentials.load(folder)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=creds.identity,
                         protocol=mqtt.MQTTv311)  # fmt: skip
    client.tls_set_context(creds.tls_context())
    client.max_inflight_messages_set(100)
    client.connect(host, port)
    client.loop_start()
    return client


def _body(school: str, n: int, robot: int) -> ResultBody:
    return ResultBody.model_validate({
        "result_id": f"{school}-r{n}", "room": f"room{1 + robot // 40}", "class": "7a",
        "student": f"p-{hash((school, robot)) & (2**64 - 1):016x}", "grade_band": "apply",
        "lesson_id": "line-follower", "score": (n % 10) / 10, "status": "SUCCEEDED",
        "at": time.time(),
    })  # fmt: skip


def _publisher(jobs: list[tuple[str, str, str]], host: str, port: int, robots: int,
               results: int, per_envelope: int, go: Any) -> None:  # fmt: skip
    """One process: its schools' connections, then every result, as fast as acks allow."""
    clients = []
    for school, folder, key_file in jobs:
        clients.append((school, _connect(Path(folder), host, port),
                        SigningKey.load_or_create(Path(key_file))))  # fmt: skip
    go.wait()
    pending = []
    for r in range(results):
        for school, client, key in clients:
            topic = DistrictTopics(school).up(Kind.RESULT)
            bodies = [_body(school, r * robots + robot, robot) for robot in range(robots)]
            for first in range(0, robots, per_envelope):
                payload = seal(key, school, Kind.RESULT,
                               Results(results=bodies[first : first + per_envelope]))  # fmt: skip
                pending.append(client.publish(topic, payload, qos=1))
    for info in pending:
        info.wait_for_publish(120)
    for _, client, _ in clients:
        client.loop_stop()
        client.disconnect()


def bench_ingest(args: argparse.Namespace, tmp: Path, pg: TempPostgres) -> dict[str, Any]:
    port = _free_port()
    schools = [f"s{n:02d}" for n in range(args.schools)]
    layout = write_district_broker(DistrictBroker(("localhost", "127.0.0.1"), port, "127.0.0.1"),
                                   tmp / "district")  # fmt: skip
    url = pg.fresh_database()
    store = DistrictStore(url)
    jobs = []
    for school in schools:
        key_file = tmp / f"{school}.pem"
        key = SigningKey.load_or_create(key_file)
        store.schools.add(school, f"School {school}", public_key_text(key.public_key))
        folder = school_cert(layout.root, school, tmp / f"cert-{school}")
        _client_file(folder, f"school:{school}", port)
        jobs.append((school, str(folder), str(key_file)))
    total = args.schools * args.robots * args.results
    with Mosquitto(layout.conf, "127.0.0.1", port, log=tmp / "district.log"):
        ingest = Ingest(DistrictStore(url), "localhost", port,
                        tls=Credentials.load(layout.service).tls_context()).start()  # fmt: skip
        assert ingest.wait_connected(30)
        go = multiprocessing.Event()
        procs = [
            multiprocessing.Process(target=_publisher, args=(jobs[i :: args.processes], "localhost",
                                    port, args.robots, args.results, args.per_envelope, go))
            for i in range(args.processes)
        ]  # fmt: skip
        for p in procs:
            p.start()
        time.sleep(3)  # bench only: the publishers connect (TLS) before the clock starts
        start = time.monotonic()
        go.set()
        done = ingest.wait_for(lambda: ingest.counts().get("stored", 0) >= total, 600)
        took = time.monotonic() - start
        for p in procs:
            p.join(60)
        counts = ingest.counts()
        ingest.close()
        ingest.store.close()
    # The bare batched insert of the same rows into a new table-set, same server.
    bare_store = DistrictStore(pg.fresh_database())
    rows = [
        ResultRow(r.result_id, r.school, r.room, r.class_, r.student, r.grade_band, r.lesson_id,
                  r.score, r.status, r.at)
        for r in store.results.list(limit=total)
    ]  # fmt: skip
    rows += [ResultRow(f"x{n}", "s00", "room1", "7a", "p-0", "apply", "l", 0.5, "SUCCEEDED", 1.0)
             for n in range(max(0, total - len(rows)))]  # fmt: skip
    t0 = time.monotonic()
    for first in range(0, len(rows), 500):
        bare_store.results.add_many(rows[first : first + 500])
    bare = time.monotonic() - t0
    bare_store.close()
    store.close()
    return {"total": total, "done": done, "ingest_s": took, "ingest_rate": total / took,
            "bare_rate": len(rows) / bare, "counts": counts}  # fmt: skip


def _client_file(folder: Path, identity: str, port: int) -> None:
    info = {"identity": identity, "site": "district", "room": "district", "hosts": ["localhost"],
            "port": port, "ca": "ca.crt", "cert": "school.crt", "key": "school.key"}  # fmt: skip
    (folder / "broker.json").write_text(json.dumps(info))


def bench_bridge(args: argparse.Namespace, tmp: Path, pg: TempPostgres) -> dict[str, Any]:
    dport, sport = _free_port(), _free_port()
    dlayout = write_district_broker(DistrictBroker(("localhost", "127.0.0.1"), dport, "127.0.0.1"),
                                    tmp / "district-b")  # fmt: skip
    cert = school_cert(dlayout.root, "sb", tmp / "cert-sb")
    settings = BrokerSettings(hosts=("localhost", "127.0.0.1"), port=sport, bind="127.0.0.1",
                              school="sb", district_host="127.0.0.1", district_port=dport)  # fmt: skip
    layout = write_classroom(settings, tmp / "school-b", district_folder=cert)
    key = SigningKey.load_or_create(layout.console / "signing-key.pem")
    url = pg.fresh_database()
    store = DistrictStore(url)
    store.schools.add("sb", "Bridged school", public_key_text(key.public_key))
    topic = DistrictTopics("sb").up(Kind.RESULT)
    out: dict[str, Any] = {}
    with Mosquitto(layout.conf, "127.0.0.1", sport, log=tmp / "school.log"):
        district = Mosquitto(dlayout.conf, "127.0.0.1", dport, log=tmp / "db.log").start()
        ingest = Ingest(DistrictStore(url), "localhost", dport,
                        tls=Credentials.load(dlayout.service).tls_context()).start()  # fmt: skip
        assert ingest.wait_connected(30)
        console = _connect(layout.district_link, "localhost", sport)  # the link's own identity
        time.sleep(3)  # bench only: the bridge connects
        out.update(_lag(args, console, key, topic, ingest, store))
        district = _catchup(args, console, key, topic, store, dlayout, dport, tmp, district)
        out.update(CATCHUP, counts=ingest.counts())
        console.loop_stop()
        console.disconnect()
        ingest.close()
        ingest.store.close()
        district.close()
    store.close()
    return out


def _lag(args: argparse.Namespace, console: mqtt.Client, key: SigningKey, topic: str,
         ingest: Ingest, store: DistrictStore) -> dict[str, float]:  # fmt: skip
    """One result an envelope at a class's pace, through the bridge: made -> stored."""
    for n in range(args.lag_results):
        body = _body("sb", n, n % 40)
        console.publish(topic, seal(key, "sb", Kind.RESULT, Results(results=[body])), qos=1)
        time.sleep(1 / args.lag_rate)
    ingest.wait_for(lambda: ingest.counts().get("stored", 0) >= args.lag_results, 120)
    lags = sorted(r.received - r.at for r in store.results.list(limit=args.lag_results))
    return {"lag_p50_ms": 1e3 * statistics.median(lags),
            "lag_p99_ms": 1e3 * lags[min(len(lags) - 1, int(0.99 * len(lags)))]}  # fmt: skip


def _catchup(args: argparse.Namespace, console: mqtt.Client, key: SigningKey, topic: str,
             store: DistrictStore, dlayout: DistrictLayout, dport: int, tmp: Path,
             district: Mosquitto) -> Mosquitto:  # fmt: skip
    """The district goes away for "an hour", the school's bridge queues; back: until all stored."""
    district.close()
    infos = []
    for n in range(args.offline_results):
        body = _body("sb", 100_000 + n, n % 40)
        payload = seal(key, "sb", Kind.RESULT, Results(results=[body]))
        infos.append(console.publish(topic, payload, qos=1))
    for info in infos:
        info.wait_for_publish(120)
    time.sleep(2)  # bench only: the school's broker has them all
    before = store.results.count()
    t0 = time.monotonic()
    district = Mosquitto(dlayout.conf, "127.0.0.1", dport, log=tmp / "db2.log").start()
    want, first_at = before + args.offline_results, None
    while time.monotonic() - t0 < 300:
        n = store.results.count()
        if first_at is None and n > before:
            first_at = time.monotonic()
        if n >= want:
            break
        time.sleep(0.05)
    end = time.monotonic()
    CATCHUP.update(catchup_s=end - t0, drain_s=end - (first_at or end),
                   catchup_stored=store.results.count() - before)  # fmt: skip
    return district


#: What the catch-up measured (bench_bridge copies it into its answer).
CATCHUP: dict[str, float] = {}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--schools", type=int, default=50)
    parser.add_argument("--robots", type=int, default=40)
    parser.add_argument("--results", type=int, default=2, help="results per robot")
    parser.add_argument("--per-envelope", type=int, default=1)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--lag-results", type=int, default=400)
    parser.add_argument("--lag-rate", type=float, default=40.0, help="envelopes a second")
    parser.add_argument("--offline-results", type=int, default=4800)
    parser.add_argument("--skip-bridge", action="store_true")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    tmp = Path(tempfile.mkdtemp(prefix="roboclass-district-bench-"))
    if os.geteuid() == 0:
        tmp.chmod(0o711)  # Mosquitto drops root's rights and must pass through
    with TempPostgres(tmp / "pg") as pg:
        ingest = bench_ingest(args, tmp, pg)
        bridge = {} if args.skip_bridge else bench_bridge(args, tmp, pg)
    load = os.getloadavg()
    ratio = ingest["ingest_rate"] / ingest["bare_rate"]
    rows = [[
        f"{args.schools} x {args.robots} robots x {args.results}, {args.per_envelope} an envelope",
        f"{ingest['ingest_rate']:.0f} / {ingest['bare_rate']:.0f} per s", f"{ratio:.2f}x",
        f"{bridge.get('lag_p50_ms', float('nan')):.0f} / {bridge.get('lag_p99_ms', float('nan')):.0f} ms",
        f"{bridge.get('catchup_s', float('nan')):.1f} s ({bridge.get('drain_s', float('nan')):.1f} s drain)"
        f" for {args.offline_results}",
    ]]  # fmt: skip
    notes = [f"load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}",
             f"ingest counts: {ingest['counts']}; all stored: {ingest['done']}",
             f"catch-up stored {bridge.get('catchup_stored')} of {args.offline_results}"]  # fmt: skip
    if args.markdown:
        print_markdown(["district", "ingest / bare insert", "ratio", "bridge lag p50 / p99",
                        "catch-up after an hour"], rows, notes=notes)  # fmt: skip
    else:
        print(json.dumps({"args": vars(args), "ingest": ingest, "bridge": bridge}, indent=2))


if __name__ == "__main__":
    main()
