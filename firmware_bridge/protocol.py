"""The RoboClass serial protocol: frames, message table and payload layouts.

Written down for people in ``docs/serial-protocol.md``; the firmware's copy of
the numbers is ``firmware_bridge/firmware/protocol.h`` and a unit test keeps
the two identical (ids, layouts and the table hash).

A frame on the wire is ``COBS(body) + b"\\x00"`` where::

    body = ver_flags:u8  seq:u8  type:u8  payload:0..48 bytes  crc:u16le
    ver_flags = protocol major << 4 | flags
    crc = CRC-16/CCITT-FALSE (binascii.crc_hqx, init 0xFFFF) over everything before it

>>> frame = Frame(MsgType.PING, seq=7, payload=b"\\x01\\x00\\x00\\x00")
>>> decode_frame(encode_frame(frame)[:-1]) == frame
True
"""

from __future__ import annotations

import binascii
import enum
import logging
import re
import struct
import zlib
from dataclasses import dataclass, field

from cobs import cobs

from firmware_bridge.errors import CorruptFrame

__all__ = [
    "CUT_MARK",
    "MAX_ENCODED",
    "MAX_PAYLOAD",
    "MESSAGE_LAYOUTS",
    "NAME_MAX",
    "PROTOCOL_MAJOR",
    "PROTOCOL_MINOR",
    "RX_BUFFER",
    "TABLE_HASH",
    "ErrorCode",
    "Flag",
    "Frame",
    "FrameDecoder",
    "MsgType",
    "StateFlag",
    "TelemetryField",
    "decode_frame",
    "encode_frame",
    "name_bytes",
    "table_hash",
]

logger = logging.getLogger(__name__)

PROTOCOL_MAJOR = 1
PROTOCOL_MINOR = 2  # 1.1: SET_NAME and the name in HELLO_REPLY; 1.2: telemetry from 1 ms
MAX_PAYLOAD = 48
HEADER_LEN = 3
CRC_LEN = 2
MAX_BODY = HEADER_LEN + MAX_PAYLOAD + CRC_LEN  # 53
MAX_ENCODED = MAX_BODY + 1 + 1  # COBS adds one byte per 254, plus the 0x00 delimiter: 55
RX_BUFFER = 64  # the ATmega328P Arduino core's receive ring buffer
assert MAX_ENCODED <= RX_BUFFER  # noqa: S101 - a static property of the constants above


class Flag(enum.IntFlag):
    """Low nibble of the first body byte."""

    NONE = 0
    ACK_REQUESTED = 0x1  # host -> board: answer this frame with ACK or NAK


class MsgType(enum.IntEnum):
    """Message types. Host -> board below 0x80, board -> host from 0x80."""

    HELLO = 0x01
    PING = 0x02
    ARM = 0x03
    STOP_ALL = 0x04
    DRIVE = 0x05
    MOTOR = 0x06
    SERVO_ATTACH = 0x07
    SERVO_WRITE = 0x08
    PIN_MODE = 0x09
    DIGITAL_WRITE = 0x0A
    PWM_WRITE = 0x0B
    SUBSCRIBE = 0x0C
    ULTRASONIC = 0x0D
    ENCODERS = 0x0E
    IMU = 0x0F
    BATTERY = 0x10
    CONFIG = 0x11
    SET_NAME = 0x12  # since 1.1
    HELLO_REPLY = 0x81
    PONG = 0x82
    ACK = 0x83
    NAK = 0x84
    TELEMETRY = 0x85
    LOG = 0x86


