"""A publish-subscribe round trip through a broker: proof that it really works.

Used by ``roboclass demo`` after it starts the broker, and by the tests
against Mosquitto and the embedded broker.
"""

from __future__ import annotations

import secrets
import threading
import time

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from fleet.core.errors import BrokerError

__all__ = ["roundtrip"]


def roundtrip(host: str, port: int, *, timeout: float = 5.0, qos: int = 1) -> float:
    """Publish one message to a fresh topic and wait for it to come back.

    Returns the round-trip time in seconds; raises :class:`BrokerError` with
    advice when the broker cannot be reached or the message does not arrive.
    """
    topic = f"roboclass/selftest/{secrets.token_hex(8)}"
    payload = secrets.token_bytes(16)
    subscribed = threading.Event()
    arrived = threading.Event()
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=f"rc-selftest-{secrets.token_hex(4)}"
    )

    def on_subscribe(*_: object) -> None:
        subscribed.set()

    def on_message(_c: mqtt.Client, _u: object, message: mqtt.MQTTMessage) -> None:
        if message.topic == topic and message.payload == payload:
            arrived.set()

    client.on_subscribe = on_subscribe
    client.on_message = on_message
    try:
        client.connect(host, port, keepalive=10)
    except OSError as exc:
        raise BrokerError(
            f"cannot connect to the MQTT broker at {host}:{port} ({exc.strerror or exc}); "
            "is it running? Start one with `roboclass demo` or `roboclass broker up`."
        ) from exc
    client.loop_start()
    try:
        client.subscribe(topic, qos=qos)
        if not subscribed.wait(timeout):
            raise BrokerError(
                f"the broker at {host}:{port} did not confirm a subscription in {timeout} s"
            )
        start = time.perf_counter()
        client.publish(topic, payload, qos=qos)
        if not arrived.wait(timeout):
            raise BrokerError(
                f"a message to the broker at {host}:{port} did not come back in {timeout} s"
            )
        return time.perf_counter() - start
    finally:
        client.disconnect()
        client.loop_stop()
