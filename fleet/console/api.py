"""The console's JSON API (FastAPI), served by uvicorn in a thread.

Every ``/api/v1`` route but ``health``, ``login`` and ``setup`` needs
``Authorization: Bearer TOKEN``: a token from ``POST /api/v1/login`` (teacher
name and password; it lasts ``ConsoleConfig.session_ttl_s``, 12 h by default,
and ``POST /api/v1/logout`` revokes it) or an API token made with
``roboclass console token`` or on the console's page (no expiry; each acts as
one teacher, who alone can list and revoke it: ``/api/v1/tokens``). The page
itself logs in with ``"session": "cookie"``: the token then lives in an
HttpOnly, SameSite=Strict cookie, and cross-site state changes are refused
(:mod:`fleet.console.websecurity`). After 5 wrong passwords in a minute
for one name from one client, login answers 429 until the minute is over.
``/bundles/{sha256}`` is open: bundles are content-addressed lesson files
(and model files, ``POST /api/v1/models/push``) that devices fetch, and every
job names the sha256 it must have.

Students are pseudonymous (:mod:`fleet.console.store.rosters`): results carry ``student``
(the display name), ``student_id`` (the pseudonym) and ``roster`` (the
class). ``POST /api/v1/rosters/{roster}/purge`` deletes a class's data.
Pushes (of lessons and models), stops, releases, cancels, purges, camera
previews and API tokens go into the audit log (``GET /api/v1/audit``).

::

    with ApiServer(console, port=8080) as server:
        print(server.url)
"""

from __future__ import annotations

import csv
import io
import logging
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import uvicorn
from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import FileResponse, PlainTextResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from fleet.console.console import Console
from fleet.console.store import AuditAction, Result, ResultFilter
from fleet.console.web import mount_web
from fleet.console.websecurity import (
    CrossSiteGuard,
    clear_session_cookie,
    mount_access,
    request_token,
    set_session_cookie,
)
from fleet.core.errors import FleetError, JobError, ModelPushError
from fleet.core.limits import FailureLimiter
from fleet.core.protocol import ID_PATTERN
from fleet.enrol.routes import mount_enrol

__all__ = ["ApiServer", "create_app"]

logger = logging.getLogger(__name__)

_MAX_UPLOAD = 256 * 1024 * 1024
#: Wrong passwords allowed per teacher name and client in a minute.
LOGIN_FAILURES = 5
TOO_MANY = "too many wrong passwords: wait {s} s and try again / 密码错误次数太多：请等 {s} 秒再试"