# struct layouts (little-endian) of each payload; "*" marks a variable tail.
MESSAGE_LAYOUTS: dict[MsgType, str] = {
    MsgType.HELLO: "<BB",  # host protocol major, minor
    MsgType.PING: "<I",  # host token (echoed)
    MsgType.ARM: "<",
    MsgType.STOP_ALL: "<",
    MsgType.DRIVE: "<hh",  # left, right in -1000..1000
    MsgType.MOTOR: "<Bh",  # channel, value -1000..1000
    MsgType.SERVO_ATTACH: "<BBHHH",  # channel, pin, min_us, max_us, safe_us
    MsgType.SERVO_WRITE: "<BH",  # channel, microseconds
    MsgType.PIN_MODE: "<BB",  # pin, mode (0 input, 1 output, 2 input pull-up)
    MsgType.DIGITAL_WRITE: "<BB",  # pin, level
    MsgType.PWM_WRITE: "<BB",  # pin, duty 0..255
    MsgType.SUBSCRIBE: "<BBH",  # kind (0 off, 1 digital, 2 analog), pin, period ms (0 = on change)
    MsgType.ULTRASONIC: "<BBH",  # trigger pin, echo pin, period ms (0 = off)
    MsgType.ENCODERS: "<B",  # enable (1) / disable (0): ticks on D2 (INT0) and D3 (INT1)
    MsgType.IMU: "<BH",  # I2C address (MPU-6050: 0x68), period ms (0 = off)
    MsgType.BATTERY: "<BH",  # analog channel (0xFF = off), divider ratio x1000
    MsgType.CONFIG: "<HH",  # watchdog ms, telemetry period ms
    MsgType.SET_NAME: "<*",  # the board's name, 0..16 ASCII [a-z0-9-_] (empty: no name)
    # 1.1 appended the name (16 bytes, NUL-padded; all NUL = no name)
    MsgType.HELLO_REPLY: "<BBBBBBIHBII16s",
    MsgType.PONG: "<IIHHH",  # token, board ms, corrupt frames, sequence gaps, watchdog trips
    MsgType.ACK: "<BB",  # acked seq, acked type
    MsgType.NAK: "<BBB",  # nacked seq, nacked type, ErrorCode
    MsgType.TELEMETRY: "<HIHB*",  # telemetry seq, board ms, TelemetryField mask, StateFlag, fields
    MsgType.LOG: "<B*",  # level (10 debug .. 40 error), UTF-8 text
}


# The protocol minor that added a message (absent: 1.0) ...
MESSAGE_SINCE: dict[MsgType, int] = {MsgType.SET_NAME: 1}
# ... and the layouts a message had before a minor appended fields to it.
EARLIER_LAYOUTS: dict[MsgType, tuple[tuple[int, str], ...]] = {
    MsgType.HELLO_REPLY: ((1, "<BBBBBBIHBII"),),  # (until minor, layout)
}

NAME_MAX = 16
_NAME_RE = re.compile(rf"[a-z0-9_-]{{0,{NAME_MAX}}}")


def name_bytes(name: str) -> bytes:
    """The SET_NAME payload for ``name``; ValueError unless it is 0..16 of ``a-z 0-9 - _``.

    >>> name_bytes("robot-07")
    b'robot-07'
    """
    if not _NAME_RE.fullmatch(name):
        raise ValueError(
            f"board name {name!r}: use at most {NAME_MAX} characters a-z, 0-9, '-' and '_'"
        )
    return name.encode("ascii")


class ErrorCode(enum.IntEnum):
    """Why the board refused a command (NAK payload)."""

    UNKNOWN_TYPE = 1
    BAD_LENGTH = 2
    BAD_VALUE = 3
    NOT_ARMED = 4
    BAD_PIN = 5
    NO_DEVICE = 6
    NO_RESOURCE = 7
    VERSION = 8


class StateFlag(enum.IntFlag):
    """State byte of every telemetry frame."""

    NONE = 0
    ARMED = 0x01
    FAILSAFE = 0x02  # the link watchdog stopped the outputs; ARM to move again
    WATCHDOG_RESET = 0x04  # the last reset was the hardware watchdog
    LOW_BATTERY = 0x08


