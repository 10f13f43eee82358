"""Plain factory functions for goals, milestones and progress updates."""

from __future__ import annotations

from datetime import date

from sqlmodel.ext.asyncio.session import AsyncSession

from services.people.models import Member
from services.plans.models import Goal, Milestone, ProgressUpdate, Visibility


async def make_goal(
    session: AsyncSession,
    leader: Member,
    *,
    title: str = "Delegate more",
    visibility: Visibility = Visibility.coach,
    **fields: object,
) -> Goal:
    goal = Goal(
        workspace_id=leader.workspace_id,
        member_id=leader.id or 0,
        title=title,
        visibility=visibility,
        **fields,
    )
    session.add(goal)
    await session.flush()
    return goal


async def make_milestone(
    session: AsyncSession,
    goal: Goal,
    *,
    title: str = "First step",
    position: int = 0,
    due_date: date | None = None,
    **fields: object,
) -> Milestone:
    milestone = Milestone(
        workspace_id=goal.workspace_id,
        goal_id=goal.id or 0,
        title=title,
        position=position,
        due_date=due_date,
        **fields,
    )
    session.add(milestone)
    await session.flush()
    return milestone


async def make_progress(
    session: AsyncSession, goal: Goal, *, note: str = "Made progress", **fields: object
) -> ProgressUpdate:
    update = ProgressUpdate(
        workspace_id=goal.workspace_id,
        goal_id=goal.id or 0,
        member_id=goal.member_id,
        note=note,
        **fields,
    )
    session.add(update)
    await session.flush()
    return update
