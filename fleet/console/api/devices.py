"""The room's robots: the list, binding a student, identify, preflight, the log."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException

from fleet.console.api.deps import ConsoleDep, Teacher
from fleet.console.api.models import Bind, Binding, DeviceView, Sent

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["devices"])


@router.get("/devices")
def devices(console: ConsoleDep, _user: Teacher) -> list[DeviceView]:
    """Every robot the room knows, with its student and newest telemetry."""
    return [
        DeviceView(**d.to_json(), telemetry=console.telemetry.get(d.device))
        for d in console.db.devices.list()
    ]


@router.put("/devices/{device}/student")
def bind(device: str, body: Bind, console: ConsoleDep, _user: Teacher) -> Binding:
    """Bind the robot to a student of a class (made if new); ``student: null`` unbinds."""
    db = console.db
    row = db.devices.get(device) if db.rosters.bind(device, body.student, body.roster) else None
    if row is None:
        raise HTTPException(404, f"no device {device}")
    return Binding(device=device, student=row.student, student_id=row.student_id, roster=row.roster)


@router.post("/devices/{device}/identify")
def identify(device: str, console: ConsoleDep, _user: Teacher) -> Sent:
    """Make the robot show itself (blink, beep)."""
    console.identify(device)
    return Sent(device=device, sent="identify")


@router.post("/devices/{device}/preflight")
def preflight(device: str, console: ConsoleDep, _user: Teacher) -> Sent:
    """Ask the robot to check its motors and sensors."""
    console.preflight(device)
    return Sent(device=device, sent="preflight")


@router.get("/devices/{device}/log")
def device_log(device: str, console: ConsoleDep, _user: Teacher) -> list[dict[str, Any]]:
    """The robot's newest log lines (in memory): ``{job, stream, line}``."""
    return list(console.logs.get(device, ()))
