"""Byte-level checks of the firmware under simavr with bare pyserial (no Bridge)."""

from __future__ import annotations

import struct
import time
from collections.abc import Iterator

import pytest
import serial

from firmware_bridge.protocol import (
    PROTOCOL_MINOR,
    TABLE_HASH,
    ErrorCode,
    Flag,
    Frame,
    FrameDecoder,
    MsgType,
    encode_frame,
    pack,
    table_hash,
    unpack,
)
from firmware_bridge.simboard import SimBoard
from tests.integration.test_bridge_firmware import built

pytestmark = pytest.mark.integration


class Wire:
    def __init__(self, port: str) -> None:
        self.port = serial.Serial(port, 115200, timeout=0.05)
        self.decoder = FrameDecoder()
        self.seq = 0
        self.pending: list[Frame] = []

    def send(self, msg: int, payload: bytes = b"", flags: int = 0, version: int = 1) -> int:
        seq = self.seq
        self.port.write(encode_frame(Frame(msg, seq, payload, flags, version)))
        self.seq = (self.seq + 1) & 0xFF
        return seq

    def expect(self, msg: MsgType, timeout: float = 2.0) -> Frame:
        """The next frame of type ``msg``; frames of other types before it are dropped."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            while self.pending:
                frame = self.pending.pop(0)
                if frame.type == msg:
                    return frame
            self.pending += self.decoder.feed(self.port.read(256))
        raise TimeoutError(f"no {msg.name}")


@pytest.fixture
def wire() -> Iterator[Wire]:
    built("simboard")
    with SimBoard(built("roboclass_firmware.elf")) as board:
        w = Wire(board.port)
        try:
            yield w
        finally:
            w.port.close()


def test_hello_reply_layout(wire: Wire) -> None:
    wire.send(MsgType.HELLO, pack(MsgType.HELLO, 1, 1))
    reply = wire.expect(MsgType.HELLO_REPLY)
    assert reply.version == 1 and reply.flags == 0 and len(reply.payload) == 37
    fields = struct.unpack("<BBBBBBIHBII16s", reply.payload)
    assert fields[:6] == (1, PROTOCOL_MINOR, 1, 2, 0, 1)  # protocol 1.2, firmware 1.2.0
    assert fields[7] == 0x1FF and fields[8] == 64 and fields[10] == TABLE_HASH
    assert fields[11] == bytes(16)  # no name yet
    # a 1.0 host: the same reply, whose first 21 bytes it reads, with 1.0's table hash
    wire.send(MsgType.HELLO, pack(MsgType.HELLO, 1, 0))
    old = struct.unpack_from("<BBBBBBIHBII", wire.expect(MsgType.HELLO_REPLY).payload)
    assert old[:10] == fields[:10] and old[10] == table_hash(0)


def test_set_name_byte_for_byte(wire: Wire) -> None:
    wire.send(MsgType.HELLO, pack(MsgType.HELLO, 1, 1))
    wire.expect(MsgType.HELLO_REPLY)
    seq = wire.send(MsgType.SET_NAME, b"robot-01", Flag.ACK_REQUESTED)
    assert unpack(MsgType.ACK, wire.expect(MsgType.ACK).payload) == (seq, MsgType.SET_NAME)
    wire.send(MsgType.HELLO, pack(MsgType.HELLO, 1, 1))
    assert wire.expect(MsgType.HELLO_REPLY).payload[21:] == b"robot-01" + bytes(8)
    for bad, code in ((b"robot 1", ErrorCode.BAD_VALUE), (b"x" * 17, ErrorCode.BAD_LENGTH)):
        seq = wire.send(MsgType.SET_NAME, bad, Flag.ACK_REQUESTED)
        nak = unpack(MsgType.NAK, wire.expect(MsgType.NAK).payload)
        assert nak == (seq, MsgType.SET_NAME, code), bad
    wire.send(MsgType.HELLO, pack(MsgType.HELLO, 1, 1))
    assert wire.expect(MsgType.HELLO_REPLY).payload[21:29] == b"robot-01"  # unchanged


def test_ack_only_when_asked_and_nak_codes(wire: Wire) -> None:
    wire.send(MsgType.HELLO, pack(MsgType.HELLO, 1, 0))
    wire.expect(MsgType.HELLO_REPLY)
    seq = wire.send(MsgType.ARM, b"", Flag.ACK_REQUESTED)
    assert unpack(MsgType.ACK, wire.expect(MsgType.ACK).payload) == (seq, MsgType.ARM)
    cases = [
        (0x70, b"", ErrorCode.UNKNOWN_TYPE),
        (MsgType.DRIVE, b"\x00", ErrorCode.BAD_LENGTH),
        (MsgType.DRIVE, pack(MsgType.DRIVE, 1001, 0), ErrorCode.BAD_VALUE),
        (MsgType.PIN_MODE, pack(MsgType.PIN_MODE, 0, 1), ErrorCode.BAD_PIN),  # the serial port
        (MsgType.CONFIG, pack(MsgType.CONFIG, 10, 20), ErrorCode.BAD_VALUE),  # watchdog < 50 ms
        (MsgType.CONFIG, pack(MsgType.CONFIG, 300, 5001), ErrorCode.BAD_VALUE),  # > 5 s
    ]
    for msg, payload, code in cases:
        seq = wire.send(msg, payload, Flag.ACK_REQUESTED)
        assert unpack(MsgType.NAK, wire.expect(MsgType.NAK).payload) == (seq, msg, code)
    seq = wire.send(MsgType.ARM, b"", Flag.ACK_REQUESTED, version=2)
    assert unpack(MsgType.NAK, wire.expect(MsgType.NAK).payload) == (
        seq,
        MsgType.ARM,
        ErrorCode.VERSION,
    )


def test_board_counts_corrupt_frames_and_gaps(wire: Wire) -> None:
    wire.send(MsgType.HELLO, pack(MsgType.HELLO, 1, 0))
    wire.expect(MsgType.HELLO_REPLY)
    good = bytearray(encode_frame(Frame(MsgType.PING, 50, pack(MsgType.PING, 7))))
    good[3] ^= 0x40
    wire.port.write(bytes(good) + b"\x01\x02\x03\x00")  # a bad CRC, then junk
    wire.seq = (wire.seq + 5) & 0xFF  # five frames "lost"
    wire.send(MsgType.PING, pack(MsgType.PING, 99))
    token, _, corrupt, gaps, trips = unpack(MsgType.PONG, wire.expect(MsgType.PONG).payload)
    assert (token, corrupt, gaps, trips) == (99, 2, 5, 0)


def test_unsolicited_hello_after_a_reboot(wire: Wire) -> None:
    # a host that never said HELLO to this boot gets told who the board is
    wire.send(MsgType.DRIVE, pack(MsgType.DRIVE, 0, 0))
    reply = wire.expect(MsgType.HELLO_REPLY)
    assert struct.unpack("<BB", reply.payload[:2]) == (1, PROTOCOL_MINOR)


def test_a_host_of_another_version_learns_the_board_version(wire: Wire) -> None:
    wire.send(MsgType.ARM, b"", Flag.ACK_REQUESTED, version=2)
    reply = wire.expect(MsgType.HELLO_REPLY)
    assert reply.payload[0] == 1
    assert unpack(MsgType.NAK, wire.expect(MsgType.NAK).payload)[2] == ErrorCode.VERSION
