"""Property tests of the frame codec, and the firmware header agrees with Python."""

from __future__ import annotations

import re
import struct
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_bridge.errors import BridgeError, CorruptFrame
from firmware_bridge.messages import Capability, parse_hello
from firmware_bridge.protocol import (
    CUT_MARK,
    MAX_ENCODED,
    MAX_PAYLOAD,
    MESSAGE_LAYOUTS,
    NAME_MAX,
    PROTOCOL_MAJOR,
    PROTOCOL_MINOR,
    RX_BUFFER,
    TABLE_HASH,
    ErrorCode,
    Frame,
    FrameDecoder,
    MsgType,
    decode_frame,
    encode_frame,
    name_bytes,
    pack,
    table_hash,
)

HEADER = Path(__file__).resolve().parents[2] / "firmware_bridge" / "firmware" / "protocol.h"

frames = st.builds(
    Frame,
    type=st.integers(0, 255),
    seq=st.integers(0, 255),
    payload=st.binary(max_size=MAX_PAYLOAD),
    flags=st.integers(0, 15),
    version=st.integers(0, 15),
)


@given(frames)
def test_round_trip(frame: Frame) -> None:
    wire = encode_frame(frame)
    assert wire.endswith(b"\x00")
    assert b"\x00" not in wire[:-1]
    assert len(wire) <= MAX_ENCODED <= RX_BUFFER
    assert decode_frame(wire[:-1]) == frame
    assert FrameDecoder().feed(wire) == [frame]


@given(frames, st.data())
@settings(derandomize=True)  # CRC-16 misses a multi-byte COBS shift with p = 2^-16: keep CI stable
def test_any_single_corruption_is_rejected(frame: Frame, data: st.DataObject) -> None:
    wire = bytearray(encode_frame(frame)[:-1])
    index = data.draw(st.integers(0, len(wire) - 1))
    flip = data.draw(st.integers(1, 255))
    wire[index] ^= flip
    # a corrupted byte that became 0x00 splits the frame: both halves must be rejected
    decoder = FrameDecoder()
    assert decoder.feed(bytes(wire) + b"\x00") == []
    assert decoder.stats.corrupt >= 1


@given(frames, st.data())
def test_truncated_or_extended_frames_are_rejected(frame: Frame, data: st.DataObject) -> None:
    wire = encode_frame(frame)[:-1]
    cut = data.draw(st.integers(0, len(wire) - 1))
    extra = data.draw(st.binary(min_size=1, max_size=4).filter(lambda b: b"\x00" not in b))
    for bad in (wire[:cut], wire + extra):
        if bad:
            with pytest.raises(CorruptFrame):
                decode_frame(bad)


@given(st.binary(max_size=300), st.lists(frames, min_size=1, max_size=5), st.integers(1, 17))
@settings(max_examples=200)
def test_resynchronises_after_garbage(garbage: bytes, good: list[Frame], chunk: int) -> None:
    stream = garbage + b"\x00" + b"".join(encode_frame(f) for f in good)
    decoder = FrameDecoder()
    out: list[Frame] = []
    for i in range(0, len(stream), chunk):  # arrives in arbitrary pieces
        out += decoder.feed(stream[i : i + chunk])
    # garbage may by chance hold valid frames, but the good ones always come last and whole
    assert out[len(out) - len(good) :] == good


@given(st.integers(0, 255), st.lists(st.integers(1, 5), min_size=1, max_size=20))
def test_sequence_gaps_are_counted(start: int, steps: list[int]) -> None:
    decoder = FrameDecoder()
    seq = start
    wire = encode_frame(Frame(MsgType.TELEMETRY, seq=seq))
    for step in steps:
        seq = (seq + step) & 0xFF
        wire += encode_frame(Frame(MsgType.TELEMETRY, seq=seq))
    assert len(decoder.feed(wire)) == len(steps) + 1
    assert decoder.stats.gaps == sum(s - 1 for s in steps)


def test_oversized_frame_is_dropped_and_the_next_one_decodes() -> None:
    decoder = FrameDecoder()
    good = encode_frame(Frame(MsgType.PONG, seq=1, payload=b"x" * 14))
    assert decoder.feed(b"\x01" * 500 + b"\x00" + good) == [decode_frame(good[:-1])]
    assert decoder.stats.corrupt == 1


def test_payload_limit() -> None:
    with pytest.raises(ValueError, match="limit is 48"):
        encode_frame(Frame(MsgType.LOG, payload=b"x" * 49))


def test_errors_inherit_standard_ones() -> None:
    assert issubclass(CorruptFrame, BridgeError)
    assert issubclass(CorruptFrame, ValueError)


def test_every_layout_fits_a_frame() -> None:
    assert set(MESSAGE_LAYOUTS) == set(MsgType)
    for layout in MESSAGE_LAYOUTS.values():
        assert struct.calcsize(layout.rstrip("*")) <= MAX_PAYLOAD


def _header_defines() -> dict[str, int]:
    text = HEADER.read_text(encoding="ascii")
    return {
        m[1]: int(m[2], 0)
        for m in re.finditer(r"#define\s+(RC_\w+)\s+\(?(0x[0-9A-Fa-f]+|\d+)", text)
    }


