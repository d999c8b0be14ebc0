"""A board in Python, for fast unit tests of code that uses :class:`Bridge`.

It is a transport (``Bridge(port, transport=fake.transport)``) that answers
like the reference firmware for the common messages: HELLO, PING, ARM,
STOP_ALL, DRIVE, MOTOR, SET_NAME (:attr:`FakeBoard.name`), the configuration commands, telemetry at the
configured period (distance, encoders, IMU, battery, digital and analog
inputs: set the attributes) and the link watchdog. It records every frame it
received (:attr:`FakeBoard.received`) so tests can check the bytes, and it can
fall silent, NAK (every command, or some types: :attr:`FakeBoard.refuse`),
reboot or be unplugged on demand.

It is NOT the firmware: the integration tests run the real binary under
simavr (:class:`firmware_bridge.SimBoard`). Use this one where a test needs
no timing truth, only a board that answers.

>>> fake = FakeBoard()
>>> with Bridge("fake", transport=fake.transport) as board:   # doctest: +SKIP
...     board.arm(); board.drive(0.5, 0.5)
>>> fake.motors                                               # doctest: +SKIP
(500, 500)
"""

from __future__ import annotations

import struct
import threading
import time
from dataclasses import dataclass, field

import serial

from firmware_bridge.protocol import (
    NAME_MAX,
    PROTOCOL_MAJOR,
    PROTOCOL_MINOR,
    ErrorCode,
    Flag,
    Frame,
    FrameDecoder,
    MsgType,
    StateFlag,
    TelemetryField,
    encode_frame,
    name_bytes,
    pack,
    table_hash,
)

__all__ = ["FakeBoard"]


