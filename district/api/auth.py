"""Staff logins: ``/api/v1/health``, ``/login``, ``/logout``, ``/me``."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from district.api.deps import COOKIE, Staff, StoreDep, get_ingest, request_token
from district.staff import SESSION_S
from fleet.core.limits import FailureLimiter

__all__ = ["LOGIN_FAILURES", "router"]

#: Wrong passwords allowed per name and client in a minute.
LOGIN_FAILURES = 5

router = APIRouter(prefix="/api/v1", tags=["staff"])


class Login(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)
    #: "token": the answer carries it (scripts); "cookie": the page's HttpOnly cookie.
    session: Literal["token", "cookie"] = "token"


class Health(BaseModel):
    ok: bool
    broker_connected: bool | None
    staff: bool


@router.get("/health")
def health(request: Request, store: StoreDep) -> Health:
    """Whether the district is up and its ingest reaches the broker (no login needed)."""
    ingest = get_ingest(request)
    return Health(
        ok=True,
        broker_connected=None if ingest is None else ingest.connected,
        staff=store.staff.any(),
    )


@router.post("/login")
def login(body: Login, request: Request, response: Response, store: StoreDep) -> dict[str, object]:
    """A login token (or the page's cookie) for a staff member's name and password."""
    limiter: FailureLimiter = request.app.state.limiter
    key = ("login", body.username, request.client.host if request.client else "?")
    wait = limiter.retry_after(key)
    if wait > 0:
        seconds = max(1, round(wait))
        raise HTTPException(
            429,
            f"too many wrong passwords: wait {seconds} s / 密码错误次数太多：请等 {seconds} 秒",
            headers={"Retry-After": str(seconds)},
        )
    token = store.staff.login(body.username, body.password)
    if token is None:
        limiter.failed(key)
        raise HTTPException(401, "wrong name or password / 用户名或密码不对")
    limiter.succeeded(key)
    if body.session == "cookie":
        response.set_cookie(
            COOKIE,
            token,
            max_age=int(SESSION_S),
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
            path="/",
        )
        return {"username": body.username, "expires_in": SESSION_S}
    return {"token": token, "expires_in": SESSION_S}


@router.post("/logout")
def logout(request: Request, response: Response, store: StoreDep, _who: Staff) -> dict[str, bool]:
    """End the login this request came with."""
    response.delete_cookie(COOKIE, path="/")
    token = request_token(request)
    return {"revoked": bool(token) and store.staff.logout(token or "")}


@router.get("/me")
def me(who: Staff) -> dict[str, str]:
    """Who is logged in."""
    return {"username": who}
