"""The session and a teacher's own API tokens (list, make, revoke).

An API token belongs to one teacher: the audit log names that teacher for
whatever the token does; a teacher lists and revokes only their own; only a
login (a person who typed the password), not another API token, can make
one, so a leaked script token cannot breed more.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request

from fleet.console.api.deps import ConsoleDep, Teacher
from fleet.console.api.models import NewToken, Session, TokenMade, TokenRevoked, TokenView
from fleet.console.store import LOGIN, AuditAction
from fleet.console.websecurity import request_token

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["accounts"])


@router.get("/session")
def session(request: Request, console: ConsoleDep, user: Teacher) -> Session:
    """Who this request is, and whether it is a login (not an API token)."""
    info = console.db.accounts.token_info(request_token(request)[0])
    return Session(username=user, login=info is not None and info.is_login)


@router.get("/tokens")
def tokens(request: Request, console: ConsoleDep, user: Teacher) -> list[TokenView]:
    """The teacher's live tokens, newest first."""
    info = console.db.accounts.token_info(request_token(request)[0])
    current = None if info is None else info.id
    return [
        TokenView(**t.to_json(), current=t.id == current) for t in console.db.accounts.tokens(user)
    ]


@router.post("/tokens")
def new_token(body: NewToken, request: Request, console: ConsoleDep, user: Teacher) -> TokenMade:
    """A new API token for scripts (only from a login); shown once; audited."""
    accounts = console.db.accounts
    info = accounts.token_info(request_token(request)[0])
    if info is None or not info.is_login:
        raise HTTPException(
            403,
            "only a teacher who logged in can make API tokens, not another token "
            "/ 只有登录的教师才能创建 API 令牌",
        )
    if body.name == LOGIN:
        raise HTTPException(400, "choose another name than 'login'")
    token = accounts.new_token(user, body.name)
    made = accounts.token_info(token)
    made_id = None if made is None else made.id
    console.db.audit.add(user, AuditAction.TOKEN, name=body.name, id=made_id)
    return TokenMade(id=made_id, name=body.name, token=token)


@router.delete("/tokens/{token_id}")
def revoke(token_id: str, console: ConsoleDep, user: Teacher) -> TokenRevoked:
    """Revoke one of the teacher's own tokens by its id; audited."""
    if not console.db.accounts.revoke_token_id(user, token_id):
        raise HTTPException(404, f"you have no token {token_id}")
    console.db.audit.add(user, AuditAction.REVOKE_TOKEN, id=token_id)
    return TokenRevoked(id=token_id, revoked=True)
