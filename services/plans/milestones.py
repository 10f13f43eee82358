"""Milestones of a goal: add, change, reorder, complete."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.auth.service import Actor
from services.db import utcnow
from services.errors import Invalid, NotFound
from services.pagination import Page, paginate
from services.plans.access import (
    leader_today,
    readable_goal,
    require_content_role,
    writable_goal,
)
from services.plans.models import (
    Milestone,
    MilestoneCreate,
    MilestoneOrder,
    MilestonePublic,
    MilestoneStatus,
    MilestoneUpdate,
)
from services.plans.service import milestone_public


async def _milestone(
    session: AsyncSession, actor: Actor, milestone_id: int, *, write: bool
) -> Milestone:
    require_content_role(actor)
    milestone = await session.get(Milestone, milestone_id)
    if milestone is None or milestone.workspace_id != actor.workspace_id:
        raise NotFound(f"milestone {milestone_id} not found")
    try:
        if write:
            await writable_goal(session=session, actor=actor, goal_id=milestone.goal_id)
        else:
            await readable_goal(
                session=session, actor=actor, goal_id=milestone.goal_id, object_type="milestone"
            )
    except NotFound as exc:
        raise NotFound(f"milestone {milestone_id} not found") from exc
    return milestone


async def to_public(session: AsyncSession, milestone: Milestone, member_id: int) -> MilestonePublic:
    today = await leader_today(session=session, member_id=member_id, now=utcnow())
    return milestone_public(milestone, today=today)


async def list_milestones(
    *, session: AsyncSession, actor: Actor, goal_id: int, cursor: str | None, limit: int
) -> Page[MilestonePublic]:
    """A goal's milestones (ordered by id; `position` gives the plan order)."""
    goal = await readable_goal(session=session, actor=actor, goal_id=goal_id)
    today = await leader_today(session=session, member_id=goal.member_id, now=utcnow())
    return await paginate(
        session,
        select(Milestone).where(Milestone.goal_id == goal_id),
        id_column=Milestone.id,
        cursor=cursor,
        limit=limit,
        to_public=lambda row: milestone_public(row, today=today),
    )


async def get_milestone(*, session: AsyncSession, actor: Actor, milestone_id: int) -> Milestone:
    """One milestone the actor may read."""
    return await _milestone(session, actor, milestone_id, write=False)


async def add_milestone(
    *, session: AsyncSession, actor: Actor, goal_id: int, data: MilestoneCreate
) -> Milestone:
    """Append a milestone to a goal of the actor's own plan."""
    goal = await writable_goal(session=session, actor=actor, goal_id=goal_id)
    last = (
        await session.exec(select(func.max(Milestone.position)).where(Milestone.goal_id == goal_id))
    ).one()
    milestone = Milestone.model_validate(
        data,
        update={
            "workspace_id": goal.workspace_id,
            "goal_id": goal_id,
            "position": 0 if last is None else last + 1,
        },
    )
    _stamp_done(milestone)
    session.add(milestone)
    await session.flush()
    return milestone


async def update_milestone(
    *, session: AsyncSession, actor: Actor, milestone_id: int, data: MilestoneUpdate
) -> Milestone:
    """Change a milestone's title, due date or status."""
    milestone = await _milestone(session, actor, milestone_id, write=True)
    changes = data.model_dump(exclude_unset=True)
    for name in ("title", "status"):
        if name in changes and changes[name] is None:
            raise Invalid(f"{name} cannot be null", field=name)
    milestone.sqlmodel_update(changes)
    _stamp_done(milestone)
    milestone.updated_at = utcnow()
    session.add(milestone)
    await session.flush()
    return milestone


async def complete_milestone(
    *, session: AsyncSession, actor: Actor, milestone_id: int
) -> Milestone:
    """Mark a milestone done (idempotent: completing it again keeps the first done_at)."""
    return await update_milestone(
        session=session,
        actor=actor,
        milestone_id=milestone_id,
        data=MilestoneUpdate(status=MilestoneStatus.done),
    )


async def delete_milestone(*, session: AsyncSession, actor: Actor, milestone_id: int) -> None:
    """Delete a milestone."""
    milestone = await _milestone(session, actor, milestone_id, write=True)
    await session.delete(milestone)
    await session.flush()


async def reorder_milestones(
    *, session: AsyncSession, actor: Actor, goal_id: int, data: MilestoneOrder
) -> list[Milestone]:
    """Put a goal's milestones in the given order; the list must name each one exactly once."""
    await writable_goal(session=session, actor=actor, goal_id=goal_id)
    milestones = (await session.exec(select(Milestone).where(Milestone.goal_id == goal_id))).all()
    by_id = {milestone.id or 0: milestone for milestone in milestones}
    if sorted(data.milestone_ids) != sorted(by_id) or len(set(data.milestone_ids)) != len(by_id):
        raise Invalid(
            "milestone_ids must list every milestone of this goal exactly once",
            field="milestone_ids",
        )
    for position, milestone_id in enumerate(data.milestone_ids):
        by_id[milestone_id].position = position
        session.add(by_id[milestone_id])
    await session.flush()
    return sorted(milestones, key=lambda milestone: milestone.position or 0)


def _stamp_done(milestone: Milestone) -> None:
    if milestone.status == MilestoneStatus.done:
        milestone.done_at = milestone.done_at or utcnow()
    else:
        milestone.done_at = None
