"""The console's enrolment routes (a teacher's token needed for each):

- ``GET /api/v1/enrol``: can this console enrol (it has the classroom's CA
  key), the unclaimed robots it sees on the LAN (``robots``) and the robots
  that hold a certificate of the room (``devices``).
- ``POST /api/v1/enrol/claim`` ``{robot, code, name, address?}``: claim a
  robot with the code it shows; 403 for a wrong code, 429 after
  ``CLAIM_FAILURES`` wrong codes a minute for one robot.
- ``POST /api/v1/devices/{device}/revoke`` ``{confirm}`` (the name typed
  again): revoke its certificate; the broker refuses it from then on.
- ``POST /api/v1/devices/{device}/rename`` ``{name}``: a new certificate
  under the new name for the robot's own key (it must be online); the old
  name is revoked once the robot is back under the new one.

Claims and revocations go into the audit log. ``app.state.enroller`` is the
:class:`fleet.enrol.console.Enroller`, or ``None`` for a console started
without a classroom folder (the routes then say how to start it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field

from fleet.core.errors import BrokerError
from fleet.core.protocol import ID_PATTERN
from fleet.enrol.protocol import BadMessage, EnrolError, WrongCode

if TYPE_CHECKING:
    from fleet.enrol.console import Enroller

__all__ = ["mount_enrol"]


class ClaimBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    robot: str = Field(pattern=r"^rc-[0-9a-f]{6,32}$", description="the id the robot shows")
    code: str = Field(min_length=8, max_length=20)
    name: str = Field(pattern=ID_PATTERN, description="what the robot will be called")
    address: str | None = Field(default=None, max_length=300, description="host:port, no mDNS")


class Rename(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=ID_PATTERN, description="the robot's new name")


class Confirm(BaseModel):
    model_config = ConfigDict(extra="forbid")
    confirm: str = Field(description="the robot's name typed again")


class EnrolOn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    enabled: Literal[True]
    #: Unclaimed robots announced on the LAN.
    robots: list[dict[str, Any]]
    #: The robots that hold a certificate of this room.
    devices: list[str]


class EnrolOff(BaseModel):
    """This console has no classroom folder: ``reason`` says how to start it."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    enabled: Literal[False]
    reason: str
    robots: list[dict[str, Any]]
    devices: list[str]


class Claimed(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    device: str
    robot: str
    site: str
    room: str


class Revoked(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    device: str
    revoked: bool
    #: Whether the broker reloaded its list in time (it refuses the robot from then on).
    broker_reloaded: bool


class Moved(Revoked):
    #: Whether the robot was online, heard it and left the room.
    released: bool


class Renamed(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    device: str
    was: str


_NO_CLASSROOM = (
    "this console cannot enrol robots: start it with --broker-folder CLASSROOM/console "
    "(the folder `roboclass broker config` made, which holds the CA key)"
)


def _enroller(request: Request) -> Enroller:
    enroller: Enroller | None = getattr(request.app.state, "enroller", None)
    if enroller is None:
        raise HTTPException(409, _NO_CLASSROOM)
    return enroller


def mount_enrol(app: FastAPI, teacher: Callable[..., str]) -> None:
    """Add the enrolment routes to the console's ``app`` (``teacher``: the API's auth)."""
    if not hasattr(app.state, "enroller"):
        app.state.enroller = None
    router = APIRouter(prefix="/api/v1", tags=["enrolment"])

    @router.get("/enrol")
    def enrol_state(request: Request, _user: str = Depends(teacher)) -> EnrolOn | EnrolOff:
        """Whether this console can enrol, the robots waiting to be claimed, the room's robots."""
        enroller: Enroller | None = request.app.state.enroller
        if enroller is None:
            return EnrolOff(enabled=False, reason=_NO_CLASSROOM, robots=[], devices=[])
        return EnrolOn(enabled=True, robots=enroller.robots(), devices=enroller.devices())

    @router.post("/enrol/claim")
    def claim(body: ClaimBody, request: Request, user: str = Depends(teacher)) -> Claimed:
        """Claim a robot with the code it shows (403 wrong code, 429 too many)."""
        from fleet.enrol.console import ClaimLimited, NotFound  # noqa: PLC0415

        enroller = _enroller(request)
        try:
            return Claimed(
                **enroller.claim(body.robot, body.code, body.name, by=user, address=body.address)
            )
        except ClaimLimited as exc:
            raise HTTPException(
                429, str(exc), headers={"Retry-After": str(exc.retry_after)}
            ) from exc
        except WrongCode as exc:
            raise HTTPException(403, "wrong claim code / 认领码不对") from exc
        except NotFound as exc:
            raise HTTPException(404, str(exc)) from exc
        except (BadMessage, BrokerError) as exc:
            raise HTTPException(400, str(exc)) from exc
        except EnrolError as exc:
            raise HTTPException(502, str(exc)) from exc

    _device_routes(router, teacher)
    app.include_router(router)


def _device_routes(router: APIRouter, teacher: Callable[..., str]) -> None:
    """Revoke, move and rename a claimed robot."""

    def confirmed(
        device: str, body: Confirm, request: Request, act: Callable[[Enroller], dict[str, Any]]
    ) -> dict[str, Any]:
        """Run ``act`` once the teacher has typed the robot's name again."""
        from fleet.enrol.console import NotFound  # noqa: PLC0415

        enroller = _enroller(request)
        if body.confirm != device:
            raise HTTPException(400, f"type the robot's name {device!r} to confirm")
        try:
            return act(enroller)
        except NotFound as exc:
            raise HTTPException(404, str(exc)) from exc

    @router.post("/devices/{device}/revoke")
    def revoke(
        device: str, body: Confirm, request: Request, user: str = Depends(teacher)
    ) -> Revoked:
        """Revoke the robot's certificate (its name typed again): the broker refuses it."""
        return Revoked(**confirmed(device, body, request, lambda e: e.revoke(device, by=user)))

    @router.post("/devices/{device}/move")
    def move(device: str, body: Confirm, request: Request, user: str = Depends(teacher)) -> Moved:
        """The robot forgets this room and shows a new claim code for the next room's console."""
        return Moved(**confirmed(device, body, request, lambda e: e.move(device, by=user)))

    @router.post("/devices/{device}/rename")
    def rename(
        device: str, body: Rename, request: Request, user: str = Depends(teacher)
    ) -> Renamed:
        """A new certificate under the new name for the robot's own key (it must be online)."""
        from fleet.enrol.console import NotFound  # noqa: PLC0415

        enroller = _enroller(request)
        try:
            return Renamed(**enroller.rename(device, body.name, by=user))
        except NotFound as exc:
            raise HTTPException(404, str(exc)) from exc
        except BadMessage as exc:
            raise HTTPException(400, str(exc)) from exc
        except EnrolError as exc:
            raise HTTPException(409, str(exc)) from exc
