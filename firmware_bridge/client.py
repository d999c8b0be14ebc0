"""The host side of the link: :class:`Bridge`.

>>> from firmware_bridge import Bridge
>>> with Bridge.open("/dev/ttyUSB0") as board:      # doctest: +SKIP
...     board.arm()
...     board.drive(0.4, 0.4)                      # streamed at 50 Hz until changed
...     print(board.telemetry)

Threads: a reader (splits frames, answers waiters, delivers telemetry, notices
a lost port and reopens it) and a streamer (sends the latest DRIVE setpoint
at ``setpoint_hz``, which is also the heartbeat the firmware's watchdog needs,
and redoes the handshake and the configuration after a reconnect or a board
reboot). Both stop on :meth:`Bridge.close`, which first sends STOP_ALL.
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import serial

from firmware_bridge import ports
from firmware_bridge.errors import (
    BridgeClosed,
    BridgeError,
    BridgeTimeout,
    CommandRefused,
    CorruptFrame,
    NoBoard,
    NotArmed,
    VersionMismatch,
)
from firmware_bridge.messages import (
    Capability,
    Hello,
    PinMode,
    Telemetry,
    parse_hello,
    parse_telemetry,
)
from firmware_bridge.protocol import (
    PROTOCOL_MAJOR,
    PROTOCOL_MINOR,
    ErrorCode,
    Flag,
    Frame,
    FrameDecoder,
    MsgType,
    encode_frame,
    name_bytes,
    pack,
    table_hash,
    unpack,
)

__all__ = ["Bridge", "LinkStats", "SerialLike"]

logger = logging.getLogger(__name__)

DEFAULT_BAUD = 115200
READ_TIMEOUT = 0.02  # seconds a read waits; bounds how fast the reader notices close()
REOPEN_EVERY = 0.2


class SerialLike(Protocol):
    """What Bridge needs from a port (pyserial's Serial has it)."""

    @property
    def in_waiting(self) -> int: ...
    def read(self, size: int = 1) -> bytes: ...
    def write(self, data: bytes, /) -> int | None: ...
    def close(self) -> None: ...


def open_serial(device: str, baud: int) -> SerialLike:
    """pyserial, with timeouts so no call can block for ever."""
    port = serial.Serial(device, baud, timeout=READ_TIMEOUT, write_timeout=0.5)
    return port  # type: ignore[no-any-return]


@dataclass
class LinkStats:
    """Counters of one Bridge (host side; the board's own are in :meth:`Bridge.ping`)."""

    frames_in: int = 0
    corrupt_in: int = 0
    gaps_in: int = 0
    frames_out: int = 0
    retries: int = 0
    timeouts: int = 0
    reconnects: int = 0
    reboots: int = 0
    telemetry_gaps: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


class _Waiter:
    def __init__(self) -> None:
        self.event = threading.Event()
        self.frame: Frame | None = None


class Bridge:
    """A connected board. Open it with ``Bridge.open(port)`` or ``Bridge(port)``.

    Motor values are -1..1, distances metres, angles degrees, volts volts.
    Every call that waits for the board takes at most ``timeout`` seconds
    (configuration commands: ``tries`` x 0.2 s) and raises BridgeTimeout
    rather than block.
    """

    def __init__(
        self,
        port: str,
        *,
        baud: int = DEFAULT_BAUD,
        timeout: float = 3.0,
        watchdog_ms: int = 300,
        telemetry_ms: int = 20,
        setpoint_hz: float = 50.0,
        reconnect: bool = True,
        transport: Callable[[str, int], SerialLike] = open_serial,
    ) -> None:
        self.port = port
        self.baud = baud
        self.timeout = timeout
        self.watchdog_ms = watchdog_ms
        self.telemetry_ms = telemetry_ms
        self.setpoint_hz = setpoint_hz
        self.reconnect = reconnect
        self.stats = LinkStats()
        self._transport = transport
        self._identity = ports.identify(port)
        self._serial: SerialLike | None = None
        self._decoder = FrameDecoder()
        self._write_lock = threading.Lock()
        self._state = threading.Condition()
        self._seq = 0
        self._tokens = itertools.count(1)
        self._waiters: dict[tuple[str, int], _Waiter] = {}
        self._hello: Hello | None = None
        self._hello_event = threading.Event()
        self._linked = threading.Event()  # handshake done on the current connection
        self._telemetry: Telemetry | None = None
        self._listeners: list[Callable[[Telemetry], None]] = []
        self._reboot_listeners: list[Callable[[Hello], None]] = []
        self._setpoint = (0, 0)
        self._config: dict[tuple[int, int], tuple[MsgType, bytes]] = {}
        self._resend_config = threading.Event()
        self._rehandshake = threading.Event()
        self._stop = threading.Event()
        self._stop_stream = threading.Event()
        self._closed = False
        self._closing = False
        self._fatal: VersionMismatch | None = None
        self._last_rx = time.monotonic()
        self._notify_reboot = False
        self._serial = self._open_port()
        self._reader = threading.Thread(target=self._read_loop, name=f"bridge-reader {port}")
        self._reader.daemon = True
        self._reader.start()
        self._streamer: threading.Thread | None = None
        try:
            self._handshake(timeout)
            self._configure(MsgType.CONFIG, 0, pack(MsgType.CONFIG, watchdog_ms, telemetry_ms))
        except BaseException:
            self.close()
            raise
        self._streamer = threading.Thread(target=self._stream_loop, name=f"bridge-streamer {port}")
        self._streamer.daemon = True
        self._streamer.start()
        atexit.register(self.close)

    @classmethod
    def open(cls, port: str, **kwargs: Any) -> Bridge:
        """Open ``port`` (a device, a by-id link or a simulator pty) and do the handshake."""
        return cls(port, **kwargs)

    # --- lifecycle ---------------------------------------------------------------

    def __enter__(self) -> Bridge:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """Stop the robot (STOP_ALL), stop the threads, close the port. Safe to call twice."""
        if self._closed or self._closing:
            return
        self._closing = True
        atexit.unregister(self.close)
        self._stop_stream.set()
        self._join(self._streamer)
        if self._linked.is_set():
            try:
                self._request(MsgType.STOP_ALL, b"", tries=2)
            except BridgeError as e:
                logger.warning("could not stop the board while closing %s: %s", self.port, e)
        self._closed = True
        self._stop.set()
        self._join(self._reader)
        self._close_port()
        with self._state:
            for waiter in self._waiters.values():
                waiter.event.set()
            self._state.notify_all()

    @staticmethod
    def _join(thread: threading.Thread | None) -> None:
        if thread is not None and thread is not threading.current_thread() and thread.ident:
            thread.join(timeout=2)
            if thread.is_alive():
                logger.error("%s did not stop within 2 s", thread.name)

    # --- what the board said -------------------------------------------------------

    @property
    def hello(self) -> Hello:
        """The board's HELLO_REPLY of the current session."""
        if self._hello is None:
            raise BridgeClosed("no handshake yet")
        return self._hello

    @property
    def name(self) -> str | None:
        """The name stored on the board (``robot-07``); None if it has none or speaks 1.0."""
        return self.hello.name

    def set_name(self, name: str, timeout: float | None = None) -> None:
        """Store ``name`` (0..16 of ``a-z 0-9 - _``; "" clears it) in the board's EEPROM.

        Reads it back with a new HELLO and raises BridgeError if the board did not keep
        it; CommandRefused when the firmware is older than protocol 1.1.

        >>> board.set_name("robot-07"); board.name  # doctest: +SKIP
        'robot-07'
        """
        payload = name_bytes(name)
        if Capability.NAME not in self.hello.capabilities:
            raise CommandRefused(
                f"firmware {self.hello.firmware} on {self.port} cannot store a name "
                f"(protocol {self.hello.protocol[0]}.{self.hello.protocol[1]}, names need 1.1): "
                f"update it with `roboclass flash {self.port}`",
                code=ErrorCode.UNKNOWN_TYPE,
            )
        self._request(MsgType.SET_NAME, payload)
        hello = self._handshake(self.timeout if timeout is None else timeout)
        if (hello.name or "") != name:
            raise BridgeError(
                f"the board on {self.port} reports the name {hello.name!r} after "
                f"being given {name!r}: its EEPROM may be worn out"
            )

    @property
    def connected(self) -> bool:
        """True while the port is open and the handshake is done."""
        return self._linked.is_set() and not self._closed

    def wait_connected(self, timeout: float = 5.0) -> bool:
        """Wait until the link is up again (after an unplug); False after ``timeout``."""
        return self._linked.wait(timeout) and not self._closed

    @property
    def telemetry(self) -> Telemetry | None:
        """The latest telemetry frame, or None before the first one."""
        return self._telemetry

    @property
    def armed(self) -> bool:
        t = self._telemetry
        return bool(t and t.armed)

    @property
    def failsafe(self) -> bool:
        """True when the board's watchdog stopped the outputs; :meth:`arm` to move again."""
        t = self._telemetry
        return bool(t and t.failsafe)

    @property
    def distance(self) -> float | None:
        """Ultrasonic distance in metres (inf: nothing in range; None: not configured)."""
        t = self._telemetry
        return None if t is None else t.distance

    @property
    def encoders(self) -> tuple[int, int] | None:
        t = self._telemetry
        return None if t is None else t.encoders

    @property
    def heading(self) -> float | None:
        t = self._telemetry
        return None if t is None else t.heading

    @property
    def rates(self) -> tuple[float, float, float] | None:
        t = self._telemetry
        return None if t is None else t.rates

    @property
    def voltage(self) -> float | None:
        t = self._telemetry
        return None if t is None else t.voltage

    def digital(self, pin: int) -> bool | None:
        """Level of a subscribed digital pin."""
        t = self._telemetry
        if t is None or t.digital is None:
            return None
        return bool(t.digital >> pin & 1)

    def analog(self, channel: int) -> int | None:
        """0..1023 of a subscribed analog channel."""
        t = self._telemetry
        return None if t is None else t.analog.get(channel)

    def on_telemetry(self, callback: Callable[[Telemetry], None]) -> Callable[[], None]:
        """Call ``callback(telemetry)`` for each frame; returns a function that unsubscribes.

        Callbacks run in the reader thread: keep them short and never wait for
        the board from one (the reader could not deliver the answer).
        """
        self._listeners.append(callback)
        return lambda: self._listeners.remove(callback)

    def on_reboot(self, callback: Callable[[Hello], None]) -> Callable[[], None]:
        """Call ``callback(new_hello)`` when the board rebooted (configuration was re-sent)."""
        self._reboot_listeners.append(callback)
        return lambda: self._reboot_listeners.remove(callback)

    def wait_telemetry(
        self, predicate: Callable[[Telemetry], bool] | None = None, timeout: float = 1.0
    ) -> Telemetry:
        """The next telemetry frame (for which ``predicate`` is true); BridgeTimeout after ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._state:
            start = self._telemetry
            while True:
                t = self._telemetry
                if t is not None and t is not start and (predicate is None or predicate(t)):
                    return t
                left = deadline - time.monotonic()
                if left <= 0 or self._closed:
                    raise BridgeTimeout(f"no matching telemetry from {self.port} in {timeout} s")
                self._state.wait(left)

    # --- commands ----------------------------------------------------------------

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

    def arm(self) -> None:
        """Allow outputs to move (clears a fail-safe). Setpoints restart from 0."""
        self._setpoint = (0, 0)
        self._request(MsgType.ARM, b"")

    def stop_all(self) -> None:
        """Emergency stop: motors 0, servos safe, outputs low, disarmed; arm() to move again."""
        self._setpoint = (0, 0)
        self._request(MsgType.STOP_ALL, b"")

    def drive(self, left: float, right: float, *, ack: bool = False) -> None:
        """Set both motors (-1..1). Streamed until changed; ``ack`` waits for the board's ACK."""
        value = (_motor(left), _motor(right))
        self._setpoint = value
        payload = pack(MsgType.DRIVE, *value)
        if ack:
            self._request(MsgType.DRIVE, payload, tries=1)
        else:
            self._send(MsgType.DRIVE, payload)

    def motor(self, channel: int, value: float) -> None:
        """Set one motor (0 left, 1 right) to -1..1; it joins the streamed setpoint."""
        if channel not in (0, 1):
            raise ValueError(f"motor channel {channel}: the board has motors 0 and 1")
        v = _motor(value)
        left, right = self._setpoint
        self._setpoint = (v, right) if channel == 0 else (left, v)
        self._request(MsgType.MOTOR, pack(MsgType.MOTOR, channel, v))

    def servo_attach(
        self,
        channel: int,
        pin: int,
        min_us: int = 500,
        max_us: int = 2500,
        safe_us: int | None = None,
    ) -> None:
        """Start pulsing a servo on ``pin`` at its safe position (default: the middle)."""
        safe = (min_us + max_us) // 2 if safe_us is None else safe_us
        payload = pack(MsgType.SERVO_ATTACH, channel, pin, min_us, max_us, safe)
        self._configure(MsgType.SERVO_ATTACH, channel, payload)

    def servo_write_us(self, channel: int, us: int) -> None:
        """Pulse width in microseconds (clamped by the board to the attached range)."""
        self._request(MsgType.SERVO_WRITE, pack(MsgType.SERVO_WRITE, channel, us))

    def pin_mode(self, pin: int, mode: PinMode) -> None:
        self._configure(MsgType.PIN_MODE, pin, pack(MsgType.PIN_MODE, pin, PinMode(mode)))

    def digital_write(self, pin: int, level: bool) -> None:
        self._request(MsgType.DIGITAL_WRITE, pack(MsgType.DIGITAL_WRITE, pin, int(bool(level))))

    def pwm_write(self, pin: int, duty: float) -> None:
        """Duty 0..1 on a PWM pin (D3 or D11 on an UNO)."""
        if not 0 <= duty <= 1:
            raise ValueError(f"duty {duty}: must be within 0..1")
        self._request(MsgType.PWM_WRITE, pack(MsgType.PWM_WRITE, pin, round(duty * 255)))

    def subscribe(self, kind: Literal["digital", "analog"], pin: int, period_ms: int = 0) -> None:
        """Report an input in telemetry: every ``period_ms``, or at once on change (0)."""
        code = {"digital": 1, "analog": 2}[kind]
        self._configure(
            MsgType.SUBSCRIBE, code << 8 | pin, pack(MsgType.SUBSCRIBE, code, pin, period_ms)
        )

    def unsubscribe(self, kind: Literal["digital", "analog"], pin: int) -> None:
        code = {"digital": 1, "analog": 2}[kind]
        self._config.pop((MsgType.SUBSCRIBE, code << 8 | pin), None)
        self._request(MsgType.SUBSCRIBE, pack(MsgType.SUBSCRIBE, 0, pin, 0))

    def setup_ultrasonic(self, trigger: int, echo: int, period_ms: int = 60) -> None:
        """HC-SR04 on these pins; distance arrives in telemetry (``period_ms=0`` turns it off)."""
        self._configure(MsgType.ULTRASONIC, 0, pack(MsgType.ULTRASONIC, trigger, echo, period_ms))

    def setup_encoders(self, enable: bool = True) -> None:
        """Count wheel encoder ticks on D2 (left) and D3 (right)."""
        self._configure(MsgType.ENCODERS, 0, pack(MsgType.ENCODERS, int(enable)))

    def setup_imu(self, address: int = 0x68, period_ms: int = 20) -> None:
        """MPU-6050 on I2C; CommandRefused(NO_DEVICE) when nothing answers."""
        self._configure(MsgType.IMU, 0, pack(MsgType.IMU, address, period_ms))

    def setup_battery(self, channel: int, divider: float = 1.0) -> None:
        """Battery voltage on an analog channel through a divider (volts in per volt measured)."""
        self._configure(MsgType.BATTERY, 0, pack(MsgType.BATTERY, channel, round(divider * 1000)))

    def configure(self, *, watchdog_ms: int | None = None, telemetry_ms: int | None = None) -> None:
        """Change the link watchdog and the telemetry period."""
        self.watchdog_ms = watchdog_ms or self.watchdog_ms
        self.telemetry_ms = self.telemetry_ms if telemetry_ms is None else telemetry_ms
        payload = pack(MsgType.CONFIG, self.watchdog_ms, self.telemetry_ms)
        self._configure(MsgType.CONFIG, 0, payload)

    # --- internals: sending ----------------------------------------------------------

    def _send(
        self, msg: MsgType, payload: bytes, flags: Flag = Flag.NONE, waiter: _Waiter | None = None
    ) -> int:
        """Write one frame; returns its seq. ``waiter`` gets the ACK/NAK of that seq."""
        if self._closed:
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
                with self._state:
                    self._waiters[("seq", seq)] = waiter
            try:
                port.write(encode_frame(Frame(msg, seq, payload, flags)))
            except (serial.SerialException, OSError) as e:
                self._lost(e)
                raise NoBoard(f"writing to {self.port} failed: {e}") from e
            self.stats.frames_out += 1
            return seq

    def _wait_for(
        self,
        key: tuple[str, int],
        msg: MsgType,
        payload: bytes,
        timeout: float,
        flags: Flag = Flag.NONE,
    ) -> Frame:
        waiter = _Waiter()
        with self._state:
            self._waiters[key] = waiter
        try:
            self._send(msg, payload, flags)
            if not waiter.event.wait(timeout) or waiter.frame is None:
                self.stats.timeouts += 1
                if self._closed:
                    raise BridgeClosed(f"the bridge to {self.port} was closed")
                raise BridgeTimeout(f"{self.port} did not answer {msg.name} within {timeout} s")
            return waiter.frame
        finally:
            with self._state:
                self._waiters.pop(key, None)

    def _request(self, msg: MsgType, payload: bytes, tries: int = 3, each: float = 0.2) -> None:
        """Send with ACK_REQUESTED; retry on silence; raise on NAK."""
        for attempt in range(tries):
            waiter = _Waiter()
            seq = -1
            try:
                seq = self._send(msg, payload, Flag.ACK_REQUESTED, waiter)
                if waiter.event.wait(each) and waiter.frame is not None:
                    self._check_ack(msg, waiter.frame)
                    return
            finally:
                with self._state:
                    self._waiters.pop(("seq", seq), None)
            if self._closed:
                raise BridgeClosed(f"the bridge to {self.port} was closed")
            if attempt + 1 < tries:
                self.stats.retries += 1
        self.stats.timeouts += 1
        raise BridgeTimeout(
            f"{self.port} did not acknowledge {msg.name} after {tries} tries: "
            "check the cable and that the board runs RoboClass firmware"
        )

    def _check_ack(self, msg: MsgType, frame: Frame) -> None:
        if frame.type == MsgType.ACK:
            return
        _, _, code = unpack(MsgType.NAK, frame.payload)
        try:
            name = ErrorCode(code).name
        except ValueError:
            name = f"error {code}"
        if code == ErrorCode.NOT_ARMED:
            raise NotArmed(
                f"{msg.name} refused: the board is not armed"
                + (" (its watchdog stopped it)" if self.failsafe else "")
                + ": call arm() first",
                code=code,
            )
        raise CommandRefused(f"the board refused {msg.name}: {name}", code=code)

    def _configure(self, msg: MsgType, key: int, payload: bytes) -> None:
        """An acked command the board must get again after a reboot."""
        self._request(msg, payload)
        self._config[(msg, key)] = (msg, payload)

    # --- internals: handshake and threads ----------------------------------------

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
            port, self._serial = self._serial, None
        if port is not None:
            try:
                port.close()
            except (serial.SerialException, OSError) as e:
                logger.debug("closing %s: %s", self.port, e)

    def _lost(self, error: Exception) -> None:
        """The port went away (unplugged, closed by the other side)."""
        if self._linked.is_set():
            logger.warning("lost %s: %s", self.port, error)
        self._linked.clear()
        port, self._serial = self._serial, None  # our caller may hold the write lock
        if port is not None:
            try:
                port.close()
            except (serial.SerialException, OSError) as e:
                logger.debug("closing %s: %s", self.port, e)

    def _handshake(self, timeout: float) -> Hello:
        """Send HELLO every 100 ms until the board answers or ``timeout`` passes."""
        deadline = time.monotonic() + timeout
        self._hello_event.clear()
        while True:
            with contextlib.suppress(NoBoard):  # the port may still be reopening
                self._send(MsgType.HELLO, pack(MsgType.HELLO, PROTOCOL_MAJOR, PROTOCOL_MINOR))
            if self._hello_event.wait(min(0.1, max(0.0, deadline - time.monotonic()))):
                break
            if time.monotonic() >= deadline or self._stop_stream.is_set():
                raise NoBoard(
                    f"no RoboClass firmware answered on {self.port} within {timeout} s: "
                    f"flash it with `roboclass bridge flash --port {self.port}`"
                )
        hello = self._pending_hello
        self._check_version(hello)
        # A board reports the table of the minor both sides speak (a 1.0 board: 1.0's);
        # any minor up to the shared one is a table we know.
        shared = min(hello.protocol[1], PROTOCOL_MINOR)
        if hello.table_hash not in {table_hash(m) for m in range(shared + 1)}:
            logger.warning(
                "firmware %s on %s was built from another message table (%08x, ours %08x)",
                hello.firmware,
                self.port,
                hello.table_hash,
                table_hash(shared),
            )
        previous, self._hello = self._hello, hello
        self._linked.set()
        if previous is not None and previous.boot_id != hello.boot_id:
            self._rebooted(hello)
        return hello

    def _check_version(self, hello: Hello) -> None:
        major = hello.protocol[0]
        if major == PROTOCOL_MAJOR:
            return
        flash = f"`roboclass bridge flash --port {self.port}`"
        if major < PROTOCOL_MAJOR:
            text = (
                f"firmware {hello.firmware} on {self.port} speaks protocol {major}.x, "
                f"older than this RoboClass's {PROTOCOL_MAJOR}.x: update the board with {flash}"
            )
        else:
            text = (
                f"firmware {hello.firmware} on {self.port} speaks protocol {major}.x, "
                f"newer than this RoboClass's {PROTOCOL_MAJOR}.x: update RoboClass, "
                f"or put the matching firmware on the board with {flash}"
            )
        raise VersionMismatch(
            text, board_major=major, host_major=PROTOCOL_MAJOR, firmware=hello.firmware
        )

    def _rebooted(self, hello: Hello) -> None:
        self.stats.reboots += 1
        logger.warning("the board on %s rebooted (boot id %08x)", self.port, hello.boot_id)
        self._setpoint = (0, 0)
        self._notify_reboot = True
        self._resend_config.set()

    def _read_loop(self) -> None:
        while not self._stop.is_set():
            port = self._serial
            if port is None:
                self._reopen()
                continue
            try:
                data = port.read(port.in_waiting or 1)
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
                self._rehandshake.set()  # the board rebooted: the streamer confirms and re-configures
            self._hello_event.set()
            return
        if frame.version != PROTOCOL_MAJOR:
            return
        try:
            if msg is MsgType.TELEMETRY:
                self._on_telemetry(parse_telemetry(frame.payload))
            elif msg in (MsgType.ACK, MsgType.NAK):
                self._answer(("seq", frame.payload[0]) if frame.payload else ("seq", -1), frame)
            elif msg is MsgType.PONG:
                self._answer(("pong", unpack(MsgType.PONG, frame.payload)[0]), frame)
            elif msg is MsgType.LOG and frame.payload:
                text = frame.payload[1:].decode("utf-8", "replace")
                logger.log(frame.payload[0], "board %s: %s", self.port, text)
        except CorruptFrame as e:
            logger.warning("bad %s from %s: %s", msg.name, self.port, e)

    def _answer(self, key: tuple[str, int], frame: Frame) -> None:
        with self._state:
            waiter = self._waiters.get(key)
        if waiter is not None:
            waiter.frame = frame
            waiter.event.set()

    def _on_telemetry(self, t: Telemetry) -> None:
        previous = self._telemetry
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
            self._setpoint = (0, 0)
        with self._state:
            self._telemetry = t
            self._state.notify_all()
        for callback in list(self._listeners):
            try:
                callback(t)
            except Exception:
                logger.exception("telemetry callback %r failed", callback)

    def _stream_loop(self) -> None:
        period = 1.0 / self.setpoint_hz if self.setpoint_hz > 0 else 0.05
        next_time = time.monotonic()
        while not self._stop_stream.is_set():
            try:
                self._maintain()
                if self.setpoint_hz > 0 and self._linked.is_set():
                    self._send(MsgType.DRIVE, pack(MsgType.DRIVE, *self._setpoint))
            except VersionMismatch as e:  # someone put other firmware on the board meanwhile
                logger.error("%s", e)
                self._fatal = e
                self._linked.clear()
                self._close_port()
            except (NoBoard, BridgeTimeout, BridgeClosed) as e:
                logger.debug("streamer: %s", e)
            except BridgeError as e:
                logger.warning("streamer: %s", e)
            next_time += period
            delay = next_time - time.monotonic()
            if delay < 0:
                next_time = time.monotonic()
                delay = 0
            self._stop_stream.wait(delay)

    def _maintain(self) -> None:
        """Handshake again when needed; re-send the configuration after a reboot."""
        if self._linked.is_set() and self._stale():
            logger.warning("nothing from %s for a while: handshake again", self.port)
            self._rehandshake.set()
        broken = self._serial is not None and not self._linked.is_set()
        if self._fatal is None and (self._rehandshake.is_set() or broken):
            self._rehandshake.clear()
            self._redo_handshake()
        if self._resend_config.is_set() and self._linked.is_set():
            self._resend_config.clear()
            for msg, payload in list(self._config.values()):
                try:
                    self._request(msg, payload)
                except CommandRefused as e:
                    logger.warning("re-sending %s after a reboot: %s", msg.name, e)
            if not self._notify_reboot:
                return
            self._notify_reboot = False
            for callback in list(self._reboot_listeners):
                try:
                    callback(self.hello)
                except Exception:
                    logger.exception("reboot callback %r failed", callback)

    def _stale(self) -> bool:
        """Telemetry is on but nothing arrived for 5 periods (at least 0.5 s)."""
        if not self.telemetry_ms:
            return False
        return time.monotonic() - self._last_rx > max(0.5, 5 * self.telemetry_ms / 1000)

    def _redo_handshake(self) -> None:
        self._linked.clear()
        self._telemetry = None
        self._decoder.reset_sequence()
        hello = self._handshake(self.timeout)
        if self._config and not self._resend_config.is_set():
            # a reconnect to the same boot still re-sends: the board may have lost nothing,
            # but sending the same configuration twice is harmless.
            self._resend_config.set()
        self._rehandshake.clear()  # the board's unsolicited HELLO_REPLY asked for this one
        logger.info("handshake again with %s: firmware %s", self.port, hello.firmware)

    _pending_hello: Hello


def _motor(value: float) -> int:
    if not -1.0 <= value <= 1.0:
        raise ValueError(f"motor value {value}: must be within -1..1")
    return round(value * 1000)
