"""One MQTT connection that keeps itself up: the agent's and the console's.

A paho-mqtt 2.x client driven by a thread of ours, so reconnects wait a
*jittered* exponential backoff (40 robots must not hammer a restarted broker in
step). Subscriptions are renewed on every connect; a handler that raises is
logged and counted, never allowed to end the network loop.

A broker lets one connection per client id; the classroom Mosquitto makes the
certificate's name the client id, so a second computer with a robot's
certificate pushes the robot off (the broker closes its socket, with no reason
a 3.1.1 client can read). The link counts a connection that the broker closed
and that it got back at the first try as *pushed off*; :data:`PUSHED_OFF_TIMES`
of those within :data:`PUSHED_OFF_WINDOW_S` call ``on_pushed_off`` (once, until
the window is quiet again) and :attr:`Link.pushed_off` says how many::


    link = Link("127.0.0.1", 1883, client_id="rc-dev-robot-07-ab12",
                subscriptions=["roboclass/v1/s/r/estop"], on_message=handle,
                will=("roboclass/v1/s/r/dev/robot-07/up/state", b"...", True))
    link.start()
    link.wait_connected(5)
    link.publish(topic, payload, qos=1)
    link.close()
"""

from __future__ import annotations

import logging
import random
import select
import socket
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Self

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.reasoncodes import ReasonCode

from rcbase.closeable import Closeable

__all__ = ["PUSHED_OFF_TIMES", "PUSHED_OFF_WINDOW_S", "Backoff", "DeliveryHandler", "Link"]

logger = logging.getLogger(__name__)

MessageHandler = Callable[[str, bytes], None]
#: ``(topic, payload, mid, qos)``: a message to acknowledge with :meth:`Link.ack` once kept.
DeliveryHandler = Callable[[str, bytes, int, int], None]


def _write_in_network_thread(_client: mqtt.Client, _userdata: object, _sock: object) -> None:
    """paho's external-loop hook: nothing to do, the network thread writes (see Link)."""


class Backoff:
    """Exponential backoff with full jitter: a random wait in [min, min(max, base*2^n)]."""

    def __init__(
        self, base: float = 0.5, cap: float = 30.0, rng: random.Random | None = None
    ) -> None:
        self.base = base
        self.cap = cap
        self.attempt = 0
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography

    def next(self) -> float:
        ceiling = min(self.cap, self.base * 2**self.attempt)
        self.attempt = min(self.attempt + 1, 30)
        return self._rng.uniform(self.base / 2, max(self.base / 2, ceiling))

    def reset(self) -> None:
        self.attempt = 0


#: How long an urgent publish keeps Nagle's algorithm off on a link that otherwise uses it.
URGENT_NO_DELAY_S = 1.0
#: Connections closed by the broker and got back at once, this many times in
#: PUSHED_OFF_WINDOW_S seconds: another client with our identity is taking turns with us.
PUSHED_OFF_TIMES = 3
PUSHED_OFF_WINDOW_S = 60.0


