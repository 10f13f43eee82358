"""Who may read and change plan content, by goal visibility and coach assignment."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.auth.models import Role
from services.auth.service import Actor
from services.errors import NotFound, NotPermitted
from services.people.models import Member
from services.plans.models import Goal, Visibility
from services.privacy.service import record_read

CONTENT_ROLES = (Role.leader, Role.coach)


def require_content_role(actor: Actor) -> None:
    """Admins and program owners see aggregates, never plan content."""
    if actor.role not in CONTENT_ROLES:
        raise NotPermitted("admins and program owners see aggregates, never plan content")


def readable_goals(actor: Actor) -> Any:
    """A WHERE clause limiting goals to those whose content the actor may read."""
    require_content_role(actor)
    own = col(Goal.member_id) == actor.member_id
    if actor.role is Role.coach:
        coached = col(Goal.member_id).in_(actor.coachee_ids) & (
            col(Goal.visibility) == Visibility.coach
        )
        return (col(Goal.workspace_id) == actor.workspace_id) & or_(own, coached)
    return (col(Goal.workspace_id) == actor.workspace_id) & own


async def readable_goal(
    *, session: AsyncSession, actor: Actor, goal_id: int, object_type: str = "goal"
) -> Goal:
    """A goal the actor may read (audited when it is someone else's), else NotFound."""
    goal = (
        await session.exec(select(Goal).where(Goal.id == goal_id, readable_goals(actor)))
    ).first()
    if goal is None:
        raise NotFound(f"goal {goal_id} not found")
    record_read(
        session=session,
        actor=actor,
        subject_member_id=goal.member_id,
        object_type=object_type,
        object_id=goal.id,
    )
    return goal


async def writable_goal(*, session: AsyncSession, actor: Actor, goal_id: int) -> Goal:
    """A goal of the actor's own plan; only its leader changes a plan."""
    goal = await readable_goal(session=session, actor=actor, goal_id=goal_id)
    if not actor.is_self(goal.member_id):
        raise NotPermitted("only the leader changes their own plan")
    return goal


async def leader_today(*, session: AsyncSession, member_id: int, now: datetime) -> date:
    """Today's date where the leader lives, for overdue marks."""
    member = await session.get(Member, member_id)
    zone = ZoneInfo(member.timezone) if member is not None else ZoneInfo("UTC")
    return now.astimezone(zone).date()