def test_firmware_header_matches_the_python_table() -> None:
    defines = _header_defines()
    assert defines["RC_PROTOCOL_MAJOR_DEFAULT"] == PROTOCOL_MAJOR
    assert defines["RC_PROTOCOL_MINOR"] == PROTOCOL_MINOR
    assert defines["RC_MAX_PAYLOAD"] == MAX_PAYLOAD
    assert defines["RC_TABLE_HASH"] == TABLE_HASH
    assert defines["RC_TABLE_HASH_1_0"] == table_hash(0)
    assert defines["RC_NAME_MAX"] == NAME_MAX
    assert defines["RC_HELLO_LEN"] == struct.calcsize(MESSAGE_LAYOUTS[MsgType.HELLO_REPLY])
    for cap in Capability:
        if cap:
            assert defines[f"RC_CAP_{cap.name}"] == cap.value, cap
    for msg in MsgType:
        assert defines[f"RC_MSG_{msg.name}"] == msg.value, msg
    for code in ErrorCode:
        assert defines[f"RC_ERR_{code.name}"] == code.value, code


# --- protocol 1.1: the board's name -------------------------------------------------

names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_", max_size=NAME_MAX)
HELLO_1_0 = "<BBBBBBIHBII"


def test_the_1_0_table_hash_is_unchanged() -> None:
    """A 1.1 host still recognises the table of every 1.0 board already out there."""
    assert table_hash(0) == 0x5D2C2839
    assert table_hash(1) == TABLE_HASH != table_hash(0)


@given(names)
def test_set_name_round_trip(name: str) -> None:
    payload = name_bytes(name)
    frame = Frame(MsgType.SET_NAME, seq=1, payload=payload)
    assert decode_frame(encode_frame(frame)[:-1]).payload.decode("ascii") == name


@given(st.text(max_size=40))
def test_only_short_plain_names_are_accepted(text: str) -> None:
    ok = len(text) <= NAME_MAX and all(c in "abcdefghijklmnopqrstuvwxyz0123456789-_" for c in text)
    if ok:
        assert name_bytes(text) == text.encode("ascii")
    else:
        with pytest.raises(ValueError, match="16 characters"):
            name_bytes(text)


@given(names, st.integers(0, 0xFFFFFFFF), st.binary(max_size=MAX_PAYLOAD - 37))
def test_hello_reply_carries_the_name_and_stays_readable_by_1_0(
    name: str, instance: int, later: bytes
) -> None:
    fixed = struct.pack(HELLO_1_0, 1, 1, 1, 1, 0, 1, instance, 0x1FF, 64, 7, TABLE_HASH)
    payload = fixed + name.encode("ascii").ljust(NAME_MAX, b"\0") + later  # later minors append
    assert payload[:21] == fixed  # what a 1.0 host reads
    assert (
        pack(MsgType.HELLO_REPLY, *struct.unpack(HELLO_1_0, fixed), name.encode()) == (payload[:37])
    )
    hello = parse_hello(payload)
    assert hello.name == (name or None)
    assert hello.instance_id == instance and Capability.NAME in hello.capabilities


def test_a_1_0_hello_reply_has_no_name() -> None:
    fixed = struct.pack(HELLO_1_0, 1, 0, 1, 0, 0, 1, 5, 0xFF, 64, 7, table_hash(0))
    hello = parse_hello(fixed)
    assert hello.name is None and hello.protocol == (1, 0)
    assert Capability.NAME not in hello.capabilities
    with pytest.raises(CorruptFrame):
        parse_hello(fixed[:20])


# --- protocol 1.2: a telemetry frame cut short for a reply ----------------------------


@pytest.mark.parametrize("chunk", [1, 3, 64])
def test_a_cut_frame_is_counted_as_cut_not_corrupt(chunk: int) -> None:
    telemetry = encode_frame(Frame(MsgType.TELEMETRY, 7, bytes(range(1, 23))))
    ack = encode_frame(Frame(MsgType.ACK, 7, pack(MsgType.ACK, 3, MsgType.DRIVE)))
    after = encode_frame(Frame(MsgType.TELEMETRY, 8, bytes(range(1, 23))))
    stream = telemetry[:11] + CUT_MARK + ack + after  # the ACK takes the cut frame's seq
    decoder = FrameDecoder()
    frames = []
    for i in range(0, len(stream), chunk):
        frames += decoder.feed(stream[i : i + chunk])
    assert [(f.type, f.seq) for f in frames] == [(MsgType.ACK, 7), (MsgType.TELEMETRY, 8)]
    assert (decoder.stats.cut, decoder.stats.corrupt, decoder.stats.gaps) == (1, 0, 0)


def test_a_broken_frame_without_the_whole_mark_is_corrupt() -> None:
    ack = encode_frame(Frame(MsgType.ACK, 1, pack(MsgType.ACK, 3, MsgType.DRIVE)))
    for tail in (b"\x00", b"\x00\x00", b"\x00\x01\x00\x00"):  # noise, not a cut
        decoder = FrameDecoder()
        decoder.feed(ack[:4] + tail + ack)
        assert decoder.stats.cut == 0 and decoder.stats.corrupt >= 1, tail
