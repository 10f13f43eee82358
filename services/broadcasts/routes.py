"""REST routes for broadcasts: compose, follow, cancel, and answers as counts."""

from __future__ import annotations

from fastapi import APIRouter, Response

from services.api.deps import DEFAULT_PAGE, ActorDep, Cursor, Limit, PathId, QueryId, SessionDep
from services.broadcasts import answers, service
from services.broadcasts.models import (
    AnswerCreate,
    AnswerSummary,
    BroadcastCreate,
    BroadcastPublic,
    BroadcastStatus,
)
from services.db import utcnow
from services.pagination import Page

router = APIRouter(tags=["broadcasts"])


@router.post("/broadcasts", status_code=201, responses={202: {"model": BroadcastPublic}})
async def create_broadcast(
    session: SessionDep, actor: ActorDep, data: BroadcastCreate, response: Response
) -> BroadcastPublic:
    """201 when scheduled for later; 202 when due now and already handed to the outbox."""
    now = utcnow()
    broadcast = await service.create_broadcast(session=session, actor=actor, data=data, now=now)
    if broadcast.send_at <= now:
        response.status_code = 202
    return await service.public(session=session, broadcast=broadcast)


@router.get("/broadcasts")
async def list_broadcasts(
    session: SessionDep,
    actor: ActorDep,
    cohort_id: QueryId = None,
    status: BroadcastStatus | None = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_PAGE,
) -> Page[BroadcastPublic]:
    return await service.list_broadcasts(session=session, actor=actor, cohort_id=cohort_id,
                                         status=status, cursor=cursor, limit=limit)


@router.get("/broadcasts/{broadcast_id}")
async def get_broadcast(
    session: SessionDep, actor: ActorDep, broadcast_id: PathId
) -> BroadcastPublic:
    broadcast = await service.get_broadcast(session=session, actor=actor,
                                            broadcast_id=broadcast_id)
    return await service.public(session=session, broadcast=broadcast)


@router.post("/broadcasts/{broadcast_id}/cancel")
async def cancel_broadcast(
    session: SessionDep, actor: ActorDep, broadcast_id: PathId
) -> BroadcastPublic:
    broadcast = await service.cancel_broadcast(session=session, actor=actor,
                                               broadcast_id=broadcast_id, now=utcnow())
    return await service.public(session=session, broadcast=broadcast)


@router.get("/broadcasts/{broadcast_id}/answers")
async def answer_summary(
    session: SessionDep, actor: ActorDep, broadcast_id: PathId
) -> AnswerSummary:
    return await answers.answer_summary(session=session, actor=actor, broadcast_id=broadcast_id)


@router.put("/broadcasts/{broadcast_id}/answer", status_code=204)
async def answer(
    session: SessionDep, actor: ActorDep, broadcast_id: PathId, data: AnswerCreate
) -> Response:
    """The caller's own answer; sending it again replaces it."""
    await answers.answer_broadcast(session=session, actor=actor, broadcast_id=broadcast_id,
                                   data=data, now=utcnow())
    return Response(status_code=204)