class TelemetryField(enum.IntFlag):
    """Field mask of a telemetry frame; fields follow in this order."""

    NONE = 0
    DISTANCE = 0x01  # u16 mm, 0xFFFF = no echo
    ENCODERS = 0x02  # i32 left ticks, i32 right ticks
    IMU = 0x04  # i16 heading centi-degrees, i16 x3 rates deci-degrees/s
    BATTERY = 0x08  # u16 millivolts
    DIGITAL = 0x10  # u32 levels of D0..D19 (bit n = pin n)
    ANALOG = 0x20  # u8 channel mask (A0..A5), then u16 per set bit


def table_hash(minor: int = PROTOCOL_MINOR) -> int:
    """CRC-32 of the message table of protocol ``PROTOCOL_MAJOR.minor``: ids, names, layouts.

    >>> f"{table_hash(0):08x}"  # protocol 1.0
    '5d2c2839'
    """
    parts = []
    for t in sorted(MsgType):
        if MESSAGE_SINCE.get(t, 0) > minor:
            continue
        layout = MESSAGE_LAYOUTS[t]
        for until, earlier in EARLIER_LAYOUTS.get(t, ()):
            if minor < until:
                layout = earlier
                break
        parts.append(f"{t.name}=0x{t.value:02X}:{layout}")
    return zlib.crc32(";".join(parts).encode("ascii")) & 0xFFFFFFFF


TABLE_HASH = table_hash()


@dataclass(frozen=True)
class Frame:
    """One decoded frame."""

    type: int
    seq: int = 0
    payload: bytes = b""
    flags: int = 0
    version: int = PROTOCOL_MAJOR


def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE, the same as avr-libc's ``_crc_xmodem_update`` from 0xFFFF."""
    return binascii.crc_hqx(data, 0xFFFF)


def encode_frame(frame: Frame) -> bytes:
    """The bytes to write: COBS-encoded body and the 0x00 delimiter."""
    if len(frame.payload) > MAX_PAYLOAD:
        raise ValueError(f"payload of {len(frame.payload)} bytes: the limit is {MAX_PAYLOAD}")
    if not (0 <= frame.version <= 15 and 0 <= frame.flags <= 15):
        raise ValueError("version and flags are 4-bit fields")
    body = bytes(((frame.version << 4) | frame.flags, frame.seq & 0xFF, frame.type & 0xFF))
    body += frame.payload
    body += crc16(body).to_bytes(2, "little")
    return bytes(cobs.encode(body)) + b"\x00"


def decode_frame(encoded: bytes) -> Frame:
    """Decode one frame without its delimiter; raise CorruptFrame if it is not valid."""
    if not encoded:
        raise CorruptFrame("empty frame")
    if len(encoded) > MAX_ENCODED - 1:
        raise CorruptFrame(f"frame of {len(encoded)} bytes is longer than {MAX_ENCODED - 1}")
    try:
        body = bytes(cobs.decode(encoded))
    except cobs.DecodeError as e:
        raise CorruptFrame(f"bad COBS: {e}") from None
    if len(body) < HEADER_LEN + CRC_LEN:
        raise CorruptFrame(f"frame of {len(body)} bytes is too short")
    if crc16(body[:-CRC_LEN]) != int.from_bytes(body[-CRC_LEN:], "little"):
        raise CorruptFrame("CRC mismatch")
    return Frame(
        type=body[2],
        seq=body[1],
        payload=body[HEADER_LEN:-CRC_LEN],
        flags=body[0] & 0x0F,
        version=body[0] >> 4,
    )


@dataclass
class DecoderStats:
    """What a FrameDecoder has seen."""

    frames: int = 0
    corrupt: int = 0
    gaps: int = 0  # frames missing according to the sequence numbers
    bytes: int = 0
    cut: int = 0  # frames the board cut short for a reply (1.2): part, then CUT_MARK


CUT_MARK = b"\x00\x00\x00"  # after a piece of a frame: the board cut it short (1.2)


