"""A member's rights over their data: a full export, and erasure that keeps only counts.

Each domain holding a member's words exports and erases its own tables; this module
gathers them, so one request covers plans, check-ins, circles, nudges and broadcasts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.auth.models import ApiKey, Role
from services.auth.service import Actor
from services.broadcasts.privacy import erase_broadcast_data, export_broadcast_data
from services.checkins.privacy import erase_checkin_data, export_checkin_data
from services.circles.privacy import erase_circle_data, export_circle_data
from services.db import utcnow
from services.errors import NotFound, NotPermitted
from services.nudges.privacy import erase_nudge_data, export_nudge_data
from services.people.models import CoachAssignment, Enrollment
from services.people.service import get_member
from services.plans.models import Goal, Milestone, ProgressUpdate
from services.privacy.models import AuditEvent
from services.privacy.service import record_action
from services.privacy.tables import ERASED, row_as_json, rows_as_json


async def export_member_data(
    *, session: AsyncSession, actor: Actor, member_id: int
) -> dict[str, Any]:
    """Everything Coachbot holds about a member, for that member only."""
    if not actor.is_self(member_id):
        # Export hands over content; only the person it belongs to may take it.
        await get_member(session=session, actor=actor, member_id=member_id)
        raise NotPermitted("members export only their own data")
    member = await get_member(session=session, actor=actor, member_id=member_id)
    goals = (await session.exec(select(Goal).where(Goal.member_id == member_id))).all()
    goal_ids = [goal.id for goal in goals]
    tables: dict[str, Any] = {
        "member": row_as_json(member),
        "enrollments": await rows_as_json(
            session, select(Enrollment).where(Enrollment.member_id == member_id)
        ),
        "coach_assignments": await rows_as_json(
            session,
            select(CoachAssignment).where(
                (CoachAssignment.leader_id == member_id) | (CoachAssignment.coach_id == member_id)
            ),
        ),
        "goals": [row_as_json(goal) for goal in goals],
        "milestones": await rows_as_json(
            session, select(Milestone).where(col(Milestone.goal_id).in_(goal_ids))
        ),
        "progress_updates": await rows_as_json(
            session, select(ProgressUpdate).where(ProgressUpdate.member_id == member_id)
        ),
        "audit_events_about_me": await rows_as_json(
            session, select(AuditEvent).where(AuditEvent.subject_member_id == member_id)
        ),
    }
    for domain_export in (
        export_checkin_data, export_circle_data, export_nudge_data, export_broadcast_data
    ):
        tables |= await domain_export(session=session, member_id=member_id)
    record_action(
        session=session,
        actor=actor,
        action="export",
        subject_member_id=member_id,
        object_type="member",
        object_id=member_id,
    )
    return tables


async def erase_member_data(
    *, session: AsyncSession, actor: Actor, member_id: int
) -> dict[str, int]:
    """Erase a member's content and profile; statuses and dates stay, so counts stay right."""
    member = await get_member(session=session, actor=actor, member_id=member_id)
    if not actor.is_self(member_id) and actor.role is not Role.admin:
        raise NotPermitted("only the member or an admin can erase a member's data")
    if member.id is None:
        raise NotFound(f"member {member_id} not found")
    goal_ids = select(Goal.id).where(Goal.member_id == member_id)
    erased_goals = await session.exec(
        update(Goal)
        .where(col(Goal.member_id) == member_id)
        .values(title=ERASED, why=None, competency=None)
    )
    erased_milestones = await session.exec(
        update(Milestone).where(col(Milestone.goal_id).in_(goal_ids)).values(title=ERASED)
    )
    erased_notes = await session.exec(
        update(ProgressUpdate).where(col(ProgressUpdate.member_id) == member_id).values(note=ERASED)
    )
    erased = {
        "goals": erased_goals.rowcount,
        "milestones": erased_milestones.rowcount,
        "progress_updates": erased_notes.rowcount,
    }
    for domain_erase in (erase_checkin_data, erase_circle_data, erase_nudge_data,
                         erase_broadcast_data):
        erased |= await domain_erase(session=session, member_id=member_id)
    now = utcnow()
    await session.exec(
        update(ApiKey)
        .where(col(ApiKey.member_id) == member_id, col(ApiKey.revoked_at).is_(None))
        .values(revoked_at=now)
    )
    member.sqlmodel_update(
        {
            "slack_user_id": f"ERASED{member.id}",
            "email": None,
            "name": ERASED,
            "title": None,
            "team": None,
            "level": None,
            "region": None,
            "erased_at": now,
            "updated_at": now,
        }
    )
    session.add(member)
    record_action(
        session=session,
        actor=actor,
        action="erase",
        subject_member_id=member_id,
        object_type="member",
        object_id=member_id,
    )
    await session.flush()
    return erased

