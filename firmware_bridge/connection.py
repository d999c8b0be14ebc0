"""The connection layer of the link: :class:`Connection`.

One serial port and one reader thread that splits its bytes into frames,
hands replies to whoever waits for them, keeps the latest telemetry and
reopens a lost port; the handshake (HELLO until the board answers, then its
protocol checked); requests matched to their replies, with timeouts.

It sends no setpoints and no configuration: the
:class:`~firmware_bridge.setpoints.SetpointStreamer` calls :meth:`Connection.maintain`
on every heartbeat (one thread, one clock: a new handshake never races a
setpoint) and :class:`~firmware_bridge.commands.Commands` re-sends the
configuration from an :meth:`Connection.on_relink` callback. Helpers:
``transport.py`` (the port), ``replies.py`` (reply matching, NAKs,
HELLO checks), ``feed.py`` (the latest telemetry, callback lists).
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import serial

from firmware_bridge import ports
from firmware_bridge.errors import (
    BridgeClosed,
    BridgeTimeout,
    CorruptFrame,
    NoBoard,
    VersionMismatch,
)
from firmware_bridge.feed import Callbacks, TelemetryFeed
from firmware_bridge.messages import Hello, Telemetry, parse_hello, parse_telemetry
from firmware_bridge.protocol import (
    PROTOCOL_MAJOR,
    PROTOCOL_MINOR,
    Flag,
    Frame,
    FrameDecoder,
    MsgType,
    encode_frame,
    pack,
    unpack,
)
from firmware_bridge.replies import Key, Pending, Waiter, check_ack, check_hello
from firmware_bridge.transport import DEFAULT_BAUD, SerialLike, open_serial, read_some
from rcbase.closeable import Closeable
from rcbase.threads import join_thread

__all__ = ["Connection", "LinkStats", "join_thread"]

logger = logging.getLogger(__name__)

REOPEN_EVERY = 0.2  # seconds between tries to open a lost port again


@dataclass
class LinkStats:
    """Counters of one link (host side; the board's own are in :meth:`Connection.ping`)."""

    frames_in: int = 0
    corrupt_in: int = 0
    gaps_in: int = 0
    frames_out: int = 0
    retries: int = 0
    timeouts: int = 0
    reconnects: int = 0
    reboots: int = 0
    telemetry_gaps: int = 0
    cut_in: int = 0  # telemetry frames the board cut short for a reply (not corrupt)

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


class Connection(Closeable):
    """An open port to a board, its reader thread, and the handshake done on it.

    ``Connection(port)`` opens the port, starts the reader and does the handshake
    (``timeout`` seconds at most: NoBoard or VersionMismatch otherwise).
    :meth:`close` stops the reader (joined within 2 s) and closes the port; it
    sends nothing: stopping the board is :class:`~firmware_bridge.Bridge`'s job.
    """

    def __init__(
        self,
        port: str,
        *,
        baud: int = DEFAULT_BAUD,
        timeout: float = 3.0,
        telemetry_ms: int = 20,
        reconnect: bool = True,
        transport: Callable[[str, int], SerialLike] = open_serial,
    ) -> None:
        self.port = port
        self.baud = baud
        self.timeout = timeout
        self.telemetry_ms = telemetry_ms  # the period the board was told; see _stale()
        self.reconnect = reconnect
        self.stats = LinkStats()
        self._transport = transport
        self._identity = ports.identify(port)
        self._decoder = FrameDecoder()
        self._write_lock = threading.Lock()
        self._seq = 0
        self._tokens = itertools.count(1)
        self._pending = Pending()
        self._hello: Hello | None = None
        self._hello_event = threading.Event()
        self._linked = threading.Event()  # handshake done on the current connection
        self._feed = TelemetryFeed(port)
        self._rebooted_callbacks: Callbacks[[Hello]] = Callbacks("reboot")
        self._relink_callbacks: Callbacks[[]] = Callbacks("relink")
        self._stopped_callbacks: Callbacks[[]] = Callbacks("stopped")
        self._relinked = threading.Event()  # a new handshake: configuration to send again
        self._rehandshake = threading.Event()
        self._stop = threading.Event()
        self._fatal: VersionMismatch | None = None
        self._last_rx = time.monotonic()
        self._notify_reboot = False
        self._serial: SerialLike | None = self._open_port()
        self._reader = threading.Thread(
            target=self._read_loop, name=f"bridge-reader {port}", daemon=True
        )
        self._reader.start()
        try:
            self.handshake(timeout)
        except BaseException:
            self.close()
            raise

    def _close(self) -> None:
        self._stop.set()
        join_thread(self._reader)
        self._close_port()
        self._pending.wake_all()
        self._feed.close()

    # --- what the board said -------------------------------------------------------

    @property
    def hello(self) -> Hello:
        """The board's HELLO_REPLY of the current session."""
        if self._hello is None:
            raise BridgeClosed("no handshake yet")
        return self._hello

    @property
    def connected(self) -> bool:
        """True while the port is open and the handshake is done."""
        return self._linked.is_set() and not self.closed

    def wait_connected(self, timeout: float = 5.0) -> bool:
        """Wait until the link is up again (after an unplug); False after ``timeout``."""
        return self._linked.wait(timeout) and not self.closed

    @property
    def telemetry(self) -> Telemetry | None:
        """The latest telemetry frame, or None before the first one."""
        return self._feed.latest

    def wait_telemetry(
        self, predicate: Callable[[Telemetry], bool] | None = None, timeout: float = 1.0
    ) -> Telemetry:
        """The next telemetry frame (for which ``predicate`` is true); BridgeTimeout after ``timeout``."""
        return self._feed.wait(predicate, timeout)

    # --- callbacks -------------------------------------------------------------------

    def on_telemetry(self, callback: Callable[[Telemetry], None]) -> Callable[[], None]:
        """Call ``callback(telemetry)`` for each frame; returns a function that unsubscribes.

        Callbacks run in the reader thread: keep them short and never wait for
        the board from one (the reader could not deliver the answer).
        """
        return self._feed.callbacks.add(callback)

    def on_reboot(self, callback: Callable[[Hello], None]) -> Callable[[], None]:
        """Call ``callback(new_hello)`` when the board rebooted (configuration was re-sent)."""
        return self._rebooted_callbacks.add(callback)

    def on_relink(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback()`` after each new handshake (a reconnect, a reboot), before on_reboot's.

        It runs in the thread that calls :meth:`maintain` and may send requests:
        the place to give the board its configuration again. A BridgeError it
        raises leaves :meth:`maintain` (the on_reboot callbacks wait for the next time).
        """
        return self._relink_callbacks.add(callback)

    def on_stopped(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback()`` whenever the board shows it stopped by itself.

        That is each telemetry frame with its watchdog's fail-safe on (before the
        frame is published) and a reboot seen in a handshake.
        """
        return self._stopped_callbacks.add(callback)

    # --- requests ----------------------------------------------------------------------

    def ping(self, timeout: float = 1.0) -> dict[str, float]:
        """Round trip in seconds and the board's counters."""
        token = next(self._tokens) & 0xFFFFFFFF
        start = time.perf_counter()
        frame = self._wait_for(("pong", token), MsgType.PING, pack(MsgType.PING, token), timeout)
        rtt = time.perf_counter() - start
        _, board_ms, corrupt, gaps, trips = unpack(MsgType.PONG, frame.payload)
        return {
            "rtt": rtt,
            "board_ms": board_ms,
            "board_corrupt": corrupt,
            "board_gaps": gaps,
            "watchdog_trips": trips,
        }

    def send(self, msg: MsgType, payload: bytes) -> int:
        """Write one frame that asks for no answer (a setpoint); returns its seq."""
        return self._send(msg, payload)

    def request(self, msg: MsgType, payload: bytes, tries: int = 3, each: float = 0.2) -> None:
        """Send with ACK_REQUESTED; retry on silence; raise on NAK.

        Waits ``each`` seconds for the ACK, ``tries`` times: BridgeTimeout after
        that, NotArmed or CommandRefused when the board refuses.
        """
        for attempt in range(tries):
            waiter = Waiter()
            seq = -1
            try:
                seq = self._send(msg, payload, Flag.ACK_REQUESTED, waiter)
                if waiter.event.wait(each) and waiter.frame is not None:
                    t = self._feed.latest
                    check_ack(msg, waiter.frame, failsafe=t is not None and t.failsafe)
                    return
            finally:
                self._pending.remove(("seq", seq))
            if self.closed:
                raise BridgeClosed(f"the bridge to {self.port} was closed")
            if attempt + 1 < tries:
                self.stats.retries += 1
        self.stats.timeouts += 1
        raise BridgeTimeout(
            f"{self.port} did not acknowledge {msg.name} after {tries} tries: "
            "check the cable and that the board runs RoboClass firmware"
        )

    # --- the handshake and keeping the link up ---------------------------------------

    def handshake(self, timeout: float, cancel: threading.Event | None = None) -> Hello:
        """Send HELLO every 100 ms until the board answers; NoBoard after ``timeout``.

        Raises VersionMismatch when the board speaks another major version.
        ``cancel`` (when set) ends the wait early with NoBoard.
        """
        deadline = time.monotonic() + timeout
        self._hello_event.clear()
        while True:
            with contextlib.suppress(NoBoard):  # the port may still be reopening
                self._send(MsgType.HELLO, pack(MsgType.HELLO, PROTOCOL_MAJOR, PROTOCOL_MINOR))
            if self._hello_event.wait(min(0.1, max(0.0, deadline - time.monotonic()))):
                break
            if time.monotonic() >= deadline or (cancel is not None and cancel.is_set()):
                raise NoBoard(
                    f"no RoboClass firmware answered on {self.port} within {timeout} s: "
                    f"flash it with `roboclass bridge flash --port {self.port}`"
                )
        hello = self._pending_hello
        check_hello(hello, self.port)
        previous, self._hello = self._hello, hello
        self._linked.set()
        if previous is not None and previous.boot_id != hello.boot_id:
            self._rebooted(hello)
        return hello

    def maintain(self, cancel: threading.Event | None = None) -> None:
        """Handshake again when needed; then call the on_relink and on_reboot callbacks.

        The heartbeat's thread calls this before each setpoint. Other firmware
        flashed meanwhile is lasting: the port is closed and every later call
        raises that VersionMismatch.
        """
        try:
            self._maintain(cancel)
        except VersionMismatch as e:  # someone put other firmware on the board meanwhile
            logger.error("%s", e)
            self._fatal = e
            self._linked.clear()
            self._close_port()

    def _maintain(self, cancel: threading.Event | None) -> None:
        if self._linked.is_set() and self._stale():
            logger.warning("nothing from %s for a while: handshake again", self.port)
            self._rehandshake.set()
        broken = self._serial is not None and not self._linked.is_set()
        if self._fatal is None and (self._rehandshake.is_set() or broken):
            self._rehandshake.clear()
            self._redo_handshake(cancel)
        if self._relinked.is_set() and self._linked.is_set():
            self._relinked.clear()
            self._relink_callbacks.call_raising()  # a BridgeError ends this beat
            if not self._notify_reboot:
                return
            self._notify_reboot = False
            self._rebooted_callbacks.call(self.hello)

    def _stale(self) -> bool:
        """Telemetry is on but nothing arrived for 5 periods (at least 0.5 s)."""
        if not self.telemetry_ms:
            return False
        return time.monotonic() - self._last_rx > max(0.5, 5 * self.telemetry_ms / 1000)

    def _redo_handshake(self, cancel: threading.Event | None) -> None:
        self._linked.clear()
        self._feed.forget()
        self._decoder.reset_sequence()
        hello = self.handshake(self.timeout, cancel)
        # a reconnect to the same boot gets the configuration too: the board may
        # have lost nothing, but sending the same configuration twice is harmless.
        self._relinked.set()
        self._rehandshake.clear()  # the board's unsolicited HELLO_REPLY asked for this one
        logger.info("handshake again with %s: firmware %s", self.port, hello.firmware)

    def _rebooted(self, hello: Hello) -> None:
        self.stats.reboots += 1
        logger.warning("the board on %s rebooted (boot id %08x)", self.port, hello.boot_id)
        self._stopped_callbacks.call()
        self._notify_reboot = True
        self._relinked.set()

    # --- internals: sending --------------------------------------------------------

    def _send(
        self, msg: MsgType, payload: bytes, flags: Flag = Flag.NONE, waiter: Waiter | None = None
    ) -> int:
        """Write one frame; returns its seq. ``waiter`` gets the ACK/NAK of that seq."""
        if self.closed:
            raise BridgeClosed(f"the bridge to {self.port} is closed")
        if self._fatal is not None:
            raise self._fatal
        with self._write_lock:
            port = self._serial
            if port is None:
                raise NoBoard(f"{self.port} is disconnected: check the USB cable (reconnecting)")
            seq = self._seq
            self._seq = (self._seq + 1) & 0xFF
            if waiter is not None:
                self._pending.add(("seq", seq), waiter)
            try:
                port.write(encode_frame(Frame(msg, seq, payload, flags)))
            except (serial.SerialException, OSError) as e:
                self._lost(e)
                raise NoBoard(f"writing to {self.port} failed: {e}") from e
            self.stats.frames_out += 1
            return seq

    def _wait_for(
        self,
        key: Key,
        msg: MsgType,
        payload: bytes,
        timeout: float,
        flags: Flag = Flag.NONE,
    ) -> Frame:
        waiter = Waiter()
        self._pending.add(key, waiter)
        try:
            self._send(msg, payload, flags)
            if not waiter.event.wait(timeout) or waiter.frame is None:
                self.stats.timeouts += 1
                if self.closed:
                    raise BridgeClosed(f"the bridge to {self.port} was closed")
                raise BridgeTimeout(f"{self.port} did not answer {msg.name} within {timeout} s")
            return waiter.frame
        finally:
            self._pending.remove(key)

    # --- internals: the port and the reader ------------------------------------------

    def _open_port(self) -> SerialLike:
        device = ports.find_again(self.port, self._identity)
        try:
            return self._transport(device, self.baud)
        except (serial.SerialException, OSError) as e:
            raise NoBoard(
                f"cannot open {device}: {e}. Is the board plugged in? "
                "`roboclass bridge ports` lists the boards this computer sees"
            ) from e

    def _close_port(self) -> None:
        with self._write_lock:
            self._drop_port()

    def _lost(self, error: Exception) -> None:
        """The port went away (unplugged, closed by the other side)."""
        if self._linked.is_set():
            logger.warning("lost %s: %s", self.port, error)
        self._linked.clear()
        self._drop_port()  # not under the write lock: our caller may hold it

    def _drop_port(self) -> None:
        port, self._serial = self._serial, None
        if port is not None:
            try:
                port.close()
            except (serial.SerialException, OSError) as e:
                logger.debug("closing %s: %s", self.port, e)

    def _read_loop(self) -> None:
        while not self._stop.is_set():
            port = self._serial
            if port is None:
                self._reopen()
                continue
            try:
                data = read_some(port)
            except (serial.SerialException, OSError, TypeError, AttributeError) as e:
                if self._stop.is_set():
                    return
                self._lost(e)
                continue
            if data:
                for frame in self._decoder.feed(data):
                    self._last_rx = time.monotonic()
                    self._dispatch(frame)
                self.stats.frames_in = self._decoder.stats.frames
                self.stats.corrupt_in = self._decoder.stats.corrupt
                self.stats.gaps_in = self._decoder.stats.gaps
                self.stats.cut_in = self._decoder.stats.cut

    def _reopen(self) -> None:
        if self._stop.wait(REOPEN_EVERY) or not self.reconnect or self._fatal is not None:
            return
        try:
            port = self._open_port()
        except NoBoard as e:
            logger.debug("still waiting for %s: %s", self.port, e)
            return
        self._decoder.reset_sequence()
        with self._write_lock:
            self._serial = port
        self.stats.reconnects += 1
        logger.info("reopened %s", self.port)
        self._rehandshake.set()

    def _dispatch(self, frame: Frame) -> None:
        try:
            msg = MsgType(frame.type)
        except ValueError:
            logger.debug("unknown message type 0x%02x", frame.type)
            return
        if msg is MsgType.HELLO_REPLY:
            try:
                hello = parse_hello(frame.payload)
            except CorruptFrame as e:
                logger.warning("bad HELLO_REPLY: %s", e)
                return
            self._pending_hello = hello
            if self._hello is not None and hello.boot_id != self._hello.boot_id:
                self._rehandshake.set()  # the board rebooted: maintain() confirms and re-configures
            self._hello_event.set()
            return
        if frame.version != PROTOCOL_MAJOR:
            return
        try:
            if msg is MsgType.TELEMETRY:
                self._on_telemetry(parse_telemetry(frame.payload))
            elif msg in (MsgType.ACK, MsgType.NAK):
                self._pending.answer(
                    ("seq", frame.payload[0]) if frame.payload else ("seq", -1), frame
                )
            elif msg is MsgType.PONG:
                self._pending.answer(("pong", unpack(MsgType.PONG, frame.payload)[0]), frame)
            elif msg is MsgType.LOG and frame.payload:
                text = frame.payload[1:].decode("utf-8", "replace")
                logger.log(frame.payload[0], "board %s: %s", self.port, text)
        except CorruptFrame as e:
            logger.warning("bad %s from %s: %s", msg.name, self.port, e)

    def _on_telemetry(self, t: Telemetry) -> None:
        previous = self._feed.latest
        if previous is not None:
            if t.board_ms < previous.board_ms:
                self._rehandshake.set()  # the board's clock went back: it rebooted
            elif (t.seq - previous.seq) & 0xFFFF > 1:
                self.stats.telemetry_gaps += (t.seq - previous.seq - 1) & 0xFFFF
            if t.failsafe and not previous.failsafe:
                logger.warning(
                    "the board on %s stopped itself (link watchdog): arm() to move again", self.port
                )
        if t.failsafe:
            self._stopped_callbacks.call()
        self._feed.publish(t)

    _pending_hello: Hello  # the latest HELLO_REPLY, set by the reader before _hello_event
