"""REST routes for nudges: role-scoped lists, coach review, leader feedback, cohort metrics."""

from __future__ import annotations

from fastapi import APIRouter

from services.api.deps import (
    DEFAULT_PAGE,
    ActorDep,
    Cursor,
    Limit,
    PathId,
    QueryId,
    SessionDep,
)
from services.db import utcnow
from services.nudges import reports, service
from services.nudges.models import (
    NudgeEdit,
    NudgeFeedbackCreate,
    NudgeMetrics,
    NudgePublic,
    NudgeStatus,
)
from services.pagination import Page

router = APIRouter()


@router.get("/nudges", tags=["nudges"])
async def list_nudges(
    session: SessionDep,
    actor: ActorDep,
    member_id: QueryId = None,
    status: NudgeStatus | None = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_PAGE,
) -> Page[NudgePublic]:
    return await reports.list_nudges(
        session=session, actor=actor, member_id=member_id, status=status, cursor=cursor,
        limit=limit,
    )


@router.get("/nudges/{nudge_id}", tags=["nudges"])
async def get_nudge(session: SessionDep, actor: ActorDep, nudge_id: PathId) -> NudgePublic:
    nudge = await service.get_nudge(session=session, actor=actor, nudge_id=nudge_id)
    return NudgePublic.model_validate(nudge)


@router.post("/nudges/{nudge_id}/approve", tags=["nudges"])
async def approve_nudge(session: SessionDep, actor: ActorDep, nudge_id: PathId) -> NudgePublic:
    nudge = await service.approve_nudge(
        session=session, actor=actor, nudge_id=nudge_id, now=utcnow()
    )
    return NudgePublic.model_validate(nudge)


@router.post("/nudges/{nudge_id}/edit", tags=["nudges"])
async def edit_nudge(
    session: SessionDep, actor: ActorDep, nudge_id: PathId, data: NudgeEdit
) -> NudgePublic:
    nudge = await service.edit_nudge(
        session=session, actor=actor, nudge_id=nudge_id, text=data.text, now=utcnow()
    )
    return NudgePublic.model_validate(nudge)


@router.post("/nudges/{nudge_id}/reject", tags=["nudges"])
async def reject_nudge(session: SessionDep, actor: ActorDep, nudge_id: PathId) -> NudgePublic:
    nudge = await service.reject_nudge(
        session=session, actor=actor, nudge_id=nudge_id, now=utcnow()
    )
    return NudgePublic.model_validate(nudge)


@router.post("/nudges/{nudge_id}/feedback", tags=["nudges"])
async def nudge_feedback(
    session: SessionDep, actor: ActorDep, nudge_id: PathId, data: NudgeFeedbackCreate
) -> NudgePublic:
    nudge = await service.record_feedback(
        session=session, actor=actor, nudge_id=nudge_id, feedback=data.feedback, now=utcnow()
    )
    return NudgePublic.model_validate(nudge)


@router.get("/cohorts/{cohort_id}/nudge-metrics", tags=["nudges"])
async def nudge_metrics(session: SessionDep, actor: ActorDep, cohort_id: PathId) -> NudgeMetrics:
    return await reports.nudge_metrics(session=session, actor=actor, cohort_id=cohort_id)