@dataclass
class FrameDecoder:
    """Split a byte stream into frames; count corrupt ones and sequence gaps.

    Garbage before a delimiter costs at most the frame it lands in: decoding
    restarts after every 0x00, so the decoder resynchronises by itself. A
    piece of a frame ended by CUT_MARK (three 0x00: two empty frames after
    it, which a board never sends otherwise) was cut short on purpose: it
    counts as ``cut``, not corrupt.

    >>> d = FrameDecoder()
    >>> [f.seq for f in d.feed(b"junk\\x00" + encode_frame(Frame(MsgType.ACK, seq=3)))]
    [3]
    >>> d.stats.corrupt
    1
    """

    stats: DecoderStats = field(default_factory=DecoderStats)
    _buffer: bytearray = field(default_factory=bytearray)
    _overflow: bool = False
    _next_seq: int | None = None
    _cut_zeros: int = -1  # empty frames seen since a corrupt one (-1: none pending)

    def feed(self, data: bytes) -> list[Frame]:
        """Frames completed by ``data``, in order."""
        frames = []
        self.stats.bytes += len(data)
        for chunk in _split_keep(data):
            if chunk == b"\x00":
                if self._buffer or self._overflow:
                    frame = self._finish()
                    if frame is not None:
                        frames.append(frame)
                elif self._cut_zeros >= 0:
                    self._cut_zeros += 1
                    if self._cut_zeros == len(CUT_MARK) - 1:  # a cut, not noise
                        self.stats.corrupt -= 1
                        self.stats.cut += 1
                        self._cut_zeros = -1
                continue
            self._cut_zeros = -1
            if self._overflow:
                continue
            self._buffer += chunk
            if len(self._buffer) > MAX_ENCODED - 1:
                self._buffer.clear()
                self._overflow = True
        return frames

    def reset_sequence(self) -> None:
        """Forget the expected sequence number (after a reconnect or reboot)."""
        self._next_seq = None

    def _finish(self) -> Frame | None:
        data, overflow = bytes(self._buffer), self._overflow
        self._buffer.clear()
        self._overflow = False
        if overflow:
            self.stats.corrupt += 1
            return None
        try:
            frame = decode_frame(data)
        except CorruptFrame as e:
            self.stats.corrupt += 1
            self._cut_zeros = 0
            logger.debug("dropped a frame: %s", e)
            return None
        self.stats.frames += 1
        # a HELLO_REPLY starts the board's numbering afresh (it may have rebooted)
        if self._next_seq is not None and frame.seq != self._next_seq and frame.type != 0x81:
            self.stats.gaps += (frame.seq - self._next_seq) & 0xFF
        self._next_seq = (frame.seq + 1) & 0xFF
        return frame


def _split_keep(data: bytes) -> list[bytes]:
    """Split on 0x00 keeping each delimiter as its own item."""
    parts: list[bytes] = []
    start = 0
    while True:
        end = data.find(b"\x00", start)
        if end < 0:
            if start < len(data):
                parts.append(data[start:])
            return parts
        if end > start:
            parts.append(data[start:end])
        parts.append(b"\x00")
        start = end + 1


def pack(msg: MsgType, *values: int) -> bytes:
    """Pack a fixed-layout payload (no variable tail)."""
    return struct.pack(MESSAGE_LAYOUTS[msg], *values)


def unpack(msg: MsgType, payload: bytes) -> tuple[int, ...]:
    """Unpack the fixed part of a payload; raise CorruptFrame on a wrong length."""
    layout = MESSAGE_LAYOUTS[msg].rstrip("*")
    size = struct.calcsize(layout)
    exact = not MESSAGE_LAYOUTS[msg].endswith("*")
    if len(payload) < size or (exact and len(payload) != size):
        raise CorruptFrame(f"{msg.name} payload of {len(payload)} bytes, expected {size}")
    return struct.unpack_from(layout, payload)
