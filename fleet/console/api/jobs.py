"""Lessons and models out to the robots: bundles, pushes, the jobs list, cancelling.

``/bundles/{sha256}`` is open: bundles are content-addressed lesson files (and
model files, ``POST /api/v1/models/push``) that devices fetch, and every job
names the sha256 it must have.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse

from fleet.console.api.deps import ConsoleDep, Teacher
from fleet.console.api.models import (
    Canceled,
    JobRef,
    ModelPush,
    ModelPushed,
    Push,
    Pushed,
    Uploaded,
)
from fleet.console.console import Console
from fleet.console.store import AuditAction, Job
from fleet.core.errors import FleetError, JobError, ModelPushError

__all__ = ["MAX_UPLOAD", "builtin_bundle", "bundles", "router"]

MAX_UPLOAD = 256 * 1024 * 1024

router = APIRouter(prefix="/api/v1", tags=["jobs"])
#: What robots fetch, without a login.
bundles = APIRouter(tags=["jobs"])


def _is_sha256(text: str) -> bool:
    return len(text) == 64 and all(c in "0123456789abcdef" for c in text)


def builtin_bundle(console: Console, lesson_id: str) -> str:
    import lessons  # noqa: PLC0415 - only when a built-in lesson is pushed

    builtin = getattr(lessons, "builtin_lessons", None)
    pack = getattr(lessons, "pack_bundle", None)
    if builtin is None or pack is None:
        raise HTTPException(404, "this RoboClass has no built-in lessons yet: upload a bundle")
    for lesson in builtin():
        if lesson.id == lesson_id:
            return console.bundles.put(pack(lesson.path))
    raise HTTPException(404, f"no built-in lesson {lesson_id!r}")


@router.post("/bundles")
async def upload(request: Request, console: ConsoleDep, _user: Teacher) -> Uploaded:
    """Upload a lesson bundle (or a model's .onnx), the body as it is; answers its sha256.

    Written to disk as it arrives; past ``MAX_UPLOAD`` the app's body cap answers 413.
    """
    with console.bundles.incoming() as part:
        async for chunk in request.stream():
            part.write(chunk)
        return Uploaded(sha256=part.commit(), size=part.size)


@bundles.get(
    "/bundles/{sha256}",
    response_class=FileResponse,
    responses={200: {"content": {"application/octet-stream": {}}, "description": "the bundle"}},
)
def bundle(sha256: str, console: ConsoleDep) -> FileResponse:
    """A bundle's bytes, for the robots (no login: the job names the sha256)."""
    path = console.bundles.path(sha256)
    if path is None:
        raise HTTPException(404, "no such bundle")
    return FileResponse(path, media_type="application/octet-stream")


@router.post("/push")
def push(body: Push, console: ConsoleDep, user: Teacher) -> Pushed:
    """Sign and send a lesson to robots (``devices: null``: every robot the room knows)."""
    if _is_sha256(body.lesson):
        sha, lesson_id = body.lesson, body.lesson_id or body.lesson[:12]
    else:
        sha, lesson_id = builtin_bundle(console, body.lesson), body.lesson_id or body.lesson
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
    console.db.audit.add(
        user, AuditAction.PUSH, lesson_id=lesson_id, sha256=sha, devices=[j["device"] for j in jobs]
    )
    return Pushed(lesson_id=lesson_id, sha256=sha, jobs=[JobRef(**j) for j in jobs])


@router.post("/models/push")
def push_model(body: ModelPush, console: ConsoleDep, user: Teacher) -> ModelPushed:
    """Install a model on robots: its .onnx uploaded first to ``/api/v1/bundles``."""
    from fleet.core.modelpush import prepare_model  # noqa: PLC0415 - only when models are pushed

    try:
        ref = prepare_model(console.bundles, body.manifest, body.sha256, name=body.name)
    except ModelPushError as exc:
        raise HTTPException(exc.status, str(exc)) from exc
    jobs = console.push_model(ref, body.devices)
    console.db.audit.add(
        user,
        AuditAction.PUSH_MODEL,
        model=ref.name,
        sha256=body.sha256,
        devices=[j["device"] for j in jobs],
    )
    return ModelPushed(
        model=ref.name, sha256=body.sha256, size=ref.file.size, jobs=[JobRef(**j) for j in jobs]
    )


@router.get("/jobs")
def jobs(console: ConsoleDep, _user: Teacher, device: str | None = None) -> list[Job]:
    """Every job (or one robot's), oldest first."""
    return console.db.jobs.list(device)


@router.post("/jobs/{job}/cancel")
def cancel(job: str, console: ConsoleDep, user: Teacher) -> Canceled:
    """Tell the job's robot to stop it; audited."""
    try:
        console.cancel(job)
    except FleetError as exc:
        raise HTTPException(404, str(exc)) from exc
    console.db.audit.add(user, AuditAction.CANCEL, job=job)
    return Canceled(job=job, sent="cancel")
