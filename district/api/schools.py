"""Schools: ``GET /api/v1/schools``, ``POST /api/v1/schools`` (a school and its console's key)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, ConfigDict, Field

from district.api.deps import Staff, StoreDep
from district.errors import SchoolError

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["schools"])


class NewSchool(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    #: The school console's public key: the 64 hex digits `roboclass console key` prints.
    public_key: str = Field(min_length=64, max_length=64)


@router.get("/schools")
def schools(store: StoreDep, _who: Staff) -> list[dict[str, Any]]:
    """Every school: id, name, its consoles' key ids, the rooms seen."""
    return [s.to_json() for s in store.schools.list()]


@router.post("/schools", status_code=201)
def add_school(body: NewSchool, store: StoreDep, _who: Staff) -> dict[str, Any]:
    """Register a school with its console's public key (or add a key to a known school)."""
    try:
        return store.schools.add(body.id, body.name, body.public_key).to_json()
    except SchoolError as exc:
        raise HTTPException(422, str(exc)) from exc


@router.get("/schools/{school}")
def school(school: str, store: StoreDep, _who: Staff) -> dict[str, Any]:
    found = store.schools.get(school)
    if found is None:
        raise HTTPException(404, f"no school {school} / 没有学校 {school}")
    return found.to_json()
