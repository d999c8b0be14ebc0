"""The two brokers RoboClass runs on, for real: Mosquitto and embedded amqtt."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

import fleet.core.link
from fleet.broker.embedded import EmbeddedBroker
from fleet.broker.mosquitto import Mosquitto
from fleet.broker.roundtrip import roundtrip
from fleet.core.errors import BrokerError
from fleet.core.link import Link
from tests.conftest import free_port, system_part
from tests.integration.test_fleet_support import wait_until


@pytest.fixture
def mosquitto() -> Iterator[Mosquitto]:
    system_part("mosquitto")
    with Mosquitto.loopback() as broker:
        yield broker


@pytest.mark.integration
def test_mosquitto_round_trip(mosquitto: Mosquitto) -> None:
    assert roundtrip(mosquitto.host, mosquitto.port) > 0
    mosquitto.close()
    assert mosquitto.closed
    with pytest.raises(BrokerError, match="is it running"):
        roundtrip(mosquitto.host, mosquitto.port, timeout=1)


@pytest.mark.integration
def test_mosquitto_bad_config_says_what_mosquitto_said(tmp_path: Path) -> None:
    system_part("mosquitto")
    conf = tmp_path / "bad.conf"
    conf.write_text("listener 1883 127.0.0.1\nno_such_option yes\n")
    with pytest.raises(BrokerError, match="no_such_option"):
        Mosquitto(conf, "127.0.0.1", free_port()).start()


def test_embedded_broker_round_trip() -> None:
    with EmbeddedBroker() as broker:
        assert broker.running
        assert roundtrip(broker.host, broker.port, qos=0) > 0
        assert roundtrip(broker.host, broker.port, qos=1) > 0
    assert broker.closed
    assert not broker.running
    broker.close()  # a second close is harmless


def test_embedded_broker_refuses_other_interfaces() -> None:
    with pytest.raises(BrokerError, match="only listens on loopback"):
        EmbeddedBroker(host="0.0.0.0")


def test_embedded_broker_port_in_use_says_what_to_do() -> None:
    with EmbeddedBroker() as first, pytest.raises(BrokerError, match="--port"):
        EmbeddedBroker(port=first.port).start()


def test_closed_broker_cannot_restart() -> None:
    broker = EmbeddedBroker()
    broker.close()
    with pytest.raises(BrokerError, match="closed"):
        broker.start()


def test_roundtrip_to_nothing_explains() -> None:
    with pytest.raises(BrokerError, match="is it running"):
        roundtrip("127.0.0.1", free_port(), timeout=1)


@pytest.mark.integration
def test_a_link_sends_small_packets_at_once_and_so_does_the_test_broker(
    mosquitto: Mosquitto,
) -> None:
    """Nagle's algorithm holds a small packet (an e-stop) behind an unacknowledged one:
    up to 40 ms with the peer's delayed ACK. Both ends turn it off, as the classroom's
    Mosquitto does (``set_tcp_nodelay true``)."""
    assert "set_tcp_nodelay true" in mosquitto.config.read_text(encoding="utf-8")
    with Link(mosquitto.host, mosquitto.port, client_id="rc-test-nodelay") as link:
        assert link.wait_connected(10)
        sock = link.client.socket()
        assert sock is not None
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


def _no_delay(link: Link) -> bool:
    sock = link.client.socket()
    assert isinstance(sock, socket.socket)
    return sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


@pytest.mark.integration
def test_a_link_that_keeps_nagle_turns_it_off_for_an_urgent_publish_for_a_while(
    mosquitto: Mosquitto, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The console keeps Nagle's algorithm (a burst of acks goes in few segments) but
    sends its e-stop ``urgent``: Nagle is off before it is queued, and on again later."""
    monkeypatch.setattr(fleet.core.link, "URGENT_NO_DELAY_S", 0.2)
    with Link(mosquitto.host, mosquitto.port, client_id="rc-test-nagle", no_delay=False) as link:
        assert link.wait_connected(10)
        assert not _no_delay(link)
        assert link.publish("roboclass/test/estop", b"stop", urgent=True)
        assert _no_delay(link)
        wait_until(lambda: not _no_delay(link), 10, "Nagle on again")
