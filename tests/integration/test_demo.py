"""``roboclass demo --robots 30``: a whole class comes online, and the screen stays clean.

The real command runs as a subprocess on Mosquitto and on the embedded amqtt
broker (the fallback where Mosquitto is not installed). ``--duration 0``
stops it as soon as it has reported; it reports once every robot is online
(or after its deadline, and then says how many are).

amqtt 0.12.1 drops sessions when clients connect while others subscribe
(docs/upstream/amqtt-session-race.md); the embedded broker works around it,
and whatever amqtt says goes to the demo's log file, never to the screen.
"""

from __future__ import annotations

import json
import logging
import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from fleet.broker.embedded import AMQTT_LOGGERS, EmbeddedBroker
from fleet.broker.mosquitto import Mosquitto
from fleet.broker.roundtrip import roundtrip
from fleet.core.errors import BrokerError, PortInUseError
from roboclass import demo
from tests.conftest import system_part

pytestmark = pytest.mark.integration

ROBOTS = 30
# Traceback-like text, or a line from amqtt's or asyncio's loggers.
NOISE = re.compile(r"Traceback|Error|Exception|Unhandled|^\S+ \S+ \w+ (amqtt|asyncio)", re.M)


def _run_demo(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "roboclass", "--lang", "en", "demo"]
    command += ["--robots", str(ROBOTS), "--duration", "0", "--no-browser"]
    command += ["--port", "0", "--http-port", "0", *args]
    return subprocess.run(
        command,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=170,
        check=False,
    )


def _assert_quiet(done: subprocess.CompletedProcess[str]) -> None:
    assert done.returncode == 0, done.stdout + done.stderr
    assert not NOISE.search(done.stdout), done.stdout
    assert not NOISE.search(done.stderr), done.stderr


@pytest.mark.timeout(200)
def test_a_class_of_30_on_mosquitto_comes_online_with_nothing_on_stderr() -> None:
    system_part("mosquitto")
    done = _run_demo("--json", "--broker", "mosquitto")
    _assert_quiet(done)
    report = json.loads(done.stdout)
    assert report["broker"]["kind"] == "mosquitto"
    assert report["robots"]["ready"] is True
    assert report["robots"]["running"] == ROBOTS
    assert report["robots"]["devices"] == [f"robot-{i:02d}" for i in range(1, ROBOTS + 1)]
    assert report["console"]["devices_listed"] == ROBOTS
    # and a demo class to try the students' side: four students, each with a robot and a PIN
    students = report["students"]
    assert students["url"] == f"{report['console']['url']}/s/?code={students['code']}"
    assert len(students["code"]) == 6
    assert [(s["name"], s["robot"]) for s in students["students"]] == [
        ("Ana", "robot-01"),
        ("Bo", "robot-02"),
        ("Chen", "robot-03"),
        ("Dong", "robot-04"),
    ]
    assert all(re.fullmatch(r"[0-9]{4}", s["pin"]) for s in students["students"])


@pytest.mark.timeout(200)
def test_a_class_of_30_on_the_embedded_broker_shows_no_traceback() -> None:
    # as where Mosquitto is not installed: the environment forces the fallback
    done = _run_demo(env={"ROBOCLASS_DEMO_BROKER": "embedded"})
    _assert_quiet(done)
    assert "(amqtt, round trip" in done.stdout, done.stdout
    assert f"robots : {ROBOTS} of {ROBOTS} simulated robots online" in done.stdout, done.stdout
    assert "logs   : " in done.stdout
    assert re.search(r"students: http://\S+/s/\?code=[A-Z0-9]{6}", done.stdout), done.stdout
    assert re.search(r"PINs: Ana [0-9]{4}, Bo [0-9]{4}", done.stdout), done.stdout


