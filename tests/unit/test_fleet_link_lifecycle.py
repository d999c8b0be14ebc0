"""The MQTT link's lifecycle: one close (safe twice), closed, ``with`` starts and closes it."""

from __future__ import annotations

import socket

import pytest

from fleet.core.link import Link
from rcbase.closeable import Closeable


def free_port() -> int:
    """A port nothing listens on (the link keeps trying; that is all these tests need)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_link_is_closeable_and_started_by_with() -> None:
    with Link("127.0.0.1", free_port(), client_id="rc-test") as link:
        assert isinstance(link, Closeable)
        assert link._thread is not None and link._thread.is_alive()
        assert not link.connected and not link.closed
    assert link.closed and not link._thread.is_alive()
    link.close()  # twice is fine
    with pytest.raises(RuntimeError, match="closed"):
        link.start()


def test_a_link_closed_before_it_started_has_nothing_to_join() -> None:
    link = Link("127.0.0.1", free_port(), client_id="rc-test")
    link.close(send_will=True)
    assert link.closed and link._thread is None
