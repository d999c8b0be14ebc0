"""The district's lesson library and challenges on the Lessons page: ``/api/v1/districtlib``.

The console talks to the district over HTTP (the URL in ``district.yaml``,
:mod:`fleet.console.district`) only when a teacher asks: browse, import a
lesson, share one of their own, open a district challenge in their room.
When the district cannot be reached the page says so (503 with what to do)
and nothing else on the console changes. What the district sends is checked
in :mod:`fleet.console.districtlib` (its key, signatures, sha256s).
"""

from __future__ import annotations

import logging
import ssl
import threading
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field

from fleet.console.api.deps import ConsoleDep, Teacher
from fleet.console.console import Console
from fleet.console.district import load_settings
from fleet.console.districtlib import DistrictLib
from fleet.console.districttries import TriesSender
from fleet.core.districtlib import ChallengeNotice, LibraryEntry
from fleet.core.errors import DistrictLibError
from rcbase import paths

__all__ = ["mount_districtlib", "router"]

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1/districtlib", tags=["district library"])
#: A CA file for a district served over HTTPS by its own CA (beside district.yaml).
CA_FILE = "district-ca.pem"


def district_lib(console: Console) -> DistrictLib | None:
    """The district's library for this console, or ``None`` when no district is set up."""
    data_dir = console.config.data_dir
    settings = load_settings(data_dir)
    if settings is None or not settings.enabled or not settings.url:
        return None
    ca = data_dir / CA_FILE
    tls = ssl.create_default_context(cafile=str(ca)) if ca.is_file() else None
    return DistrictLib(
        settings.url,
        settings.school,
        data_dir,
        console.key,
        console.bundles,
        paths().data / "lessons",
        tls=tls,
    )


class Said(BaseModel):
    en: str
    zh: str


class DistrictLesson(LibraryEntry):
    """A lesson of the district's library (signed), and whether this console has it."""

    imported: bool
    #: This console has another version of it.
    older: bool


class DistrictChallenge(ChallengeNotice):
    """An open district challenge (signed), and whether this school opened it."""

    opened: bool


class DistrictView(BaseModel):
    """What the Lessons page shows of the district."""

    configured: bool
    school: str | None = None
    url: str | None = None
    #: The teacher's own lessons (what can be shared up).
    own: list[str] = []
    imported: list[str] = []
    #: ``False`` when the district cannot be reached now (``error`` says why and what to do).
    reachable: bool | None = None
    error: Said | None = None
    #: The district's key (pinned at first contact).
    kid: str | None = None
    lessons: list[DistrictLesson] = []
    challenges: list[DistrictChallenge] = []
    #: Items left out: their signature did not check.
    refused: int = 0


class ImportedFrom(BaseModel):
    origin: str
    imported: float


class ImportedLesson(BaseModel):
    """A lesson imported from the district, as the Lessons page lists lessons (its summary
    and steps, like ``/api/v1/library``) and the sha256 a push names."""

    model_config = ConfigDict(extra="allow")
    id: str
    title: Said
    band: str
    sha256: str
    district: ImportedFrom


class Shared(BaseModel):
    """The district's answer to a lesson shared up: it waits for review."""

    model_config = ConfigDict(extra="allow")
    review: str
    note: str


def _lib(console: ConsoleDep) -> DistrictLib:
    lib = district_lib(console)
    if lib is None:
        raise HTTPException(
            404,
            "this console has no district: `roboclass console serve --district-school ID "
            "--district-url URL` sets it / 本控制台没有设置区级平台",
        )
    return lib


Lib = Annotated[DistrictLib, Depends(_lib)]


def _refused(exc: DistrictLibError) -> HTTPException:
    return HTTPException(exc.status, str(exc))


