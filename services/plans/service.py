"""Goals and the whole plan of one leader."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.auth.service import Actor
from services.db import utcnow
from services.errors import Invalid, NotPermitted
from services.pagination import Page, paginate
from services.people.models import Cohort, Enrollment
from services.people.service import get_member
from services.plans.access import readable_goal, readable_goals, require_content_role, writable_goal
from services.plans.models import (
    Goal,
    GoalCreate,
    GoalInPlan,
    GoalPublic,
    GoalStatus,
    GoalUpdate,
    Milestone,
    MilestonePublic,
    MilestoneStatus,
    PlanPublic,
    ProgressUpdate,
    ProgressUpdatePublic,
)
from services.privacy.service import record_read

RECENT_PROGRESS_PER_GOAL = 5


def milestone_public(milestone: Milestone, *, today: date) -> MilestonePublic:
    overdue = (
        milestone.due_date is not None
        and milestone.due_date < today
        and milestone.status not in (MilestoneStatus.done, MilestoneStatus.skipped)
    )
    return MilestonePublic.model_validate(milestone, update={"overdue": overdue})


async def list_goals(
    *,
    session: AsyncSession,
    actor: Actor,
    member_id: int,
    status: GoalStatus | None,
    cohort_id: int | None,
    cursor: str | None,
    limit: int,
) -> Page[GoalPublic]:
    """A leader's goals that the actor may read."""
    require_content_role(actor)
    await get_member(session=session, actor=actor, member_id=member_id)
    statement = select(Goal).where(Goal.member_id == member_id, readable_goals(actor))
    if status is not None:
        statement = statement.where(Goal.status == status)
    if cohort_id is not None:
        statement = statement.where(Goal.cohort_id == cohort_id)
    page = await paginate(
        session,
        statement,
        id_column=Goal.id,
        cursor=cursor,
        limit=limit,
        to_public=GoalPublic.model_validate,
    )
    if page.items:
        record_read(session=session, actor=actor, subject_member_id=member_id, object_type="goals")
    return page


async def create_goal(
    *, session: AsyncSession, actor: Actor, member_id: int, data: GoalCreate
) -> Goal:
    """Add a goal to the actor's own plan."""
    require_content_role(actor)
    await get_member(session=session, actor=actor, member_id=member_id)
    if not actor.is_self(member_id):
        raise NotPermitted("only the leader adds goals to their own plan")
    if data.cohort_id is not None:
        enrolled = await session.exec(
            select(Enrollment.id)
            .join(Cohort, col(Cohort.id) == Enrollment.cohort_id)
            .where(
                Enrollment.cohort_id == data.cohort_id,
                Enrollment.member_id == member_id,
                Cohort.workspace_id == actor.workspace_id,
            )
        )
        if enrolled.first() is None:
            raise Invalid(f"you are not enrolled in cohort {data.cohort_id}", field="cohort_id")
    goal = Goal.model_validate(
        data, update={"workspace_id": actor.workspace_id, "member_id": member_id}
    )
    session.add(goal)
    await session.flush()
    return goal


async def get_goal(*, session: AsyncSession, actor: Actor, goal_id: int) -> Goal:
    """One goal the actor may read."""
    return await readable_goal(session=session, actor=actor, goal_id=goal_id)


async def update_goal(
    *, session: AsyncSession, actor: Actor, goal_id: int, data: GoalUpdate
) -> Goal:
    """Change a goal of the actor's own plan."""
    goal = await writable_goal(session=session, actor=actor, goal_id=goal_id)
    changes = data.model_dump(exclude_unset=True)
    for name in ("title", "status", "visibility"):
        if name in changes and changes[name] is None:
            raise Invalid(f"{name} cannot be null", field=name)
    goal.sqlmodel_update(changes)
    goal.updated_at = utcnow()
    session.add(goal)
    await session.flush()
    return goal


async def delete_goal(*, session: AsyncSession, actor: Actor, goal_id: int) -> None:
    """Delete a goal with its milestones and progress."""
    goal = await writable_goal(session=session, actor=actor, goal_id=goal_id)
    await session.delete(goal)
    await session.flush()


async def get_plan(*, session: AsyncSession, actor: Actor, member_id: int) -> PlanPublic:
    """A leader's whole plan: goals, their milestones in order, and recent progress."""
    require_content_role(actor)
    member = await get_member(session=session, actor=actor, member_id=member_id)
    goals = (
        await session.exec(
            select(Goal)
            .where(Goal.member_id == member_id, readable_goals(actor))
            .order_by(col(Goal.id))
        )
    ).all()
    goal_ids = [goal.id for goal in goals]
    milestones = (
        await session.exec(
            select(Milestone)
            .where(col(Milestone.goal_id).in_(goal_ids))
            .order_by(col(Milestone.goal_id), col(Milestone.position), col(Milestone.id))
        )
    ).all()
    progress = await _recent_progress(session, goal_ids)
    today = utcnow().astimezone(ZoneInfo(member.timezone)).date()
    by_goal: dict[int, list[MilestonePublic]] = defaultdict(list)
    for milestone in milestones:
        by_goal[milestone.goal_id].append(milestone_public(milestone, today=today))
    record_read(session=session, actor=actor, subject_member_id=member_id, object_type="plan")
    return PlanPublic(
        member_id=member_id,
        goals=[
            GoalInPlan.model_validate(
                goal,
                update={
                    "milestones": by_goal.get(goal.id or 0, []),
                    "recent_progress": progress.get(goal.id or 0, []),
                },
            )
            for goal in goals
        ],
    )


async def _recent_progress(
    session: AsyncSession, goal_ids: list[int | None]
) -> dict[int, list[ProgressUpdatePublic]]:
    if not goal_ids:
        return {}
    # Rank whole rows of the wanted goals and keep the newest few: this stays on the goal_id
    # index. Asking for `id IN (ranked ids)` instead lets PostgreSQL answer with a semi-join
    # over a scan of every progress update in the database once the table is big.
    ranked = (
        select(
            ProgressUpdate,
            func.row_number()
            .over(partition_by=col(ProgressUpdate.goal_id), order_by=col(ProgressUpdate.id).desc())
            .label("rank"),
        )
        .where(col(ProgressUpdate.goal_id).in_(goal_ids))
        .subquery()
    )
    recent = aliased(ProgressUpdate, ranked)
    rows = (
        await session.exec(select(recent).where(ranked.c.rank <= RECENT_PROGRESS_PER_GOAL))
    ).all()
    grouped: dict[int, list[ProgressUpdatePublic]] = defaultdict(list)
    for row in sorted(rows, key=lambda update: -(update.id or 0)):
        grouped[row.goal_id].append(ProgressUpdatePublic.model_validate(row))
    return grouped
