"""The teacher's console in the browser: the static pages, and what they show.

The pages are hand-written HTML, CSS and JS in ``fleet/console/static/`` (no build
step, nothing fetched from the internet), served at ``/`` and ``/static``
(:func:`mount_pages`). They use the JSON API of :mod:`fleet.console.api`,
whose live routes (:mod:`~fleet.console.api.live`), lessons
(:mod:`~fleet.console.api.lessons`) and exports
(:mod:`~fleet.console.api.results`) answer with what is made here: the room
at a glance (:func:`room_snapshot`), the lessons library (:func:`library`)
and xAPI statements (:func:`xapi_statements`).

::

    app = create_app(console)      # fleet.console.api calls mount_pages(app)
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from fleet.console.console import Console
from fleet.console.store import Job, Result
from fleet.core.protocol import Status

__all__ = ["STATIC", "library", "mount_pages", "room_snapshot", "xapi_statements"]

logger = logging.getLogger(__name__)

STATIC = Path(__file__).with_name("static")


def room_snapshot(console: Console) -> dict[str, Any]:
    """Every device with its student, battery, current job and last result; the e-stop."""
    db = console.db
    latest_job: dict[str, Job] = {}
    for row in db.jobs.list():  # oldest first: the last one per device wins
        latest_job[row.device] = row
    last_result: dict[str, Result] = {}
    watching = console.previews.watching()
    results = db.results.list()
    for found in results:
        last_result[found.device] = found
    devices = []
    for d in db.devices.list():
        telemetry = console.telemetry.get(d.device) or {}
        battery = telemetry.get("battery_v", d.battery)
        job = latest_job.get(d.device)
        result = last_result.get(d.device)
        devices.append(
            {
                "device": d.device,
                "student": d.student,
                "student_id": d.student_id,
                "roster": d.roster,
                "online": d.online,
                "estopped": d.estopped,
                "kit": d.kit,
                "battery_v": battery if isinstance(battery, int | float) else None,
                "preflight": d.preflight,
                "preview": watching.get(d.device),
                "identity_clash": console.identity.clashing(d.device),
                "job": None
                if job is None
                else {
                    "job": job.job,
                    "lesson_id": job.lesson_id,
                    "status": job.status,
                    "reason": job.reason,
                    "updated": job.updated,
                },
                "last_result": None
                if result is None
                else {
                    "lesson_id": result.lesson_id,
                    "status": result.status,
                    "score": result.score,
                    "passed": result.result.get("status") == "passed",
                },
            }
        )
    return {"estop": db.estop.get().to_json(), "devices": devices, "results": len(results)}


def library() -> list[dict[str, Any]]:
    """The built-in lessons as the lessons page shows them; a broken one is logged and left out."""
    # only when a teacher opens the page: the console does not need lessons to start
    from lessons import LessonError, load_lesson  # noqa: PLC0415
    from lessons.library import BAND_ORDER, LIBRARY  # noqa: PLC0415

    found = []
    for path in sorted(LIBRARY.glob("*/lesson.yaml")):
        try:
            found.append(load_lesson(path.parent))
        except LessonError as exc:
            logger.warning("lesson %s left out of the library page: %s", path.parent.name, exc)
    found.sort(key=lambda lesson: (BAND_ORDER[lesson.model.band], lesson.id))
    out = []
    for lesson in found:
        entry = lesson.summary()
        entry.pop("title_local", None)
        entry["steps"] = [
            {"title": s.title.model_dump(), "body": s.body.model_dump()} for s in lesson.model.steps
        ]
        out.append(entry)
    return out


def xapi_statements(results: list[Result], base: str) -> list[dict[str, Any]]:
    """Results as xAPI 1.0.3 statements for a school's learning-record store.

    The actor is an account on this console (``homePage`` is the console's
    URL): its name is the student's pseudonymous id (``s-...``), never the
    display name or an e-mail, so the learning-record store holds no names;
    the school matches ids to pupils with the CSV export, which has both.
    When no student is bound the robot's name stands in. The object is the
    lesson; the verb is passed / failed (graded) or attempted.
    """
    verbs = {
        "passed": ("http://adlnet.gov/expapi/verbs/passed", "passed", "通过"),
        "failed": ("http://adlnet.gov/expapi/verbs/failed", "failed", "未通过"),
    }
    out = []
    for r in results:
        graded = r.result.get("status")
        verb_id, en, zh = verbs.get(
            str(graded), ("http://adlnet.gov/expapi/verbs/attempted", "attempted", "尝试")
        )
        result: dict[str, Any] = {"completion": r.status == Status.SUCCEEDED}
        if graded in verbs:
            result["success"] = graded == "passed"
        if isinstance(r.score, int | float):
            result["score"] = {
                "raw": r.score,
                "min": 0,
                "max": 100,
                "scaled": round(max(0.0, min(1.0, r.score / 100)), 4),
            }
        seconds = r.result.get("wall_seconds")
        if isinstance(seconds, int | float):
            result["duration"] = f"PT{seconds:.1f}S"
        lesson = r.lesson_id or "unknown"
        out.append(
            {
                "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{base}/results/{r.result_id}")),
                "actor": {
                    "objectType": "Agent",
                    "account": {"homePage": base, "name": r.student_id or r.device},
                },
                "verb": {"id": verb_id, "display": {"en-US": en, "zh-CN": zh}},
                "object": {
                    "objectType": "Activity",
                    "id": f"{base}/lessons/{lesson}",
                    "definition": {"type": "http://adlnet.gov/expapi/activities/lesson"},
                },
                "result": result,
                "context": {"platform": "RoboClass", "extensions": {f"{base}/robot": r.device}},
                "timestamp": datetime.fromtimestamp(r.received, UTC).isoformat(),
            }
        )
    return out


def mount_pages(app: FastAPI) -> None:
    """Serve the pages: ``/`` (the teacher's), ``/s/`` (the student's) and ``/static``
    (their scripts, styles, icons)."""

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    @app.get("/s/", include_in_schema=False)
    def student_page() -> FileResponse:
        return FileResponse(
            STATIC / "student" / "index.html", headers={"Cache-Control": "no-cache"}
        )

    @app.get("/s", include_in_schema=False)
    def student_page_slash(request: Request) -> RedirectResponse:
        query = request.url.query  # the class code the QR code carries
        return RedirectResponse("/s/" + (f"?{query}" if query else ""))

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
