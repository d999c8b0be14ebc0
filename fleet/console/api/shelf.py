"""The console's model shelf: the teacher's own models and the ones students taught, and
the push-model button.

``GET /api/v1/models`` lists the shelf (a student's model with the student's
name and class). ``POST /api/v1/models`` puts the teacher's own model on it:
its ``.onnx`` uploaded first to ``POST /api/v1/bundles`` (that route's body
cap), then its manifest and sha256 here, checked exactly as a push is
(:func:`fleet.core.modelpush.prepare_model`). ``POST
/api/v1/models/{sha256}/push`` signs and sends it to robots, audited as
``push-model``; each robot's install is a job (``model:NAME``) in the room.
Errors are in English and Chinese.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException

from fleet.console.api.deps import ConsoleDep, Teacher
from fleet.console.api.models import JobRef, ModelPushed, ShelfPush, ShelfUpload
from fleet.console.console import Console
from fleet.console.store import AuditAction, ModelRecord
from fleet.core.errors import ModelPushError
from fleet.core.protocol import ModelRef

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["models"])


def _prepare(console: Console, manifest: str, sha256: str, name: str | None) -> ModelRef:
    from fleet.core.modelpush import prepare_model  # noqa: PLC0415 - only when models are used

    try:
        return prepare_model(console.bundles, manifest, sha256, name=name)
    except ModelPushError as exc:
        raise HTTPException(exc.status, str(exc)) from exc


@router.get("/models")
def shelf(console: ConsoleDep, _user: Teacher) -> list[ModelRecord]:
    """The models on the shelf, newest first: the teacher's own and the students' taught ones."""
    return console.db.models.list()


@router.post("/models")
def add(body: ShelfUpload, console: ConsoleDep, _user: Teacher) -> ModelRecord:
    """Put the teacher's own model on the shelf (its .onnx uploaded to ``/api/v1/bundles``)."""
    ref = _prepare(console, body.manifest, body.sha256, body.name)
    console.db.models.add(ref.name, body.sha256, ref.file.size, ref.manifest, None)
    added = console.db.models.get(body.sha256)
    if added is None:  # another request replaced it this very moment
        raise HTTPException(409, "the shelf changed: try again / 模型架刚刚变了：请再试一次")
    return added


@router.post("/models/{sha256}/push")
def push(sha256: str, body: ShelfPush, console: ConsoleDep, user: Teacher) -> ModelPushed:
    """Sign and send a model from the shelf to robots (``devices: null``: every one); audited."""
    model = console.db.models.get(sha256)
    if model is None:
        raise HTTPException(
            404,
            f"no model {sha256[:12]} on the shelf: add it first / 模型架上没有 {sha256[:12]}：请先添加",
        )
    known = set(console.db.devices.ids())
    unknown = [d for d in body.devices or [] if d not in known]
    if unknown:
        names = ", ".join(unknown)
        raise HTTPException(404, f"no robot {names} in this room / 这个教室里没有机器人 {names}")
    if body.devices == []:
        raise HTTPException(400, "pick at least one robot / 请至少选一个机器人")
    ref = _prepare(console, model.manifest, sha256, model.name)
    jobs = console.push_model(ref, body.devices)
    console.db.audit.add(
        user,
        AuditAction.PUSH_MODEL,
        model=ref.name,
        sha256=sha256,
        devices=[j["device"] for j in jobs],
        student_id=model.student_id,
    )
    return ModelPushed(
        model=ref.name, sha256=sha256, size=ref.file.size, jobs=[JobRef(**j) for j in jobs]
    )