@router.get("")
def browse(console: ConsoleDep, _user: Teacher) -> DistrictView:
    """The district's lessons and open challenges (checked), what is imported, what can be
    shared; ``reachable: false`` and the reason when the district cannot be reached."""
    lib = district_lib(console)
    if lib is None:
        return DistrictView(configured=False)
    imported = lib.imported()
    opened = lib.challenges()
    view = DistrictView(
        configured=True,
        school=lib.school,
        url=lib.url,
        own=lib.own_lessons(),
        imported=sorted(imported),
    )
    try:
        found = lib.catalogue()
    except DistrictLibError as exc:
        said = Said(en=exc.text.en, zh=exc.text.zh)
        return view.model_copy(update={"reachable": False, "error": said})
    lessons = []
    for entry in found.entries:
        mine = imported.get(entry.lesson_id, {}).get("entry", {})
        lessons.append(
            DistrictLesson(
                **entry.model_dump(),
                imported=mine.get("sha256") == entry.sha256,
                older=bool(mine) and mine.get("sha256") != entry.sha256,
            )
        )
    challenges = [
        DistrictChallenge(**c.model_dump(), opened=c.id in opened) for c in found.challenges
    ]
    return view.model_copy(
        update={
            "reachable": True,
            "kid": found.kid,
            "lessons": lessons,
            "challenges": challenges,
            "refused": found.refused,
        }
    )


class ImportBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


@router.post("/import")
def import_lesson(body: ImportBody, _user: Teacher, lib: Lib) -> LibraryEntry:
    """Import one of the district's lessons (checked: signature, sha256, lesson)."""
    try:
        return lib.import_lesson(body.sha256)
    except DistrictLibError as exc:
        raise _refused(exc) from exc


@router.get("/imported")
def imported(console: ConsoleDep, _user: Teacher) -> list[ImportedLesson]:
    """The lessons imported from the district, as the Lessons page lists lessons (with
    the sha256 a push names)."""
    lib = district_lib(console)
    if lib is None:
        return []
    from lessons import LessonError, load_lesson  # noqa: PLC0415 - only when a teacher looks

    out = []
    for lesson_id, kept in sorted(lib.imported().items()):
        try:
            lesson = load_lesson(lib.lessons_root / lesson_id)
        except LessonError as exc:
            logger.warning("district lesson %s left out: %s", lesson_id, exc)
            continue
        entry = lesson.summary()
        entry.pop("title_local", None)
        entry["steps"] = [
            {"title": s.title.model_dump(), "body": s.body.model_dump()} for s in lesson.model.steps
        ]
        entry["sha256"] = kept["entry"]["sha256"]
        entry["district"] = {"origin": kept["entry"]["origin"], "imported": kept["imported"]}
        out.append(ImportedLesson.model_validate(entry))
    return out


class ShareBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lesson_id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,48}$")
    note: str = Field("", max_length=500)


@router.post("/share")
def share(body: ShareBody, _user: Teacher, lib: Lib) -> Shared:
    """Send one of the teacher's own lessons to the district for review."""
    try:
        return Shared.model_validate(lib.share(body.lesson_id, body.note))
    except DistrictLibError as exc:
        raise _refused(exc) from exc


@router.post("/challenges/{challenge_id}/open")
def open_challenge(
    challenge_id: str, request: Request, _user: Teacher, lib: Lib
) -> ChallengeNotice:
    """Open a district challenge in this school: its lesson imported, the challenge
    remembered (its hand-ins go up with their metric); the page then starts the console's
    own challenge mode with the lesson."""
    try:
        notice = lib.open_challenge(challenge_id)
    except DistrictLibError as exc:
        raise _refused(exc) from exc
    _sender(request.app, lib).poke()
    return notice


def _sender(app: FastAPI, lib: DistrictLib) -> TriesSender:
    """The thread sending challenge hand-ins up, started the first time it is needed."""
    with app.state.district_lock:
        sender: TriesSender | None = app.state.district_tries
        if sender is None or sender.closed:
            sender = TriesSender(app.state.console, lib, app.state.closing).start()
            app.state.district_tries = sender
        return sender


def mount_districtlib(app: FastAPI, console: Console) -> None:
    """Add the routes; send challenge hand-ins up when this school opened a challenge."""
    app.include_router(router)
    app.state.district_tries = None
    app.state.district_lock = threading.Lock()
    lib = district_lib(console)
    if lib is not None and lib.challenges():
        _sender(app, lib)
