"""What a member's App Home shows, gathered from every domain in one call."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.auth.models import Role
from services.auth.service import actor_for
from services.checkins.service import NextCheckin, next_checkin
from services.circles.mine import current_circle_for
from services.db import utcnow
from services.metrics.home import OwnerHome, owner_home_extras
from services.nudges.models import Nudge, NudgeStatus
from services.nudges.reports import drafts_awaiting
from services.people.models import (
    CoachAssignment,
    Cohort,
    Enrollment,
    EnrollmentRole,
    EnrollmentStatus,
    Member,
)
from services.plans.models import Goal, GoalStatus, PlanPublic, ProgressUpdate, Visibility
from services.plans.service import get_plan


@dataclass(frozen=True)
class CoacheeSummary:
    member_id: int
    name: str
    shared_goals: int
    last_progress_at: datetime | None


@dataclass(frozen=True)
class CohortSummary:
    cohort_id: int
    name: str
    leaders: int
    coaches: int
    paused: int
    # None when the cohort is below its k-anonymity minimum.
    goals_by_status: dict[str, int] | None


@dataclass
class HomeSummary:
    member: Member
    roles: set[EnrollmentRole]
    paused_until: str | None = None
    plan: PlanPublic | None = None
    coachees: list[CoacheeSummary] = field(default_factory=list)
    cohorts: list[CohortSummary] = field(default_factory=list)
    next_checkin: NextCheckin | None = None
    current_circle: str | None = None
    latest_nudge: str | None = None
    drafts_awaiting: int = 0
    owner: OwnerHome | None = None


async def home_for(*, session: AsyncSession, member: Member) -> HomeSummary:
    """Everything the member's Home tab shows, by the roles they hold."""
    enrollments = (
        await session.exec(
            select(Enrollment).where(
                Enrollment.member_id == member.id, Enrollment.status != EnrollmentStatus.left
            )
        )
    ).all()
    summary = HomeSummary(member=member, roles={EnrollmentRole(e.role) for e in enrollments})
    paused = [e for e in enrollments if e.status == EnrollmentStatus.paused]
    if paused:
        until = [e.paused_until for e in paused if e.paused_until]
        summary.paused_until = max(until).isoformat() if until else "further notice"
    member_id = member.id or 0
    if EnrollmentRole.leader in summary.roles:
        leader = await actor_for(
            session=session,
            workspace_id=member.workspace_id,
            role=Role.leader,
            member_id=member_id,
        )
        summary.plan = await get_plan(session=session, actor=leader, member_id=member_id)
        summary.next_checkin = await next_checkin(session=session, member_id=member_id,
                                                  now=utcnow())
        summary.current_circle = await current_circle_for(session=session, member_id=member_id)
        summary.latest_nudge = await _latest_nudge(session, member_id)
    if EnrollmentRole.coach in summary.roles:
        summary.coachees = await _coachees(session, member_id)
        summary.drafts_awaiting = await drafts_awaiting(session=session, coach_id=member_id)
    if EnrollmentRole.owner in summary.roles:
        owned = [e.cohort_id for e in enrollments if e.role == EnrollmentRole.owner]
        summary.cohorts = [await _cohort_summary(session, cohort_id) for cohort_id in owned]
        summary.owner = await owner_home_extras(session=session, member_id=member_id)
    return summary


async def _latest_nudge(session: AsyncSession, member_id: int) -> str | None:
    nudge = (
        await session.exec(
            select(Nudge)
            .where(Nudge.member_id == member_id, Nudge.status == NudgeStatus.sent)
            .order_by(col(Nudge.id).desc())
        )
    ).first()
    if nudge is None:
        return None
    text = nudge.text if len(nudge.text) <= 140 else nudge.text[:139] + "…"
    return text


async def _coachees(session: AsyncSession, coach_id: int) -> list[CoacheeSummary]:
    leaders = (
        await session.exec(
            select(Member)
            .join(CoachAssignment, col(CoachAssignment.leader_id) == Member.id)
            .where(CoachAssignment.coach_id == coach_id)
            .order_by(col(Member.name))
        )
    ).all()
    result = []
    unique = {leader.id: leader for leader in leaders}
    for leader in unique.values():
        shared = select(Goal.id).where(
            Goal.member_id == leader.id, Goal.visibility == Visibility.coach
        )
        goals = (await session.exec(select(func.count()).select_from(shared.subquery()))).one()
        last = (
            await session.exec(
                select(func.max(ProgressUpdate.created_at)).where(
                    col(ProgressUpdate.goal_id).in_(shared)
                )
            )
        ).one()
        result.append(
            CoacheeSummary(
                member_id=leader.id or 0,
                name=leader.name,
                shared_goals=goals,
                last_progress_at=last,
            )
        )
    return result


async def _cohort_summary(session: AsyncSession, cohort_id: int) -> CohortSummary:
    cohort = await session.get(Cohort, cohort_id)
    enrollments = (
        await session.exec(select(Enrollment).where(Enrollment.cohort_id == cohort_id))
    ).all()
    roles = Counter(e.role for e in enrollments if e.status != EnrollmentStatus.left)
    leaders = roles[EnrollmentRole.leader]
    minimum = cohort.k_anonymity_min if cohort else 5
    by_status: dict[str, int] | None = None
    if leaders >= minimum:
        rows = (
            await session.exec(
                select(Goal.status, func.count())
                .where(Goal.cohort_id == cohort_id, Goal.visibility != Visibility.private)
                .group_by(col(Goal.status))
            )
        ).all()
        by_status = {status.value: 0 for status in GoalStatus} | {s: n for s, n in rows}
    return CohortSummary(
        cohort_id=cohort_id,
        name=cohort.name if cohort else f"Cohort {cohort_id}",
        leaders=leaders,
        coaches=roles[EnrollmentRole.coach],
        paused=sum(1 for e in enrollments if e.status == EnrollmentStatus.paused),
        goals_by_status=by_status,
    )