def test_auto_uses_mosquitto_where_installed_else_the_embedded_broker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    system_part("mosquitto")
    broker = demo._start_broker("auto", 0, tmp_path)
    with broker:
        assert isinstance(broker, Mosquitto)
        assert broker.log == tmp_path / "mosquitto.log"

    def not_installed() -> Path:
        raise BrokerError("mosquitto is not installed: sudo apt install mosquitto")

    monkeypatch.setattr(demo, "find_mosquitto", not_installed)
    with demo._start_broker("auto", 0, tmp_path) as fallback:
        assert isinstance(fallback, EmbeddedBroker)
    with (
        pytest.raises(BrokerError, match="not installed"),
        demo._start_broker("mosquitto", 0, tmp_path),
    ):
        pass


def test_the_demo_sends_amqtt_to_its_log_file_not_to_the_screen(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "broker.log"
    with demo._broker_log(log):
        for name in AMQTT_LOGGERS:
            logging.getLogger(f"{name}.child").error("from %s", name)
    assert all(f"from {name}" in log.read_text() for name in AMQTT_LOGGERS)
    captured = capsys.readouterr()
    assert "from amqtt" not in captured.out + captured.err
    assert all(logging.getLogger(name).propagate for name in AMQTT_LOGGERS)


def test_embedded_broker_keeps_every_session_when_a_class_connects_at_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The amqtt race (scripts/amqtt_session_race.py) with paho clients, as robots connect.

    Each client has a retained message under its own filter, so every new
    session awaits while it walks the broker's filters; the next client's
    SUBSCRIBE lands meanwhile. Without the work-around about a third of the
    sessions die with "dictionary changed size during iteration".
    """
    clients = 40
    subscribed: set[int] = set()
    lock = threading.Lock()
    made: list[mqtt.Client] = []
    with caplog.at_level(logging.WARNING), EmbeddedBroker() as broker:
        seed = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="seed")
        seed.connect(broker.host, broker.port)
        seed.loop_start()
        for i in range(clients):
            seed.publish(f"state/{i}", b"online", qos=1, retain=True).wait_for_publish(5)
        seed.subscribe("state/#", qos=1)
        for i in range(clients):

            def on_connect(c: mqtt.Client, _u: object, _f: object, rc: object, _p: object) -> None:
                c.subscribe(f"state/{c._client_id.decode()[7:]}", qos=1)

            def on_subscribe(
                c: mqtt.Client, _u: object, _m: object, codes: object, _p: object
            ) -> None:
                with lock:
                    subscribed.add(int(c._client_id.decode()[7:]))

            client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"client-{i:03d}")
            client.on_connect = on_connect
            client.on_subscribe = on_subscribe
            client.reconnect_delay_set(30, 30)  # a lost session shows as a missing client
            client.connect_async(broker.host, broker.port)
            client.loop_start()
            made.append(client)
            time.sleep(0.005)  # as robots booting: a few ms apart
        deadline = time.monotonic() + 20
        while len(subscribed) < clients and time.monotonic() < deadline:
            time.sleep(0.05)
        for client in [*made, seed]:
            client.disconnect()
            client.loop_stop()
    assert subscribed == set(range(clients))
    broker_errors = [r for r in caplog.records if r.name.startswith(("amqtt", "fleet.broker"))]
    assert not [r for r in broker_errors if r.levelno >= logging.ERROR], [
        r.getMessage() for r in broker_errors
    ]


def test_without_the_demo_extra_the_embedded_broker_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "amqtt.broker", None)  # as if amqtt were not installed
    broker = EmbeddedBroker()
    with pytest.raises(BrokerError, match=r"roboclass\[demo\].*apt install mosquitto"):
        broker.start()
    assert broker.closed and not broker.running


@pytest.mark.parametrize("kind", ["mosquitto", "embedded"])
def test_when_1883_is_taken_the_demo_takes_a_free_port(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if kind == "mosquitto":
        system_part("mosquitto")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        monkeypatch.setattr(demo, "DEFAULT_PORT", taken)  # as a Mosquitto service on 1883
        with demo._start_broker(kind, None, tmp_path) as broker:
            assert broker.port != taken
            assert roundtrip(broker.host, broker.port) > 0
        with pytest.raises(PortInUseError, match="another"):
            demo._start_broker(kind, taken, tmp_path)
