"""What the host makes of the board's replies: who waits for which, and what they mean.

:class:`Pending` matches a reply to the request that waits for it (an
ACK/NAK by the request's seq, a PONG by its token); :func:`check_ack` turns
a NAK into the error it stands for; :func:`check_hello` refuses a board
that speaks another major version of the protocol.
"""

from __future__ import annotations

import logging
import threading

from firmware_bridge.errors import CommandRefused, NotArmed, VersionMismatch
from firmware_bridge.messages import Hello
from firmware_bridge.protocol import (
    PROTOCOL_MAJOR,
    PROTOCOL_MINOR,
    ErrorCode,
    Frame,
    MsgType,
    table_hash,
    unpack,
)

__all__ = ["Key", "Pending", "Waiter", "check_ack", "check_hello"]

logger = logging.getLogger(__name__)

Key = tuple[str, int]  # ("seq", seq) for an ACK/NAK, ("pong", token) for a PONG


class Waiter:
    """One request's wait: ``event`` is set when ``frame`` (its reply) arrived, or on close."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.frame: Frame | None = None


class Pending:
    """The requests waiting for a reply, by key; the reader thread hands replies in."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: dict[Key, Waiter] = {}

    def add(self, key: Key, waiter: Waiter) -> None:
        with self._lock:
            self._waiters[key] = waiter

    def remove(self, key: Key) -> None:
        with self._lock:
            self._waiters.pop(key, None)

    def answer(self, key: Key, frame: Frame) -> None:
        """The reply ``frame`` arrived: wake whoever waits for ``key`` (nobody: it is dropped)."""
        with self._lock:
            waiter = self._waiters.get(key)
        if waiter is not None:
            waiter.frame = frame
            waiter.event.set()

    def wake_all(self) -> None:
        """Wake every waiter without a reply (the link is closing)."""
        with self._lock:
            for waiter in self._waiters.values():
                waiter.event.set()


def check_ack(msg: MsgType, frame: Frame, failsafe: bool) -> None:
    """Return on an ACK; raise NotArmed or CommandRefused (with the board's code) on a NAK."""
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
            + (" (its watchdog stopped it)" if failsafe else "")
            + ": call arm() first",
            code=code,
        )
    raise CommandRefused(f"the board refused {msg.name}: {name}", code=code)


def check_hello(hello: Hello, port: str) -> None:
    """Raise VersionMismatch for another major version; log a message table we do not know."""
    major = hello.protocol[0]
    if major != PROTOCOL_MAJOR:
        flash = f"`roboclass bridge flash --port {port}`"
        if major < PROTOCOL_MAJOR:
            text = (
                f"firmware {hello.firmware} on {port} speaks protocol {major}.x, "
                f"older than this RoboClass's {PROTOCOL_MAJOR}.x: update the board with {flash}"
            )
        else:
            text = (
                f"firmware {hello.firmware} on {port} speaks protocol {major}.x, "
                f"newer than this RoboClass's {PROTOCOL_MAJOR}.x: update RoboClass, "
                f"or put the matching firmware on the board with {flash}"
            )
        raise VersionMismatch(
            text, board_major=major, host_major=PROTOCOL_MAJOR, firmware=hello.firmware
        )
    # A board reports the table of the minor both sides speak (a 1.0 board: 1.0's);
    # any minor up to the shared one is a table we know.
    shared = min(hello.protocol[1], PROTOCOL_MINOR)
    if hello.table_hash not in {table_hash(m) for m in range(shared + 1)}:
        logger.warning(
            "firmware %s on %s was built from another message table (%08x, ours %08x)",
            hello.firmware,
            port,
            hello.table_hash,
            table_hash(shared),
        )
