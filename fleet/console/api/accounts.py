"""Health, logging in and out.

``POST /api/v1/login`` answers a token (or, with ``"session": "cookie"``, sets
the page's HttpOnly cookie); after :data:`LOGIN_FAILURES` wrong passwords in a
minute for one name from one client it answers 429 until the minute is over.
A wrong name costs what a wrong password does (one argon2id run,
:mod:`fleet.console.passwords`), so the time an answer takes tells no names.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response

from fleet.console.api.deps import ConsoleDep, Teacher, client_key
from fleet.console.api.models import Health, Login, LoginCookie, LoginToken, Revoked
from fleet.console.websecurity import clear_session_cookie, request_token, set_session_cookie
from fleet.core.limits import FailureLimiter

__all__ = ["LOGIN_FAILURES", "TOO_MANY", "router"]

#: Wrong passwords allowed per teacher name and client in a minute.
LOGIN_FAILURES = 5
TOO_MANY = "too many wrong passwords: wait {s} s and try again / 密码错误次数太多：请等 {s} 秒再试"

router = APIRouter(prefix="/api/v1", tags=["accounts"])


@router.get("/health")
def health(console: ConsoleDep) -> Health:
    """Whether the console is up and reaches its broker (no login needed)."""
    return Health(
        ok=True,
        broker_connected=console.link.connected,
        kid=console.key.kid,
        teachers=console.db.accounts.has_teachers(),
    )


@router.post("/login")
def login(
    body: Login, request: Request, response: Response, console: ConsoleDep
) -> LoginToken | LoginCookie:
    """A login token (or the page's cookie) for a teacher's name and password."""
    limiter: FailureLimiter = request.app.state.limiter
    key = client_key(request, body.username)
    wait = limiter.retry_after(key)
    if wait > 0:
        seconds = max(1, round(wait))
        raise HTTPException(429, TOO_MANY.format(s=seconds), headers={"Retry-After": str(seconds)})
    ttl = console.config.session_ttl_s
    token = console.db.accounts.login(body.username, body.password, ttl)
    if token is None:
        limiter.failed(key)
        raise HTTPException(401, "wrong name or password")
    limiter.succeeded(key)
    if body.session == "cookie":
        set_session_cookie(response, request, token, ttl)
        return LoginCookie(username=body.username, expires_in=ttl)
    return LoginToken(token=token, expires_in=ttl)


@router.post("/logout")
def logout(request: Request, response: Response, console: ConsoleDep, _user: Teacher) -> Revoked:
    """Revoke the token this request came with (and clear the page's cookie)."""
    clear_session_cookie(response, request)
    return Revoked(revoked=console.db.accounts.revoke_token(request_token(request)[0]))
