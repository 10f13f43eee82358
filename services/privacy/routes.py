"""REST routes for a member's export and erasure, and the caller's own identity."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from services.api.deps import ActorDep, PathId, SessionDep
from services.privacy.rights import erase_member_data, export_member_data

router = APIRouter()


class Me(BaseModel):
    role: str
    member_id: int | None
    cohort_ids: list[int]


class Erasure(BaseModel):
    member_id: PathId
    erased: dict[str, int]


@router.get("/me", tags=["auth"])
async def me(actor: ActorDep) -> Me:
    return Me(role=actor.role.value, member_id=actor.member_id, cohort_ids=sorted(actor.cohort_ids))


@router.get("/members/{member_id}/export", tags=["privacy"])
async def export(session: SessionDep, actor: ActorDep, member_id: PathId) -> dict[str, Any]:
    return await export_member_data(session=session, actor=actor, member_id=member_id)


@router.delete("/members/{member_id}/data", tags=["privacy"])
async def erase(session: SessionDep, actor: ActorDep, member_id: PathId) -> Erasure:
    erased = await erase_member_data(session=session, actor=actor, member_id=member_id)
    return Erasure(member_id=member_id, erased=erased)
