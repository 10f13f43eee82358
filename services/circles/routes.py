"""REST routes for peer circles: series for admins and owners, attendance counts for
owners, and each leader's own circles, participation and private block list."""

from __future__ import annotations

from fastapi import APIRouter, Response

from services.api.deps import DEFAULT_PAGE, ActorDep, Cursor, Limit, PathId, QueryId, SessionDep
from services.circles import attendance, followups, mine, service
from services.circles.models import (
    AttendancePublic,
    CircleBlockCreate,
    CircleBlockPublic,
    CircleSeriesCreate,
    CircleSeriesPublic,
    CircleSeriesUpdate,
    FollowupAnswer,
    MyCirclePublic,
    ParticipationPublic,
    ParticipationUpdate,
)
from services.db import utcnow
from services.pagination import Page

router = APIRouter()


@router.get("/circle-series", tags=["circles"])
async def list_series(
    session: SessionDep,
    actor: ActorDep,
    cohort_id: QueryId = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_PAGE,
) -> Page[CircleSeriesPublic]:
    return await service.list_series(
        session=session, actor=actor, cohort_id=cohort_id, cursor=cursor, limit=limit,
        now=utcnow(),
    )


@router.post("/circle-series", status_code=201, tags=["circles"])
async def create_series(
    session: SessionDep, actor: ActorDep, data: CircleSeriesCreate
) -> CircleSeriesPublic:
    series, cohort = await service.create_series(session=session, actor=actor, data=data)
    return service.series_public(series, cohort, now=utcnow())


@router.get("/circle-series/{series_id}", tags=["circles"])
async def get_series(session: SessionDep, actor: ActorDep, series_id: PathId) -> CircleSeriesPublic:
    series, cohort = await service.get_series(session=session, actor=actor, series_id=series_id)
    return service.series_public(series, cohort, now=utcnow())


@router.patch("/circle-series/{series_id}", tags=["circles"])
async def update_series(
    session: SessionDep, actor: ActorDep, series_id: PathId, data: CircleSeriesUpdate
) -> CircleSeriesPublic:
    series, cohort = await service.update_series(
        session=session, actor=actor, series_id=series_id, data=data
    )
    return service.series_public(series, cohort, now=utcnow())


@router.delete("/circle-series/{series_id}", status_code=204, tags=["circles"])
async def delete_series(session: SessionDep, actor: ActorDep, series_id: PathId) -> Response:
    await service.delete_series(session=session, actor=actor, series_id=series_id)
    return Response(status_code=204)


@router.get("/circle-series/{series_id}/attendance", tags=["circles"])
async def series_attendance(
    session: SessionDep, actor: ActorDep, series_id: PathId
) -> AttendancePublic:
    return await attendance.series_attendance(session=session, actor=actor, series_id=series_id)


@router.get("/me/circle", tags=["circles"])
async def my_current_circle(session: SessionDep, actor: ActorDep) -> MyCirclePublic:
    return await mine.my_current_circle(session=session, actor=actor)


@router.get("/me/circles", tags=["circles"])
async def my_circles(
    session: SessionDep, actor: ActorDep, cursor: Cursor = None, limit: Limit = DEFAULT_PAGE
) -> Page[MyCirclePublic]:
    return await mine.my_circles(session=session, actor=actor, cursor=cursor, limit=limit)


@router.patch("/me/circles/{circle_id}", tags=["circles"])
async def answer_followup(
    session: SessionDep, actor: ActorDep, circle_id: PathId, data: FollowupAnswer
) -> MyCirclePublic:
    await followups.record_followup(
        session=session, actor=actor, circle_id=circle_id, answer=data, now=utcnow()
    )
    return await mine.get_my_circle(session=session, actor=actor, circle_id=circle_id)


@router.get("/me/circle-series", tags=["circles"])
async def my_participation(session: SessionDep, actor: ActorDep) -> list[ParticipationPublic]:
    return await service.my_participation(session=session, actor=actor)


@router.put("/me/circle-series/{series_id}", tags=["circles"])
async def set_participation(
    session: SessionDep, actor: ActorDep, series_id: PathId, data: ParticipationUpdate
) -> ParticipationPublic:
    return await service.set_participation(
        session=session, actor=actor, series_id=series_id, data=data, today=utcnow().date()
    )


@router.get("/me/circle-blocks", tags=["circles"])
async def list_blocks(session: SessionDep, actor: ActorDep) -> list[CircleBlockPublic]:
    return await service.list_blocks(session=session, actor=actor)


@router.post("/me/circle-blocks", status_code=201, tags=["circles"])
async def add_block(
    session: SessionDep, actor: ActorDep, data: CircleBlockCreate
) -> CircleBlockPublic:
    return await service.add_block(session=session, actor=actor, data=data)


@router.delete("/me/circle-blocks/{block_id}", status_code=204, tags=["circles"])
async def remove_block(session: SessionDep, actor: ActorDep, block_id: PathId) -> Response:
    await service.remove_block(session=session, actor=actor, block_id=block_id)
    return Response(status_code=204)
