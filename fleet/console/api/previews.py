"""A robot's live camera preview.

``POST /api/v1/devices/{device}/preview`` (``{"on": true|false}``): off by
default, on for at most 2 minutes after it was turned on (again); audited.
``GET /api/v1/devices/{device}/preview/events``: its newest thumbnail as
Server-Sent Events (``event: preview``), ``event: off`` when it ends.
Thumbnails live only in memory (:mod:`fleet.console.preview`).
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import StreamingResponse

from fleet.console.api.deps import ConsoleDep, Teacher
from fleet.console.api.models import PreviewOff, PreviewOn, PreviewSwitch
from fleet.console.api.streams import EVENT_STREAM, event_stream, preview_events
from fleet.console.store import AuditAction
from fleet.core.errors import PreviewError

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["previews"])


@router.post("/devices/{device}/preview")
def preview(
    device: str, body: PreviewSwitch, console: ConsoleDep, user: Teacher
) -> PreviewOn | PreviewOff:
    """Turn a robot's preview on (409 when too many are on) or off; audited."""
    if console.db.devices.get(device) is None:
        raise HTTPException(404, f"no device {device}")
    if not body.on:
        if console.preview_off(device):
            console.db.audit.add(user, AuditAction.PREVIEW, device=device, on=False)
        return PreviewOff(device=device, on=False)
    try:
        watch = console.preview_on(device, user)
    except PreviewError as exc:
        raise HTTPException(409, str(exc)) from exc
    console.db.audit.add(user, AuditAction.PREVIEW, device=device, on=True)
    return PreviewOn(device=device, by=watch["by"], until=watch["until"], on=True)


@router.get(
    "/devices/{device}/preview/events", response_class=StreamingResponse, responses=EVENT_STREAM
)
async def preview_stream(
    device: str, request: Request, console: ConsoleDep, _user: Teacher
) -> StreamingResponse:
    """The newest thumbnail (``event: preview``) whenever it changes; ``event: off`` at the end."""
    return event_stream(preview_events(console, device, request, request.app.state.closing))
