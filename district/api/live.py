"""Live counts and the ingest's counters: ``/api/v1/live``, ``/api/v1/ingest``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from district.api.deps import Staff, StoreDep, get_ingest

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["live"])


@router.get("/live")
def live(store: StoreDep, _who: Staff, school: str | None = None) -> dict[str, Any]:
    """Each room's newest counts and the district's totals."""
    rooms = store.live.list(school)
    return {
        "rooms": [r.to_json() for r in rooms],
        "robots_online": sum(r.robots_online for r in rooms),
        "lessons_running": sum(r.lessons_running for r in rooms),
        "schools_reporting": len({r.school for r in rooms}),
    }


@router.get("/ingest")
def ingest(request: Request, _who: Staff) -> dict[str, Any]:
    """What the district took in, stored, found doubled and refused (forged, malformed)."""
    running = get_ingest(request)
    return {} if running is None else running.counts()
