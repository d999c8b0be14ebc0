"""The room's e-stop: its state, STOP ALL, and clearing it."""

from __future__ import annotations

from fastapi import APIRouter, Request

from fleet.console.api.deps import ConsoleDep, Teacher
from fleet.console.store import AuditAction, EStopState

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["e-stop"])


@router.get("/estop")
def estop(console: ConsoleDep, _user: Teacher) -> EStopState:
    """The e-stop now: on or off, its epoch, who changed it and when."""
    return console.db.estop.get()


@router.post("/stop")
def stop(request: Request, console: ConsoleDep, user: Teacher) -> EStopState:
    """STOP every robot in the room now (retained, with a new epoch), and every student's
    run in the simulator; audited."""
    state = console.stop_all(user)
    runs = request.app.state.simruns
    if runs is not None:
        runs.stop_all("estop")
    console.db.audit.add(user, AuditAction.STOP, epoch=state.epoch)
    return state


@router.post("/estop/clear")
def clear_stop(console: ConsoleDep, user: Teacher) -> EStopState:
    """Clear the e-stop (retained, with a new epoch): robots may run lessons again; audited."""
    state = console.clear_stop(user)
    console.db.audit.add(user, AuditAction.CLEAR_STOP, epoch=state.epoch)
    return state


@router.post("/release", deprecated=True)
def release(console: ConsoleDep, user: Teacher) -> EStopState:
    """The old name of ``POST /api/v1/estop/clear``: it goes in the release after next."""
    return clear_stop(console, user)
