"""What the board tells the host, as typed values in SI units."""

from __future__ import annotations

import enum
import struct
import time
from dataclasses import dataclass, field

from firmware_bridge.errors import CorruptFrame
from firmware_bridge.protocol import NAME_MAX, MsgType, StateFlag, TelemetryField, unpack

__all__ = [
    "BOARDS",
    "Capability",
    "Hello",
    "PinMode",
    "Telemetry",
    "parse_hello",
    "parse_telemetry",
]

BOARDS = {1: "ATmega328P (Arduino UNO/Nano)"}


class Capability(enum.IntFlag):
    """What a firmware can do (HELLO_REPLY)."""

    NONE = 0
    MOTORS = 0x01
    SERVOS = 0x02
    PINS = 0x04
    SUBSCRIBE = 0x08
    ULTRASONIC = 0x10
    ENCODERS = 0x20
    IMU = 0x40
    BATTERY = 0x80
    NAME = 0x100  # protocol 1.1: SET_NAME, the name in EEPROM and in HELLO_REPLY


class PinMode(enum.IntEnum):
    """PIN_MODE values."""

    INPUT = 0
    OUTPUT = 1
    INPUT_PULLUP = 2


@dataclass(frozen=True)
class Hello:
    """The board's HELLO_REPLY."""

    protocol: tuple[int, int]
    firmware: str
    board: str
    instance_id: int
    capabilities: Capability
    rx_buffer: int
    boot_id: int
    table_hash: int
    name: str | None = None  # the name in the board's EEPROM (1.1); None: no name or a 1.0 board

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {
            "protocol": f"{self.protocol[0]}.{self.protocol[1]}",
            "firmware": self.firmware,
            "board": self.board,
            "instance_id": f"{self.instance_id:08x}",
            "capabilities": [c.name for c in Capability if c and c in self.capabilities],
            "rx_buffer": self.rx_buffer,
            "boot_id": f"{self.boot_id:08x}",
            "table_hash": f"{self.table_hash:08x}",
            "name": self.name,
        }


_HELLO_1_0 = "<BBBBBBIHBII"  # 21 bytes; later minors only append fields
_NAME_AT = 21


def parse_hello(payload: bytes) -> Hello:
    """Decode a HELLO_REPLY payload of any 1.x board (later minors only append fields)."""
    if len(payload) < struct.calcsize(_HELLO_1_0):
        raise CorruptFrame(f"HELLO_REPLY payload of {len(payload)} bytes, expected at least 21")
    major, minor, fw_major, fw_minor, fw_patch, board, instance, caps, rx, boot, table = (
        struct.unpack_from(_HELLO_1_0, payload)
    )
    name = None
    if len(payload) >= _NAME_AT + NAME_MAX:
        raw = payload[_NAME_AT : _NAME_AT + NAME_MAX].rstrip(b"\0")
        name = raw.decode("ascii", "replace") or None
    return Hello(
        protocol=(major, minor),
        firmware=f"{fw_major}.{fw_minor}.{fw_patch}",
        board=BOARDS.get(board, f"unknown board type {board}"),
        instance_id=instance,
        capabilities=Capability(caps),
        rx_buffer=rx,
        boot_id=boot,
        table_hash=table,
        name=name,
    )


@dataclass(frozen=True)
class Telemetry:
    """One TELEMETRY frame. Absent fields are None (the sensor is not configured)."""

    seq: int
    board_ms: int
    state: StateFlag
    distance: float | None = None  # metres; inf when no echo (nothing in range)
    encoders: tuple[int, int] | None = None  # ticks, left and right
    heading: float | None = None  # degrees 0..360, integrated gyro
    rates: tuple[float, float, float] | None = None  # degrees per second, x y z
    voltage: float | None = None  # volts
    digital: int | None = None  # bit n = level of pin n
    analog: dict[int, int] = field(default_factory=dict)  # channel -> 0..1023
    received: float = 0.0  # time.monotonic() on the host

    @property
    def armed(self) -> bool:
        return StateFlag.ARMED in self.state

    @property
    def failsafe(self) -> bool:
        return StateFlag.FAILSAFE in self.state

    def level(self, pin: int) -> bool | None:
        """The level of a subscribed digital pin; None when no pin is subscribed."""
        return None if self.digital is None else bool(self.digital >> pin & 1)


def parse_telemetry(payload: bytes) -> Telemetry:
    """Decode a TELEMETRY payload; raise CorruptFrame when it is too short."""
    seq, board_ms, mask_value, state_value = unpack(MsgType.TELEMETRY, payload)
    mask = TelemetryField(mask_value)
    values: dict[str, object] = {}
    at = 9

    def take(fmt: str) -> tuple[int, ...]:
        nonlocal at
        out = struct.unpack_from("<" + fmt, payload, at)
        at += struct.calcsize("<" + fmt)
        return out

    try:
        if TelemetryField.DISTANCE in mask:
            (mm,) = take("H")
            values["distance"] = float("inf") if mm == 0xFFFF else mm / 1000
        if TelemetryField.ENCODERS in mask:
            left, right = take("ii")
            values["encoders"] = (left, right)
        if TelemetryField.IMU in mask:
            cdeg, rx, ry, rz = take("Hhhh")
            values["heading"] = cdeg / 100
            values["rates"] = (rx / 10, ry / 10, rz / 10)
        if TelemetryField.BATTERY in mask:
            (mv,) = take("H")
            values["voltage"] = mv / 1000
        if TelemetryField.DIGITAL in mask:
            (values["digital"],) = take("I")
        if TelemetryField.ANALOG in mask:
            (channels,) = take("B")
            values["analog"] = {ch: take("H")[0] for ch in range(6) if channels & (1 << ch)}
    except struct.error as e:
        raise CorruptFrame(f"telemetry too short for mask {mask!r}") from e
    return Telemetry(
        seq=seq,
        board_ms=board_ms,
        state=StateFlag(state_value),
        received=time.monotonic(),
        **values,  # type: ignore[arg-type]
    )