@dataclass
class FakeBoard:
    """A scripted board. Attributes are its state; change them to stage a situation."""

    protocol_major: int = PROTOCOL_MAJOR
    protocol_minor: int = PROTOCOL_MINOR  # 0: a 1.0 board (no names, the 1.0 HELLO_REPLY)
    name: str | None = None  # the name in "EEPROM": kept across reboot() and replug()
    table: int | None = None  # the message-table hash to report (None: the right one)
    firmware: tuple[int, int, int] = (1, 0, 0)
    boot_id: int = 0x0B0071D
    answering: bool = True  # False: silent, like a board without our firmware
    nak: ErrorCode | None = None  # NAK every acked command with this code
    armed: bool = False
    failsafe: bool = False
    motors: tuple[int, int] = (0, 0)
    watchdog_ms: int = 300
    telemetry_ms: int = 20
    distance_mm: int | None = None
    encoders: tuple[int, int] | None = None
    battery_mv: int | None = None
    imu: tuple[float, tuple[float, float, float]] | None = None  # heading deg, rates deg/s
    digital: int | None = None  # bit n = level of pin n (sent when not None)
    analog: dict[int, int] = field(default_factory=dict)  # channel -> 0..1023
    refuse: dict[int, ErrorCode] = field(default_factory=dict)  # NAK these message types
    received: list[Frame] = field(default_factory=list)
    plugged: bool = True
    _out: bytearray = field(default_factory=bytearray)
    _decoder: FrameDecoder = field(default_factory=FrameDecoder)
    _cond: threading.Condition = field(default_factory=threading.Condition)
    _seq: int = 0
    _tseq: int = 0
    _connected: bool = False
    _last_frame: float = 0.0
    _last_telemetry: float = 0.0
    _start: float = field(default_factory=time.monotonic)
    _open: bool = False

    # --- the SerialLike side -----------------------------------------------------

    def transport(self, device: str, baud: int) -> FakeBoard:
        """The ``transport=`` factory for Bridge: opens this fake (fails while unplugged)."""
        if not self.plugged:
            raise serial.SerialException(f"could not open port {device}: No such file or directory")
        self._open = True
        return self

    @property
    def in_waiting(self) -> int:
        with self._cond:
            return len(self._out)

    def read(self, size: int = 1) -> bytes:
        with self._cond:
            self._check_open()
            self._tick()
            if not self._out:
                self._cond.wait(0.01)
                self._check_open()
                self._tick()
            data = bytes(self._out[:size])
            del self._out[:size]
            return data

    def write(self, data: bytes, /) -> int:
        with self._cond:
            self._check_open()
            for frame in self._decoder.feed(data):
                self.received.append(frame)
                self._handle(frame)
            self._cond.notify_all()
        return len(data)

    def close(self) -> None:
        with self._cond:
            self._open = False
            self._cond.notify_all()

    # --- staging ----------------------------------------------------------------

    def unplug(self) -> None:
        """The cable is pulled: reads and writes fail, opening fails."""
        with self._cond:
            self.plugged = False
            self._cond.notify_all()

    def replug(self, reboot: bool = True) -> None:
        """The cable is back (by default the board rebooted, as a USB-powered one does)."""
        with self._cond:
            if reboot:
                self._reboot()
            self.plugged = True

    def reboot(self) -> None:
        """The board resets: a new boot id, disarmed, waiting for HELLO."""
        with self._cond:
            self._reboot()

    def inject(self, data: bytes) -> None:
        """Put raw bytes on the line towards the host (garbage, a hand-made frame)."""
        with self._cond:
            self._out += data
            self._cond.notify_all()

    def frames_of(self, msg: MsgType) -> list[Frame]:
        return [f for f in self.received if f.type == msg]

    # --- the board ---------------------------------------------------------------

    def _check_open(self) -> None:
        if not self.plugged or not self._open:
            raise serial.SerialException("device reports readiness to read but returned no data")

    def _reboot(self) -> None:
        self.boot_id = (self.boot_id * 1103515245 + 12345) & 0xFFFFFFFF or 1
        self.armed = self.failsafe = self._connected = False
        self.motors = (0, 0)
        self._seq = self._tseq = 0
        self._start = time.monotonic()

    def _send(self, msg: MsgType, payload: bytes) -> None:
        frame = Frame(msg, self._seq, payload, version=self.protocol_major)
        self._out += encode_frame(frame)
        self._seq = (self._seq + 1) & 0xFF

    def _ms(self) -> int:
        return int((time.monotonic() - self._start) * 1000) & 0xFFFFFFFF

    def _hello(self, host_minor: int | None = None) -> None:
        minor = self.protocol_minor
        shared = minor if host_minor is None else min(minor, host_minor)
        payload = struct.pack(
            "<BBBBBBIHBII",
            self.protocol_major,
            minor,
            *self.firmware,
            1,
            0xFA4E0001,
            0x1FF if minor >= 1 else 0xFF,
            64,
            self.boot_id,
            table_hash(shared) if self.table is None else self.table,
        )
        if minor >= 1:
            payload += (self.name or "").encode("ascii").ljust(NAME_MAX, b"\0")
        self._send(MsgType.HELLO_REPLY, payload)

    def _tick(self) -> None:
        now = time.monotonic()
        if self.armed and now - self._last_frame > self.watchdog_ms / 1000:
            self.armed, self.failsafe, self.motors = False, True, (0, 0)
        due = self.telemetry_ms and now - self._last_telemetry >= self.telemetry_ms / 1000
        if self._connected and self.answering and due:
            self._last_telemetry = now
            self._telemetry()

    def _telemetry(self) -> None:
        mask = TelemetryField.NONE
        fields = b""
        if self.distance_mm is not None:
            mask |= TelemetryField.DISTANCE
            fields += struct.pack("<H", self.distance_mm)
        if self.encoders is not None:
            mask |= TelemetryField.ENCODERS
            fields += struct.pack("<ii", *self.encoders)
        if self.imu is not None:
            heading, rates = self.imu
            mask |= TelemetryField.IMU
            fields += struct.pack(
                "<Hhhh", round(heading * 100) % 36000, *(round(r * 10) for r in rates)
            )
        if self.battery_mv is not None:
            mask |= TelemetryField.BATTERY
            fields += struct.pack("<H", self.battery_mv)
        if self.digital is not None:
            mask |= TelemetryField.DIGITAL
            fields += struct.pack("<I", self.digital)
        if self.analog:
            mask |= TelemetryField.ANALOG
            channels = sorted(ch for ch in self.analog if 0 <= ch < 6)
            fields += bytes([sum(1 << ch for ch in channels)])
            fields += b"".join(struct.pack("<H", self.analog[ch]) for ch in channels)
        state = (StateFlag.ARMED if self.armed else 0) | (
            StateFlag.FAILSAFE if self.failsafe else 0
        )
        head = struct.pack("<HIHB", self._tseq, self._ms(), int(mask), int(state))
        self._send(MsgType.TELEMETRY, head + fields)
        self._tseq = (self._tseq + 1) & 0xFFFF

    def _handle(self, frame: Frame) -> None:
        if not self.answering:
            return
        if frame.type == MsgType.HELLO:
            self._connected = True
            self._last_frame = time.monotonic()
            self._hello(frame.payload[1] if len(frame.payload) >= 2 else 0)
            return
        if not self._connected:
            self._hello()  # "I rebooted": like the firmware's unsolicited HELLO_REPLY
            return
        if frame.version != self.protocol_major:
            return
        self._last_frame = time.monotonic()
        if frame.type == MsgType.PING:
            self._send(
                MsgType.PONG, frame.payload[:4] + pack(MsgType.PONG, 0, self._ms(), 0, 0, 0)[4:]
            )
            return
        refused = self.nak if self.nak is not None else self.refuse.get(frame.type)
        error = int(refused) if refused is not None else self._apply(frame)
        if frame.flags & Flag.ACK_REQUESTED:
            if error:
                self._send(MsgType.NAK, pack(MsgType.NAK, frame.seq, frame.type, error))
            else:
                self._send(MsgType.ACK, pack(MsgType.ACK, frame.seq, frame.type))

    def _apply(self, frame: Frame) -> int:
        msg, p = frame.type, frame.payload
        if msg == MsgType.ARM:
            self.armed, self.failsafe = True, False
        elif msg == MsgType.STOP_ALL:
            self.armed, self.motors = False, (0, 0)
        elif msg in (
            MsgType.DRIVE,
            MsgType.MOTOR,
            MsgType.SERVO_WRITE,
            MsgType.DIGITAL_WRITE,
            MsgType.PWM_WRITE,
        ):
            if not self.armed:
                return ErrorCode.NOT_ARMED
            if msg == MsgType.DRIVE:
                self.motors = struct.unpack("<hh", p)
            elif msg == MsgType.MOTOR:
                ch, value = struct.unpack("<Bh", p)
                self.motors = (value, self.motors[1]) if ch == 0 else (self.motors[0], value)
        elif msg == MsgType.CONFIG:
            watchdog, period = struct.unpack("<HH", p)
            fastest = 1 if self.protocol_minor >= 2 else 10  # 1.2: periods from 1 ms
            if not 50 <= watchdog <= 5000 or (period and not fastest <= period <= 5000):
                return ErrorCode.BAD_VALUE
            self.watchdog_ms, self.telemetry_ms = watchdog, period
        elif msg == MsgType.SET_NAME and self.protocol_minor >= 1:
            try:
                self.name = name_bytes(p.decode("ascii")).decode("ascii") or None
            except (UnicodeDecodeError, ValueError):
                return ErrorCode.BAD_VALUE
        elif msg not in {m.value for m in MsgType} or msg == MsgType.SET_NAME:
            return ErrorCode.UNKNOWN_TYPE
        return 0