class Login(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str
    password: str
    #: ``cookie``: the browser's page; the token goes into an HttpOnly cookie, not the answer.
    session: Literal["token", "cookie"] = "token"


class Bind(BaseModel):
    model_config = ConfigDict(extra="forbid")
    student: str | None = Field(default=None, min_length=1, max_length=128)
    roster: str | None = Field(default=None, min_length=1, max_length=128, pattern=r"^[^/]+$")


class Purge(BaseModel):
    model_config = ConfigDict(extra="forbid")
    confirm: str = Field(description="the class name typed again")


class Push(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lesson: str = Field(description="a built-in lesson id, or the sha256 of an uploaded bundle")
    lesson_id: str | None = Field(default=None, max_length=128)
    devices: list[Annotated[str, Field(pattern=ID_PATTERN)]] | None = None
    code: str | None = Field(default=None, max_length=200_000)
    time_limit_s: float = Field(default=300.0, gt=0, le=24 * 3600)
    max_offline_s: float = Field(default=30.0, gt=0)


class ModelPush(BaseModel):
    model_config = ConfigDict(extra="forbid")
    manifest: str = Field(description="the model's manifest (YAML text)")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="the uploaded .onnx")
    name: str | None = Field(default=None, description="install under this name instead")
    devices: list[Annotated[str, Field(pattern=ID_PATTERN)]] | None = None


def _is_sha256(text: str) -> bool:
    return len(text) == 64 and all(c in "0123456789abcdef" for c in text)


def _builtin_bundle(console: Console, lesson_id: str) -> str:
    import lessons  # noqa: PLC0415 - only when a built-in lesson is pushed

    builtin = getattr(lessons, "builtin_lessons", None)
    pack = getattr(lessons, "pack_bundle", None)
    if builtin is None or pack is None:
        raise HTTPException(404, "this RoboClass has no built-in lessons yet: upload a bundle")
    for lesson in builtin():
        if lesson.id == lesson_id:
            return console.bundles.put(pack(lesson.path))
    raise HTTPException(404, f"no built-in lesson {lesson_id!r}")


def client_key(request: Request, name: str) -> tuple[str, str, str]:
    """What failed logins are counted by: the name tried and the client's address."""
    return ("login", name, request.client.host if request.client else "?")


def _teacher(request: Request) -> str:
    """The teacher a bearer token (or the page's session cookie) belongs to, else 401."""
    console: Console = request.app.state.console
    token, _kind = request_token(request)
    user = console.db.accounts.token_user(token) if token else None
    if user is None:
        raise HTTPException(
            401,
            "log in first: POST /api/v1/login, or pass an API token",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return user


# Module level: FastAPI resolves these annotations by name (postponed evaluation).
Teacher = Annotated[str, Depends(_teacher)]


def create_app(console: Console) -> FastAPI:  # noqa: PLR0915 - one small function per route
    """The API over ``console``."""
    app = FastAPI(title="RoboClass console", version="1")
    app.state.console = console
    app.state.closing = threading.Event()  # set on close: ends the web page's event streams
    app.state.limiter = FailureLimiter(LOGIN_FAILURES, 60.0)
    limiter: FailureLimiter = app.state.limiter
    db = console.db

    @app.get("/api/v1/health")
    def health() -> dict[str, Any]:
        return {
            "ok": True,
            "broker_connected": console.link.connected,
            "kid": console.key.kid,
            "teachers": db.accounts.has_teachers(),
        }

    @app.post("/api/v1/login")
    def login(body: Login, request: Request, response: Response) -> dict[str, Any]:
        key = client_key(request, body.username)
        wait = limiter.retry_after(key)
        if wait > 0:
            seconds = max(1, round(wait))
            raise HTTPException(
                429, TOO_MANY.format(s=seconds), headers={"Retry-After": str(seconds)}
            )
        ttl = console.config.session_ttl_s
        token = db.accounts.login(body.username, body.password, ttl)
        if token is None:
            limiter.failed(key)
            raise HTTPException(401, "wrong name or password")
        limiter.succeeded(key)
        if body.session == "cookie":
            set_session_cookie(response, request, token, ttl)
            return {"username": body.username, "expires_in": ttl}
        return {"token": token, "expires_in": ttl}

    @app.post("/api/v1/logout")
    def logout(request: Request, response: Response, _user: Teacher) -> dict[str, bool]:
        clear_session_cookie(response, request)
        return {"revoked": db.accounts.revoke_token(request_token(request)[0])}

    @app.get("/api/v1/devices")
    def devices(_user: Teacher) -> list[dict[str, Any]]:
        return [
            {**d.to_json(), "telemetry": console.telemetry.get(d.device)} for d in db.devices.list()
        ]

    @app.put("/api/v1/devices/{device}/student")
    def bind(device: str, body: Bind, _user: Teacher) -> dict[str, Any]:
        row = db.devices.get(device) if db.rosters.bind(device, body.student, body.roster) else None
        if row is None:
            raise HTTPException(404, f"no device {device}")
        return {
            "device": device,
            "student": row.student,
            "student_id": row.student_id,
            "roster": row.roster,
        }

    @app.get("/api/v1/students")
    def students(_user: Teacher, roster: str | None = None) -> list[dict[str, Any]]:
        return [s.to_json() for s in db.rosters.students(roster)]

    @app.get("/api/v1/rosters")
    def rosters(_user: Teacher) -> list[dict[str, Any]]:
        return [r.to_json() for r in db.rosters.list()]

    @app.post("/api/v1/rosters/{roster}/purge")
    def purge(roster: str, body: Purge, user: Teacher) -> dict[str, Any]:
        if body.confirm != roster:
            raise HTTPException(400, f"type the class name {roster!r} to confirm")
        if not db.rosters.exists(roster):
            raise HTTPException(404, f"no class {roster!r}")
        return console.purge(roster, user).to_json()

    @app.get("/api/v1/audit")
    def audit(
        _user: Teacher,
        limit: Annotated[int, Query(ge=1, le=10_000)] = 200,
        action: str | None = None,
    ) -> list[dict[str, Any]]:
        return [e.to_json() for e in db.audit.list(limit, action)]

    @app.post("/api/v1/devices/{device}/identify")
    def identify(device: str, _user: Teacher) -> dict[str, str]:
        console.identify(device)
        return {"device": device, "sent": "identify"}

    @app.post("/api/v1/devices/{device}/preflight")
    def preflight(device: str, _user: Teacher) -> dict[str, str]:
        console.preflight(device)
        return {"device": device, "sent": "preflight"}

    @app.get("/api/v1/devices/{device}/log")
    def device_log(device: str, _user: Teacher) -> list[dict[str, Any]]:
        return list(console.logs.get(device, ()))

    @app.post("/api/v1/bundles")
    async def upload(request: Request, _user: Teacher) -> dict[str, Any]:
        data = await request.body()
        if len(data) > _MAX_UPLOAD:
            raise HTTPException(413, "bundle too large")
        return {"sha256": console.bundles.put(data), "size": len(data)}

    @app.get("/bundles/{sha256}")
    def bundle(sha256: str) -> FileResponse:
        path = console.bundles.path(sha256)
        if path is None:
            raise HTTPException(404, "no such bundle")
        return FileResponse(path, media_type="application/octet-stream")

    @app.get("/api/v1/lessons")
    def lesson_list(_user: Teacher) -> list[dict[str, Any]]:
        import lessons  # noqa: PLC0415

        builtin = getattr(lessons, "builtin_lessons", None)
        if builtin is None:
            return []
        return [{"id": lesson.id, "title": str(lesson.title)} for lesson in builtin()]

    @app.post("/api/v1/push")
    def push(body: Push, user: Teacher) -> dict[str, Any]:
        if _is_sha256(body.lesson):
            sha, lesson_id = body.lesson, body.lesson_id or body.lesson[:12]
        else:
            sha, lesson_id = _builtin_bundle(console, body.lesson), body.lesson_id or body.lesson
        try:
            jobs = console.push(
                sha,
                lesson_id,
                body.devices,
                code=body.code,
                time_limit_s=body.time_limit_s,
                max_offline_s=body.max_offline_s,
            )
        except JobError as exc:
            raise HTTPException(404, str(exc)) from exc
        db.audit.add(
            user,
            AuditAction.PUSH,
            lesson_id=lesson_id,
            sha256=sha,
            devices=[j["device"] for j in jobs],
        )
        return {"lesson_id": lesson_id, "sha256": sha, "jobs": jobs}

    @app.post("/api/v1/models/push")
    def push_model(body: ModelPush, user: Teacher) -> dict[str, Any]:
        """Install a model on robots: its .onnx uploaded first to ``/api/v1/bundles``."""
        from fleet.core.modelpush import prepare_model  # noqa: PLC0415 - only when models are pushed

        try:
            ref = prepare_model(console.bundles, body.manifest, body.sha256, name=body.name)
        except ModelPushError as exc:
            raise HTTPException(exc.status, str(exc)) from exc
        jobs = console.push_model(ref, body.devices)
        db.audit.add(
            user,
            AuditAction.PUSH_MODEL,
            model=ref.name,
            sha256=body.sha256,
            devices=[j["device"] for j in jobs],
        )
        return {"model": ref.name, "sha256": body.sha256, "size": ref.file.size, "jobs": jobs}

    @app.get("/api/v1/jobs")
    def jobs(_user: Teacher, device: str | None = None) -> list[dict[str, Any]]:
        return [j.to_json() for j in db.jobs.list(device)]

    @app.post("/api/v1/jobs/{job}/cancel")
    def cancel(job: str, user: Teacher) -> dict[str, Any]:
        try:
            console.cancel(job)
        except FleetError as exc:
            raise HTTPException(404, str(exc)) from exc
        db.audit.add(user, AuditAction.CANCEL, job=job)
        return {"job": job, "sent": "cancel"}

    @app.get("/api/v1/estop")
    def estop(_user: Teacher) -> dict[str, Any]:
        return db.estop.get().to_json()

    @app.post("/api/v1/stop")
    def stop(user: Teacher) -> dict[str, Any]:
        state = console.stop_all(user)
        db.audit.add(user, AuditAction.STOP, epoch=state.epoch)
        return state.to_json()

    @app.post("/api/v1/release")
    def release(user: Teacher) -> dict[str, Any]:
        state = console.release(user)
        db.audit.add(user, AuditAction.RELEASE, epoch=state.epoch)
        return state.to_json()

    def _results(
        device: str | None,
        student: str | None,
        lesson: str | None,
        status: str | None,
        since: float | None,
        student_id: str | None = None,
        roster: str | None = None,
    ) -> list[Result]:
        return db.results.matching(
            ResultFilter(device, student, lesson, status, since, student_id, roster)
        )

    @app.get("/api/v1/results")
    def results(
        _user: Teacher,
        device: str | None = None,
        student: str | None = None,
        lesson: str | None = None,
        status: str | None = None,
        since: Annotated[float | None, Query()] = None,
        student_id: str | None = None,
        roster: str | None = None,
    ) -> list[dict[str, Any]]:
        return [
            r.to_json()
            for r in _results(device, student, lesson, status, since, student_id, roster)
        ]

    @app.get("/api/v1/results.csv")
    def results_csv(
        _user: Teacher,
        device: str | None = None,
        student: str | None = None,
        lesson: str | None = None,
        status: str | None = None,
        since: Annotated[float | None, Query()] = None,
        student_id: str | None = None,
        roster: str | None = None,
    ) -> PlainTextResponse:
        # for the teacher and the school office: the display name next to the pseudonym
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(
            [
                "received",
                "device",
                "student",
                "student_id",
                "class",
                "lesson",
                "status",
                "score",
                "job",
                "result_id",
            ]
        )
        for r in _results(device, student, lesson, status, since, student_id, roster):
            writer.writerow(
                [
                    datetime.fromtimestamp(r.received, UTC).isoformat(timespec="seconds"),
                    r.device,
                    r.student or "",
                    r.student_id or "",
                    r.roster or "",
                    r.lesson_id or "",
                    r.status.value,
                    "" if r.score is None else r.score,
                    r.job,
                    r.result_id,
                ]
            )
        return PlainTextResponse(
            out.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="results.csv"'},
        )

    @app.get("/api/v1/stats")
    def stats(_user: Teacher) -> dict[str, Any]:
        return {
            "dropped": console.drops.snapshot(),
            "results_stored": console.results_stored,
            "results_duplicate": console.results_duplicate,
        }

    mount_enrol(app, _teacher)  # claim, revoke (fleet/enrol/routes.py)
    mount_web(app, _teacher)  # the teacher's pages at / (fleet/console/static/)
    mount_access(app, _teacher)  # /session, a teacher's own API tokens
    app.add_middleware(CrossSiteGuard)  # cross-site state changes refused; security headers
    return app


class ApiServer:
    """uvicorn serving :func:`create_app` in a thread; ``port=0`` picks a free port.

    ``tls=(certificate, key)`` (PEM files) serves HTTPS: the login cookie is
    then ``Secure`` and nothing crosses the LAN in clear.
    """

    def __init__(
        self,
        console: Console,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        tls: tuple[Path, Path] | None = None,
    ) -> None:
        self.console = console
        self.host = host
        self.tls = tls
        self.app = create_app(console)
        cert, key = (str(tls[0]), str(tls[1])) if tls else (None, None)
        config = uvicorn.Config(
            self.app,
            host=host,
            port=port,
            log_level="warning",
            lifespan="off",
            ssl_certfile=cert,
            ssl_keyfile=key,
        )
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None
        self._closed = False
        self.port = port

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"

    @property
    def setup_code(self) -> str:
        """The one-time code the first-run set-up page asks for (print it on the console's screen)."""
        return str(self.app.state.setup_code)

    @property
    def closed(self) -> bool:
        return self._closed

    def start(self, timeout: float = 10.0) -> ApiServer:
        if self._closed:
            raise FleetError("this API server was closed; make a new one")
        if self._thread is not None:
            return self
        self._thread = threading.Thread(target=self._server.run, name="console-api", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.close()
                raise FleetError(f"the console API did not start on {self.host}:{self.port}")
            self._thread.join(0.01)
        servers = getattr(self._server, "servers", [])
        if servers and servers[0].sockets:
            self.port = int(servers[0].sockets[0].getsockname()[1])
        logger.info("console API on %s", self.url)
        return self

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.app.state.closing.set()
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> ApiServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.close()
