"""What the district's routes depend on: the store, the ingest counters, the staff member."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, HTTPException, Request

from district.store import DistrictStore

if TYPE_CHECKING:
    from district.ingest import Ingest

__all__ = ["COOKIE", "Staff", "StoreDep", "get_ingest", "get_store", "request_token", "staff"]

#: The staff page's login cookie (HttpOnly, SameSite=Strict).
COOKIE = "rc_district"


def get_store(request: Request) -> DistrictStore:
    """The store the app serves (``app.state.store``)."""
    store: DistrictStore = request.app.state.store
    return store


def get_ingest(request: Request) -> Ingest | None:
    """The MQTT ingest (``app.state.ingest``), or ``None`` for an app without one."""
    ingest: Ingest | None = request.app.state.ingest
    return ingest


def request_token(request: Request) -> str | None:
    """The login token a request carries: ``Authorization: Bearer`` or the page's cookie."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return request.cookies.get(COOKIE) or None


def staff(request: Request) -> str:
    """The district staff member a request's login belongs to, else 401."""
    token = request_token(request)
    name = get_store(request).staff.token_user(token) if token else None
    if name is None:
        raise HTTPException(
            401,
            "log in first: POST /api/v1/login / 请先登录",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return name


StoreDep = Annotated[DistrictStore, Depends(get_store)]
Staff = Annotated[str, Depends(staff)]
