"""A student's run in the simulator as Server-Sent Events, for their page.

:func:`simrun_events` sends ``retry: 2000``, then every event of the run in
order (``event: world``, ``pose``, ``output``, ``camera``, ``end``; the data
is the event's JSON, see :mod:`fleet.console.simruns`), batched every
``poll_s`` seconds, a comment line every 15 s when nothing happens, and ends
after ``end`` (closing the console ends every run) or when the browser goes:
the server cancels the stream then (it does not ask ``request.is_disconnected()``
20 times a second: with a class of streams, anyio's cancel scopes that asks
with kept the event loop busy for seconds; it asks only before a heartbeat).
The page closes its ``EventSource`` on ``end`` (else the browser would ask
again and get the world, the output and the end once more). The route that
mounts it checks who may watch the run::

    @app.get("/api/v1/s/runs/{run_id}/events", responses=EVENT_STREAM)
    async def run_events(run_id: str, request: Request) -> StreamingResponse:
        ...  # the student's own run, else 404
        return event_stream(simrun_events(runs, run_id, request))
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Protocol

from fleet.console.api.streams import sse
from fleet.console.simruns import SimRuns
from fleet.core.errors import SimRunError

__all__ = ["simrun_events"]

#: How often the stream looks for new events: at 20 poses a second, about one a look.
POLL_S = 0.05
_HEARTBEAT_S = 15.0


class _Client(Protocol):
    async def is_disconnected(self) -> bool: ...


async def simrun_events(
    runs: SimRuns, run_id: str, request: _Client, *, poll_s: float = POLL_S
) -> AsyncIterator[bytes]:
    """The events of run ``run_id`` as SSE bytes (an unknown run: one ``end`` with its error)."""
    yield b"retry: 2000\n\n"
    run = runs.get(run_id)
    if run is None:
        yield sse("end", {"status": "unknown", "error": "no such run / 没有这个运行"})
        return
    try:
        sub = run.subscribe()
    except SimRunError as exc:
        yield sse("end", {"status": "refused", "error": str(exc)})
        return
    with sub:
        beat = time.monotonic()
        while True:
            events = sub.drain()
            now = time.monotonic()
            if events:
                beat = now
                yield b"".join(sse(e.kind, e.data) for e in events)
                if events[-1].kind == "end":
                    return
            elif now - beat > _HEARTBEAT_S:
                if await request.is_disconnected():
                    return
                beat = now
                yield b": still here\n\n"
            await asyncio.sleep(poll_s)
