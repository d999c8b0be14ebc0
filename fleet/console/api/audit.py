"""The audit log: who pushed, stopped, cleared, cancelled, purged, watched or made a token."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from fleet.console.api.deps import ConsoleDep, Teacher
from fleet.console.store import AuditEntry

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["audit"])


@router.get("/audit")
def audit(
    console: ConsoleDep,
    _user: Teacher,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 200,
    action: str | None = None,
) -> list[AuditEntry]:
    """The newest entries (of one action, when given), newest first."""
    return console.db.audit.list(limit, action)
