"""REST routes for goals, milestones, progress updates and the whole plan."""

from __future__ import annotations

from fastapi import APIRouter, Response

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
from services.pagination import Page
from services.plans import milestones, progress, service
from services.plans.access import leader_today
from services.plans.models import (
    GoalCreate,
    GoalPublic,
    GoalStatus,
    GoalUpdate,
    MilestoneCreate,
    MilestoneOrder,
    MilestonePublic,
    MilestoneUpdate,
    PlanPublic,
    ProgressUpdateCreate,
    ProgressUpdatePublic,
    ProgressUpdateUpdate,
)

router = APIRouter()


@router.get("/members/{member_id}/plan", tags=["plans"])
async def get_plan(session: SessionDep, actor: ActorDep, member_id: PathId) -> PlanPublic:
    return await service.get_plan(session=session, actor=actor, member_id=member_id)


@router.get("/members/{member_id}/goals", tags=["goals"])
async def list_goals(
    session: SessionDep,
    actor: ActorDep,
    member_id: PathId,
    status: GoalStatus | None = None,
    cohort_id: QueryId = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_PAGE,
) -> Page[GoalPublic]:
    return await service.list_goals(
        session=session,
        actor=actor,
        member_id=member_id,
        status=status,
        cohort_id=cohort_id,
        cursor=cursor,
        limit=limit,
    )


@router.post("/members/{member_id}/goals", status_code=201, tags=["goals"])
async def create_goal(
    session: SessionDep, actor: ActorDep, member_id: PathId, data: GoalCreate
) -> GoalPublic:
    goal = await service.create_goal(session=session, actor=actor, member_id=member_id, data=data)
    return GoalPublic.model_validate(goal)


@router.get("/goals/{goal_id}", tags=["goals"])
async def get_goal(session: SessionDep, actor: ActorDep, goal_id: PathId) -> GoalPublic:
    return GoalPublic.model_validate(
        await service.get_goal(session=session, actor=actor, goal_id=goal_id)
    )


@router.patch("/goals/{goal_id}", tags=["goals"])
async def update_goal(
    session: SessionDep, actor: ActorDep, goal_id: PathId, data: GoalUpdate
) -> GoalPublic:
    goal = await service.update_goal(session=session, actor=actor, goal_id=goal_id, data=data)
    return GoalPublic.model_validate(goal)


@router.delete("/goals/{goal_id}", status_code=204, tags=["goals"])
async def delete_goal(session: SessionDep, actor: ActorDep, goal_id: PathId) -> Response:
    await service.delete_goal(session=session, actor=actor, goal_id=goal_id)
    return Response(status_code=204)


@router.get("/goals/{goal_id}/milestones", tags=["milestones"])
async def list_milestones(
    session: SessionDep,
    actor: ActorDep,
    goal_id: PathId,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_PAGE,
) -> Page[MilestonePublic]:
    return await milestones.list_milestones(
        session=session, actor=actor, goal_id=goal_id, cursor=cursor, limit=limit
    )


@router.post("/goals/{goal_id}/milestones", status_code=201, tags=["milestones"])
async def add_milestone(
    session: SessionDep, actor: ActorDep, goal_id: PathId, data: MilestoneCreate
) -> MilestonePublic:
    milestone = await milestones.add_milestone(
        session=session, actor=actor, goal_id=goal_id, data=data
    )
    return await milestones.to_public(session, milestone, actor.member_id or 0)


@router.put("/goals/{goal_id}/milestones/order", tags=["milestones"])
async def reorder_milestones(
    session: SessionDep, actor: ActorDep, goal_id: PathId, data: MilestoneOrder
) -> list[MilestonePublic]:
    ordered = await milestones.reorder_milestones(
        session=session, actor=actor, goal_id=goal_id, data=data
    )
    today = await leader_today(session=session, member_id=actor.member_id or 0, now=utcnow())
    return [service.milestone_public(milestone, today=today) for milestone in ordered]


@router.get("/milestones/{milestone_id}", tags=["milestones"])
async def get_milestone(
    session: SessionDep, actor: ActorDep, milestone_id: PathId
) -> MilestonePublic:
    milestone = await milestones.get_milestone(
        session=session, actor=actor, milestone_id=milestone_id
    )
    goal = await service.get_goal(session=session, actor=actor, goal_id=milestone.goal_id)
    return await milestones.to_public(session, milestone, goal.member_id)


@router.patch("/milestones/{milestone_id}", tags=["milestones"])
async def update_milestone(
    session: SessionDep, actor: ActorDep, milestone_id: PathId, data: MilestoneUpdate
) -> MilestonePublic:
    milestone = await milestones.update_milestone(
        session=session, actor=actor, milestone_id=milestone_id, data=data
    )
    return await milestones.to_public(session, milestone, actor.member_id or 0)


@router.post("/milestones/{milestone_id}/complete", tags=["milestones"])
async def complete_milestone(
    session: SessionDep, actor: ActorDep, milestone_id: PathId
) -> MilestonePublic:
    milestone = await milestones.complete_milestone(
        session=session, actor=actor, milestone_id=milestone_id
    )
    return await milestones.to_public(session, milestone, actor.member_id or 0)


@router.delete("/milestones/{milestone_id}", status_code=204, tags=["milestones"])
async def delete_milestone(session: SessionDep, actor: ActorDep, milestone_id: PathId) -> Response:
    await milestones.delete_milestone(session=session, actor=actor, milestone_id=milestone_id)
    return Response(status_code=204)


@router.get("/goals/{goal_id}/progress", tags=["progress"])
async def list_progress(
    session: SessionDep,
    actor: ActorDep,
    goal_id: PathId,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_PAGE,
) -> Page[ProgressUpdatePublic]:
    return await progress.list_progress(
        session=session, actor=actor, goal_id=goal_id, cursor=cursor, limit=limit
    )


@router.post("/goals/{goal_id}/progress", status_code=201, tags=["progress"])
async def log_progress(
    session: SessionDep, actor: ActorDep, goal_id: PathId, data: ProgressUpdateCreate
) -> ProgressUpdatePublic:
    update = await progress.log_progress(session=session, actor=actor, goal_id=goal_id, data=data)
    return ProgressUpdatePublic.model_validate(update)


@router.get("/progress/{update_id}", tags=["progress"])
async def get_progress(
    session: SessionDep, actor: ActorDep, update_id: PathId
) -> ProgressUpdatePublic:
    update = await progress.get_progress(session=session, actor=actor, update_id=update_id)
    return ProgressUpdatePublic.model_validate(update)


@router.patch("/progress/{update_id}", tags=["progress"])
async def edit_progress(
    session: SessionDep, actor: ActorDep, update_id: PathId, data: ProgressUpdateUpdate
) -> ProgressUpdatePublic:
    update = await progress.edit_progress(
        session=session, actor=actor, update_id=update_id, data=data
    )
    return ProgressUpdatePublic.model_validate(update)


@router.delete("/progress/{update_id}", status_code=204, tags=["progress"])
async def delete_progress(session: SessionDep, actor: ActorDep, update_id: PathId) -> Response:
    await progress.delete_progress(session=session, actor=actor, update_id=update_id)
    return Response(status_code=204)
