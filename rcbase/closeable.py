"""One lifecycle for everything that owns a resource (gpiozero's ``GPIOBase`` idea).

A :class:`Closeable` is closed once: :meth:`~Closeable.close` may be called
again safely, from any thread, and :attr:`~Closeable.closed` tells whether
it has been. It works as a context manager. A subclass puts what it must do
on closing in :meth:`~Closeable._close`, which runs exactly once::

    class Port(Closeable):
        def __init__(self, path: str) -> None:
            self._file = open(path, "rb")

        def _close(self) -> None:
            self._file.close()

    with Port("/dev/null") as port:
        ...
    assert port.closed
"""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Self

__all__ = ["Closeable"]

# One lock for every object's first close: closing is rare, and a lock per
# object would need every subclass to call ``__init__``.
_closing = threading.Lock()


class Closeable:
    """Base of everything that owns a device, port, socket, process or thread."""

    _closed: bool = False

    @property
    def closed(self) -> bool:
        """True once :meth:`close` has been called."""
        return self._closed

    def close(self) -> None:
        """Release what this object owns. Safe to call twice, and from any thread."""
        with _closing:
            if self._closed:
                return
            self._closed = True
        self._close()

    def _close(self) -> None:
        """Release what this object owns; runs once, on the first :meth:`close`."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
