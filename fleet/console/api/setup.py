"""First run: the first teacher account, made from the browser.

``POST /api/v1/setup`` works only while there is no teacher (no default
password), and only with the one-time set-up code that ``roboclass console
serve`` prints on the console's own screen (a student on the LAN who finds a
fresh console cannot claim it); it answers with a login token. Wrong codes
count as failed logins (429 after 5 a minute).
"""

from __future__ import annotations

import hmac
import logging
import secrets

from fastapi import APIRouter, HTTPException, Request, Response

from fleet.console.api.deps import ConsoleDep
from fleet.console.api.models import Setup, SetupCookie, SetupToken
from fleet.console.store import AuditAction
from fleet.console.websecurity import set_session_cookie
from fleet.core.limits import FailureLimiter

__all__ = ["new_setup_code", "router"]

logger = logging.getLogger(__name__)

_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"

router = APIRouter(prefix="/api/v1", tags=["accounts"])


def new_setup_code() -> str:
    """Eight letters and digits to read off a screen, e.g. ``K7QM-3XPA`` (about 40 bits)."""
    text = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(8))
    return f"{text[:4]}-{text[4:]}"


def _same_code(typed: str, code: str) -> bool:
    def norm(text: str) -> str:
        return "".join(c for c in text.upper() if c.isalnum())

    return hmac.compare_digest(norm(typed).encode(), norm(code).encode())


@router.post("/setup")
def setup(
    body: Setup, request: Request, response: Response, console: ConsoleDep
) -> SetupToken | SetupCookie:
    """The first teacher account, with the code the console's screen shows; a login."""
    state = request.app.state
    limiter: FailureLimiter = state.limiter
    key = ("set-up", request.client.host if request.client else "?")
    wait = limiter.retry_after(key)
    if wait > 0:
        seconds = max(1, round(wait))
        raise HTTPException(
            429,
            f"too many wrong codes: wait {seconds} s / 错误次数太多：请等 {seconds} 秒",
            headers={"Retry-After": str(seconds)},
        )
    accounts = console.db.accounts
    with state.setup_lock:
        if accounts.has_teachers():
            raise HTTPException(409, "this console already has a teacher: log in")
        if not _same_code(body.code, state.setup_code):
            limiter.failed(key)
            raise HTTPException(
                403,
                "wrong set-up code: `roboclass console serve` prints it on the console's screen",
            )
        accounts.add_teacher(body.username, body.password)
        state.setup_code = new_setup_code()  # used: the next one is new
        console.db.audit.add(body.username, AuditAction.SETUP)
    ttl = console.config.session_ttl_s
    token = accounts.login(body.username, body.password, ttl)
    if token is None:  # pragma: no cover - the account was just made
        raise HTTPException(500, "the account was made but logging in failed")
    logger.info("first teacher account %s made from the browser", body.username)
    if body.session == "cookie":
        set_session_cookie(response, request, token, ttl)
        return SetupCookie(username=body.username)
    return SetupToken(token=token, username=body.username)
