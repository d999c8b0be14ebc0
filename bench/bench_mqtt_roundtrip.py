"""MQTT publish->receive round trip: the embedded amqtt broker against Mosquitto.

Both brokers run on loopback in the same run; the figure that matters is the
ratio (embedded / Mosquitto), since the demo and tests use amqtt while
classrooms use Mosquitto.

    .venv/bin/python bench/bench_mqtt_roundtrip.py [--messages 500] [--json | --markdown]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from report import print_markdown

from fleet.broker.embedded import EmbeddedBroker
from fleet.broker.mosquitto import Mosquitto


def measure(port: int, messages: int, qos: int) -> list[float]:
    """Round-trip times of `messages` sequential publishes to our own subscription."""
    got = threading.Event()
    ready = threading.Event()
    client = mqtt.Client(CallbackAPIVersion.VERSION2)
    client.on_message = lambda *_: got.set()
    client.on_subscribe = lambda *_: ready.set()
    client.connect("127.0.0.1", port)
    client.loop_start()
    client.subscribe("bench/rt", qos=qos)
    if not ready.wait(5):
        raise SystemExit("broker did not confirm the subscription")
    times = []
    payload = b"x" * 64
    try:
        for _ in range(messages):
            got.clear()
            start = time.perf_counter()
            client.publish("bench/rt", payload, qos=qos)
            if not got.wait(5):
                raise SystemExit("a message did not come back within 5 s")
            times.append(time.perf_counter() - start)
    finally:
        client.disconnect()
        client.loop_stop()
    return times


def with_mosquitto(messages: int, qos: int) -> list[float]:
    with Mosquitto.loopback() as broker:
        return measure(broker.port, messages, qos)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--markdown", action="store_true", help="a table for docs/benchmarks.md")
    args = parser.parse_args()
    rows = []
    for qos in (0, 1):
        with EmbeddedBroker() as broker:
            embedded = measure(broker.port, args.messages, qos)
        mosquitto = with_mosquitto(args.messages, qos)
        e50, m50 = statistics.median(embedded), statistics.median(mosquitto)
        e99 = statistics.quantiles(embedded, n=100)[98]
        m99 = statistics.quantiles(mosquitto, n=100)[98]
        rows.append(
            {
                "qos": qos,
                "mosquitto_p50_ms": round(m50 * 1e3, 3),
                "mosquitto_p99_ms": round(m99 * 1e3, 3),
                "embedded_p50_ms": round(e50 * 1e3, 3),
                "embedded_p99_ms": round(e99 * 1e3, 3),
                "ratio_p50": round(e50 / m50, 2),
            }
        )
    if args.json:
        print(json.dumps(rows))
        return
    if args.markdown:
        print_markdown(
            ["QoS", "Mosquitto p50 / p99 ms", "amqtt p50 / p99 ms", "amqtt / Mosquitto (p50)"],
            [
                [
                    r["qos"],
                    f"{r['mosquitto_p50_ms']:.3f} / {r['mosquitto_p99_ms']:.3f}",
                    f"{r['embedded_p50_ms']:.3f} / {r['embedded_p99_ms']:.3f}",
                    f"{r['ratio_p50']:.2f}x",
                ]
                for r in rows
            ],
            notes=[f"{args.messages} messages each, loopback."],
        )
        return
    print(
        f"MQTT round trip on loopback, {args.messages} messages each, python {sys.version.split()[0]}"
    )
    for r in rows:
        print(
            f"  QoS {r['qos']}: mosquitto p50 {r['mosquitto_p50_ms']:.3f} ms p99 {r['mosquitto_p99_ms']:.3f} ms | "
            f"embedded amqtt p50 {r['embedded_p50_ms']:.3f} ms p99 {r['embedded_p99_ms']:.3f} ms | "
            f"amqtt/mosquitto {r['ratio_p50']:.2f}x"
        )


if __name__ == "__main__":
    main()
