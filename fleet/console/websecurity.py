"""The console's web hardening: the session cookie, cross-site request refusal, headers.

The teacher's browser holds its login in a cookie the page's JavaScript
cannot read (``HttpOnly``), that the browser sends only to this console and
never with a request another site starts (``SameSite=Strict``), and only over
HTTPS when the console serves HTTPS (``Secure``). Scripts and the
``roboclass fleet`` command send ``Authorization: Bearer TOKEN`` instead.

**CSRF.** A cookie is sent by the browser on its own, so every state-changing
request (POST, PUT, PATCH, DELETE under ``/api/``) must show it comes from the
console's own page. We check where the request comes from rather than use a
double-submit token:

- ``Sec-Fetch-Site`` (every current browser sends it) must be ``same-origin``
  (or ``none``: typed by the user, never a page's doing);
- without it, ``Origin`` must be the console's own origin (scheme, host and
  port);
- a cookie-only request with neither header is refused: no browser that
  could run a page sends that.

Why this and not a token: it covers the login and set-up forms too (no
session yet to tie a token to), needs no state and no change to every
``fetch``, and ``SameSite=Strict`` already keeps the cookie off cross-site
requests; the origin check adds what SameSite cannot see (another port on
the same hub, say ``http://hub:9999``, is the same *site* but another
*origin*). Bearer-token requests carry no ambient credential, so a
cross-site page cannot forge one; they still get the check when a browser
says the request is cross-site.

Every response also gets a Content-Security-Policy that allows only the
console's own files (no inline scripts, no frames: a page cannot be framed
to trick a click on STOP ALL or "delete class"), ``nosniff``, no referrer,
and ``Cache-Control: no-store`` on the API (names and results stay out of
the browser's cache).

**API tokens** (``/api/v1/tokens``, :mod:`fleet.console.api.tokens`) belong to
one teacher, who alone lists and revokes them.
"""

from __future__ import annotations

from fastapi import Request, Response
from starlette.types import ASGIApp, Scope

from fleet.core import webguard

__all__ = [
    "COOKIE",
    "SECURITY_HEADERS",
    "STUDENT_COOKIE",
    "CrossSiteGuard",
    "clear_session_cookie",
    "refusal",
    "request_token",
    "set_session_cookie",
    "student_token",
]

COOKIE = "rc_session"
#: A student's session (the workspace at /s/): another cookie, so a teacher and a student
#: can share a browser, and a student's cookie is never taken for a teacher's.
STUDENT_COOKIE = "rc_student"
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS: list[tuple[bytes, bytes]] = [
    (b"content-security-policy", _CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
REFUSED = (
    "cross-site request refused: use the console's own page "
    "/ 已拒绝跨站请求：请使用控制台自己的页面"
)


def request_token(request: Request) -> tuple[str, str]:
    """The request's token and where it came from: ``bearer``, ``cookie`` or ``""``."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token:
        return token, "bearer"
    cookie = request.cookies.get(COOKIE, "")
    return (cookie, "cookie") if cookie else ("", "")


def student_token(request: Request) -> str:
    """The student's session token from its cookie, or ``""``."""
    return request.cookies.get(STUDENT_COOKIE, "")


def _is_https(request: Request) -> bool:
    return request.url.scheme == "https"


def set_session_cookie(
    response: Response, request: Request, token: str, ttl_s: float, name: str = COOKIE
) -> None:
    """The login as an ``HttpOnly``, ``SameSite=Strict`` cookie (``Secure`` over HTTPS)."""
    response.set_cookie(
        name,
        token,
        max_age=max(1, int(ttl_s)),
        path="/",
        httponly=True,
        samesite="strict",
        secure=_is_https(request),
    )


def clear_session_cookie(response: Response, request: Request, name: str = COOKIE) -> None:
    response.delete_cookie(
        name, path="/", httponly=True, samesite="strict", secure=_is_https(request)
    )


def refusal(scope: Scope) -> str | None:
    """Why a state-changing request must be refused as cross-site (a teacher's or a student's
    cookie without the console's origin), or None to let it through."""
    return webguard.refusal(scope, (COOKIE, STUDENT_COOKIE))


class CrossSiteGuard(webguard.CrossSiteGuard):
    """ASGI middleware: refuses cross-site state changes (403) and adds the security headers."""

    def __init__(self, app: ASGIApp) -> None:
        super().__init__(
            app, cookies=(COOKIE, STUDENT_COOKIE), headers=SECURITY_HEADERS, refused=REFUSED
        )