class Link(Closeable):
    """A self-healing MQTT 3.1.1 connection (clean session; state lives in our stores).

    ``with Link(...) as link:`` starts it and closes it (cleanly) at the end.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        client_id: str,
        subscriptions: Sequence[str] = (),
        on_message: MessageHandler | None = None,
        on_connect: Callable[[], None] | None = None,
        on_disconnect: Callable[[], None] | None = None,
        on_pushed_off: Callable[[int], None] | None = None,
        will: tuple[str, bytes, bool] | None = None,
        keepalive: int = 10,
        backoff: Backoff | None = None,
        tls: ssl.SSLContext | None = None,
        no_delay: bool = True,
        clean_session: bool = True,
        on_delivery: DeliveryHandler | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.client_id = client_id
        self.subscriptions = list(subscriptions)
        self.handler_errors = 0
        self._on_message = on_message
        #: Set: messages are acknowledged by the caller (:meth:`ack`) once it has kept them,
        #: not by paho on receipt: with a persistent session, what was not kept comes again.
        self._on_delivery = on_delivery
        self._on_connect = on_connect
        self._on_disconnect = on_disconnect
        self._on_pushed_off = on_pushed_off
        #: When (monotonic) the broker closed a connection that came back at the first try.
        self._pushed: deque[float] = deque(maxlen=PUSHED_OFF_TIMES * 8)
        self._closed_by_broker = False  # the last connection ended by the broker's hand
        self._pushed_said = False
        self._keepalive = keepalive
        self._backoff = backoff or Backoff()
        #: Nagle's algorithm off for good (True), or only for a while after an urgent publish.
        self.no_delay = no_delay
        self._urgent_until = 0.0  # monotonic time until which Nagle stays off
        self._delay_lock = threading.Lock()
        self._stop = threading.Event()
        self._connected = threading.Event()
        self._subscribed = threading.Event()
        self._thread: threading.Thread | None = None
        self._send_will = False
        self._up = False  # on_connect was called for the current connection
        self.connects = 0
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            # False only for a reader the broker must queue for while it is away (the
            # district's ingest): its subscriptions and QoS 1 messages outlive a restart.
            clean_session=clean_session,
            protocol=mqtt.MQTTv311,
            manual_ack=on_delivery is not None,
        )
        if tls is not None:  # a classroom broker: fleet.broker.config.Credentials.tls_context()
            client.tls_set_context(tls)
        client.max_inflight_messages_set(100)
        client.max_queued_messages_set(0)
        if will is not None:
            topic, payload, retain = will
            client.will_set(topic, payload, qos=1, retain=retain)
        client.on_connect = self._handle_connect
        client.on_disconnect = self._handle_disconnect
        client.on_message = self._handle_message
        client.on_subscribe = self._handle_subscribe
        # Only our network thread may touch the socket. Without a loop thread of its
        # own, paho writes a publish from the publishing thread at once, while our
        # thread may be reading: a TLS socket is one SSL object, which two threads
        # must never use at the same time (a fresh TLS connection was lost about
        # once in 20 test runs). With these hooks set, paho queues the packet and
        # wakes our thread, which writes it.
        client.on_socket_register_write = _write_in_network_thread
        client.on_socket_unregister_write = _write_in_network_thread
        self.client = client

    # -- lifecycle -----------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def start(self) -> Self:
        if self.closed:
            raise RuntimeError("this link was closed")
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name=f"mqtt-{self.client_id}", daemon=True
            )
            self._thread.start()
        return self

    @property
    def pushed_off(self) -> int:
        """How often another connection with our identity pushed this one off lately
        (within :data:`PUSHED_OFF_WINDOW_S`); 0 when the window is quiet."""
        cutoff = time.monotonic() - PUSHED_OFF_WINDOW_S
        times = list(self._pushed)
        return sum(t >= cutoff for t in times)

    def wait_connected(self, timeout: float) -> bool:
        """True once connected and subscribed (within ``timeout`` seconds)."""
        return self._connected.wait(timeout) and self._subscribed.wait(timeout)

    def close(self, *, send_will: bool = False) -> None:
        """Disconnect (cleanly, so no last will, unless ``send_will``) and join the thread."""
        if not self.closed:
            self._send_will = send_will
        super().close()

    def _close(self) -> None:
        if not self._send_will:
            try:
                self.client.disconnect()
            except Exception:  # the socket may already be gone; we are closing anyway
                logger.debug("disconnect of %s failed", self.client_id, exc_info=True)
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        try:
            sock = self.client.socket()
            if sock is not None:
                sock.close()
        except OSError:
            logger.debug("closing the socket of %s failed", self.client_id)

    def __enter__(self) -> Self:
        return self.start()

    # -- publishing ----------------------------------------------------------

    def publish(
        self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False,
        urgent: bool = False,
    ) -> bool:  # fmt: skip
        """Queue a message; ``False`` when not connected (the caller's store keeps it).

        ``urgent`` (the e-stop): on a link that keeps Nagle's algorithm for throughput,
        it is turned off before the message is queued and stays off for
        :data:`URGENT_NO_DELAY_S`, so the message leaves at once.
        """
        if not self._connected.is_set():
            return False
        if urgent and not self.no_delay:
            with self._delay_lock:
                self._urgent_until = time.monotonic() + URGENT_NO_DELAY_S
                self._set_no_delay(True)
        info = self.client.publish(topic, payload, qos=qos, retain=retain)
        return info.rc == MQTTErrorCode.MQTT_ERR_SUCCESS

    # -- the network thread --------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.client.connect(self.host, self.port, keepalive=self._keepalive)
            except (OSError, ValueError) as exc:
                self._closed_by_broker = False  # gone for real: not another client's doing
                delay = self._backoff.next()
                logger.info(
                    "%s: cannot reach %s:%d (%s); retry in %.1f s",
                    self.client_id,
                    self.host,
                    self.port,
                    exc,
                    delay,
                )
                self._stop.wait(delay)
                continue
            with self._delay_lock:
                self._set_no_delay(self.no_delay or time.monotonic() < self._urgent_until)
            while not self._stop.is_set():
                rc = self.client.loop(timeout=0.05)
                if rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
                    self._closed_by_broker = self._up and rc == MQTTErrorCode.MQTT_ERR_CONN_LOST
                    break
                if self._urgent_until:
                    self._end_urgent()
            if self._stop.is_set():
                self._flush()  # close()'s DISCONNECT, so the broker sends no last will
            self._lost()
            if not self._stop.is_set():
                delay = self._backoff.next()
                logger.info("%s: connection lost; reconnect in %.2f s", self.client_id, delay)
                self._stop.wait(delay)
        self._lost()

    def _set_no_delay(self, on: bool) -> None:
        """Nagle's algorithm off (``on``) or on for this connection's socket (TCP_NODELAY).

        paho leaves Nagle on, which holds a small packet (an e-stop) while an earlier one
        is unacknowledged: with the peer's delayed ACK that is up to 40 ms on Linux
        (measured: the first robot stopped 40-55 ms after STOP ALL in 5 of 8 rounds of
        ``bench/fleet_bench.py``). Turning it off sends what is held at once.
        """
        sock = self.client.socket()
        if not isinstance(sock, socket.socket):  # ssl.SSLSocket is one too
            return
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, int(on))
        except OSError as exc:  # not TCP (a test's socket pair): nothing to hold back
            logger.debug("%s: cannot set TCP_NODELAY: %s", self.client_id, exc)

    def _end_urgent(self) -> None:
        """Nagle back on once an urgent publish's time is up (the link's thread)."""
        with self._delay_lock:
            if self._urgent_until and time.monotonic() >= self._urgent_until:
                self._urgent_until = 0.0
                self._set_no_delay(self.no_delay)

    def _flush(self, seconds: float = 1.0) -> None:
        """Write what is still queued (close()'s DISCONNECT), waiting at most ``seconds``."""
        deadline = time.monotonic() + seconds
        try:
            while self.client.want_write() and time.monotonic() < deadline:
                sock = self.client.socket()
                if sock is None:
                    return
                select.select([], [sock], [], max(0.0, deadline - time.monotonic()))
                if self.client.loop_write() != MQTTErrorCode.MQTT_ERR_SUCCESS:
                    return
        except (OSError, ValueError):
            logger.debug("%s: could not send what was queued before closing", self.client_id)

    def _lost(self) -> None:
        # paho's on_disconnect has already cleared _connected: _up says whether
        # this connection was announced (on_connect), so it is announced gone once.
        was, self._up = self._up, False
        self._connected.clear()
        self._subscribed.clear()
        if was and self._on_disconnect is not None:
            self._guard(self._on_disconnect)

    def _guard(self, fn: Callable[[], None]) -> None:
        try:
            fn()
        except Exception:  # a handler must never end the network loop
            self.handler_errors += 1
            logger.exception("%s: handler failed", self.client_id)

    def _handle_connect(
        self,
        client: mqtt.Client,
        _userdata: object,
        _flags: object,
        reason: ReasonCode,
        _props: object,
    ) -> None:
        if reason.is_failure:
            logger.warning("%s: broker refused the connection: %s", self.client_id, reason)
            return
        self.connects += 1
        self._backoff.reset()
        pushed_off = self._closed_by_broker
        if pushed_off:  # counted before on_connect, which may read pushed_off
            self._closed_by_broker = False
            self._pushed.append(time.monotonic())
        if self.subscriptions:
            client.subscribe([(t, 1) for t in self.subscriptions])
        else:
            self._subscribed.set()
        self._connected.set()
        self._up = True
        if self._on_connect is not None:
            self._guard(self._on_connect)
        if pushed_off:
            self._say_pushed_off()

    def _say_pushed_off(self) -> None:
        """Once per episode: the broker keeps closing our connection, yet takes us back at once."""
        times = self.pushed_off
        if times == 1:
            self._pushed_said = False  # the first in a quiet window: a new episode
        if times < PUSHED_OFF_TIMES or self._pushed_said:
            return
        self._pushed_said = True
        callback = self._on_pushed_off
        if callback is not None:
            self._guard(lambda: callback(times))
            return
        logger.warning(
            "%s: pushed off the broker %d times in %.0f s by another connection with this "
            "identity (another computer is using this certificate)",
            self.client_id,
            times,
            PUSHED_OFF_WINDOW_S,
        )

    def _handle_subscribe(self, *_: object) -> None:
        self._subscribed.set()

    def _handle_disconnect(self, *_: object) -> None:
        self._connected.clear()

    def ack(self, mid: int, qos: int) -> None:
        """Acknowledge a message ``on_delivery`` gave (QoS 1): the broker may forget it.

        Any thread; the network thread writes the PUBACK. After a reconnect the
        broker sends what was not acknowledged again (the same ``mid``, DUP set).
        """
        if qos > 0 and self._on_delivery is not None:
            self.client.ack(mid, qos)

    def _handle_message(
        self, _client: mqtt.Client, _userdata: object, message: mqtt.MQTTMessage
    ) -> None:
        delivery = self._on_delivery
        if delivery is not None:
            msg = message
            self._guard(lambda: delivery(msg.topic, bytes(msg.payload), msg.mid, msg.qos))
            return
        if self._on_message is None:
            return
        handler = self._on_message
        self._guard(lambda: handler(message.topic, bytes(message.payload)))
