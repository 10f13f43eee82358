"""Raw engagement facts per leader and week, read from every domain's tables.

The metrics are built from these in Python: a cohort has at most a few thousand leaders
and a program a few dozen weeks, and every figure (weekly, per group, per person) comes
from the same facts, so the suppression rules see exactly what is added up.

A week runs Monday to Sunday in the cohort's timezone (a check-in belongs to the week of
its own local date). Goals marked private never enter an aggregate: they count only in a
leader's view of themselves.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.checkins.models import Checkin, CheckinSchedule, CheckinStatus
from services.circles.models import Circle, CircleMember, CircleRound, CircleSeries, MetAnswer
from services.nudges.models import Nudge, NudgeFeedback, NudgeStatus
from services.people.models import Enrollment, EnrollmentRole, EnrollmentStatus, Member
from services.plans.models import Goal, Milestone, MilestoneStatus, Visibility

SEEN = (CheckinStatus.sent, CheckinStatus.answered, CheckinStatus.expired)


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def local_day(instant: datetime, zone: ZoneInfo) -> date:
    return instant.astimezone(zone).date()


@dataclass
class WeekFacts:
    """What one leader did in one week."""

    checkins_sent: int = 0
    checkins_answered: int = 0
    milestones_completed: int = 0
    circle_invited: int = 0
    circle_answered: int = 0
    circle_met: int = 0
    nudges_sent: int = 0
    nudges_rated: int = 0
    nudges_helpful: int = 0


@dataclass
class LeaderFacts:
    """One leader: who they are (for groups), when they joined, and what they did."""

    member_id: int
    team: str | None
    level: str | None
    region: str | None
    enrolled_on: date
    started_at: datetime
    status: EnrollmentStatus
    weeks: defaultdict[date, WeekFacts] = field(default_factory=lambda: defaultdict(WeekFacts))
    goals_by_status: Counter[str] = field(default_factory=Counter)
    milestones_planned: int = 0
    milestones_done: int = 0
    first_done_at: datetime | None = None

    def attribute(self, name: str) -> str | None:
        value: str | None = getattr(self, name)
        return value


@dataclass(frozen=True)
class Scope:
    """Whose facts to read: a cohort's leaders, or one member; and where weeks begin."""

    zone: ZoneInfo
    cohort_id: int | None
    member_ids: frozenset[int] | None = None
    include_private: bool = False

    def members(self, column: Any) -> Any:
        if self.member_ids is not None:
            return col(column).in_(self.member_ids)
        return col(column).in_(
            select(Enrollment.member_id).where(col(Enrollment.cohort_id) == self.cohort_id,
                                               col(Enrollment.role) == EnrollmentRole.leader))


async def cohort_leaders(
    *, session: AsyncSession, cohort_id: int, zone: ZoneInfo
) -> dict[int, LeaderFacts]:
    """Everyone ever enrolled as a leader (those who left too: leaving must not change
    the past), erased members excepted."""
    rows = (await session.exec(
        select(Enrollment, Member)
        .join(Member, col(Member.id) == col(Enrollment.member_id))
        .where(col(Enrollment.cohort_id) == cohort_id,
               col(Enrollment.role) == EnrollmentRole.leader,
               col(Member.erased_at).is_(None))
    )).all()
    return {member.id or 0: _leader(member, enrollment.created_at, enrollment.status, zone)
            for enrollment, member in rows}


def _leader(member: Member, started_at: datetime, status: str, zone: ZoneInfo) -> LeaderFacts:
    return LeaderFacts(member_id=member.id or 0, team=member.team, level=member.level,
                       region=member.region, enrolled_on=local_day(started_at, zone),
                       started_at=started_at, status=EnrollmentStatus(status))


def single_leader(member: Member, zone: ZoneInfo) -> dict[int, LeaderFacts]:
    """One member's facts container (their own view, or their coach's)."""
    return {member.id or 0: _leader(member, member.created_at, EnrollmentStatus.active, zone)}


async def load_facts(
    *, session: AsyncSession, leaders: dict[int, LeaderFacts], scope: Scope, first: date,
    end: date,
) -> None:
    """Fill in the leaders' weekly facts for local dates in [first, end), and their plans."""
    await _checkins(session, leaders, scope, first, end)
    await _milestones(session, leaders, scope, first, end)
    await _goals(session, leaders, scope)
    await _circles(session, leaders, scope, first, end)
    await _nudges(session, leaders, scope, first, end)


def _since(first: date, zone: ZoneInfo) -> datetime:
    # A day's margin either side; the exact local week is worked out per row.
    return datetime.combine(first - timedelta(days=1), datetime.min.time(), tzinfo=zone)


def _until(end: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(end + timedelta(days=1), datetime.min.time(), tzinfo=zone)


def _in(day: date, first: date, end: date) -> bool:
    return first <= day < end


async def _checkins(session: AsyncSession, leaders: dict[int, LeaderFacts], scope: Scope,
                    first: date, end: date) -> None:
    statement = (
        select(col(Checkin.member_id), col(Checkin.local_date), col(Checkin.status),
               func.count())
        .join(CheckinSchedule, col(CheckinSchedule.id) == col(Checkin.schedule_id))
        .where(scope.members(Checkin.member_id), col(Checkin.status).in_(SEEN),
               col(Checkin.local_date) >= first, col(Checkin.local_date) < end)
        .group_by(col(Checkin.member_id), col(Checkin.local_date), col(Checkin.status))
    )
    if scope.cohort_id is not None:
        statement = statement.where(col(CheckinSchedule.cohort_id) == scope.cohort_id)
    for member_id, day, status, count in (await session.exec(statement)).all():
        leader = leaders.get(member_id)
        if leader is None:
            continue
        day = date.fromisoformat(day) if isinstance(day, str) else day
        week = leader.weeks[monday(day)]
        week.checkins_sent += int(count)
        if status == CheckinStatus.answered:
            week.checkins_answered += int(count)


def _goal_scope(scope: Scope) -> list[Any]:
    conditions = [scope.members(Goal.member_id)]
    if not scope.include_private:
        conditions.append(col(Goal.visibility) != Visibility.private)
    if scope.cohort_id is not None:
        conditions.append(or_(col(Goal.cohort_id) == scope.cohort_id,
                              col(Goal.cohort_id).is_(None)))
    return conditions


async def _milestones(session: AsyncSession, leaders: dict[int, LeaderFacts], scope: Scope,
                      first: date, end: date) -> None:
    rows = (await session.exec(
        select(Goal.member_id, Milestone.status, Milestone.done_at)
        .join(Goal, col(Goal.id) == col(Milestone.goal_id))
        .where(*_goal_scope(scope), col(Milestone.status) != MilestoneStatus.skipped)
    )).all()
    for member_id, status, done_at in rows:
        leader = leaders.get(member_id)
        if leader is None:
            continue
        leader.milestones_planned += 1
        if status != MilestoneStatus.done or done_at is None:
            continue
        leader.milestones_done += 1
        if leader.first_done_at is None or done_at < leader.first_done_at:
            leader.first_done_at = done_at
        day = local_day(done_at, scope.zone)
        if _in(day, first, end):
            leader.weeks[monday(day)].milestones_completed += 1


async def _goals(session: AsyncSession, leaders: dict[int, LeaderFacts], scope: Scope) -> None:
    rows = (await session.exec(
        select(Goal.member_id, Goal.status, func.count())
        .where(*_goal_scope(scope)).group_by(col(Goal.member_id), col(Goal.status))
    )).all()
    for member_id, status, count in rows:
        if member_id in leaders:
            leaders[member_id].goals_by_status[str(status)] += int(count)


async def _circles(session: AsyncSession, leaders: dict[int, LeaderFacts], scope: Scope,
                   first: date, end: date) -> None:
    statement = (
        select(CircleMember.member_id, CircleRound.scheduled_for, CircleMember.met)
        .join(Circle, col(Circle.id) == col(CircleMember.circle_id))
        .join(CircleRound, col(CircleRound.id) == col(Circle.round_id))
        .join(CircleSeries, col(CircleSeries.id) == col(CircleRound.series_id))
        .where(scope.members(CircleMember.member_id),
               col(CircleRound.scheduled_for) >= _since(first, scope.zone),
               col(CircleRound.scheduled_for) < _until(end, scope.zone))
    )
    if scope.cohort_id is not None:
        statement = statement.where(col(CircleSeries.cohort_id) == scope.cohort_id)
    for member_id, scheduled_for, met in (await session.exec(statement)).all():
        day = local_day(scheduled_for, scope.zone)
        leader = leaders.get(member_id)
        if leader is None or not _in(day, first, end):
            continue
        week = leader.weeks[monday(day)]
        week.circle_invited += 1
        week.circle_answered += int(met is not None)
        week.circle_met += int(met == MetAnswer.yes)


async def _nudges(session: AsyncSession, leaders: dict[int, LeaderFacts], scope: Scope,
                  first: date, end: date) -> None:
    statement = (
        select(Nudge.member_id, Nudge.sent_at, Nudge.feedback)
        .where(scope.members(Nudge.member_id), col(Nudge.status) == NudgeStatus.sent,
               col(Nudge.sent_at) >= _since(first, scope.zone),
               col(Nudge.sent_at) < _until(end, scope.zone))
    )
    if scope.cohort_id is not None:
        statement = statement.where(col(Nudge.cohort_id) == scope.cohort_id)
    for member_id, sent_at, feedback in (await session.exec(statement)).all():
        leader = leaders.get(member_id)
        if leader is None or sent_at is None:
            continue
        day = local_day(sent_at, scope.zone)
        if not _in(day, first, end):
            continue
        week = leader.weeks[monday(day)]
        week.nudges_sent += 1
        if feedback in (NudgeFeedback.helpful, NudgeFeedback.not_helpful):
            week.nudges_rated += 1
            week.nudges_helpful += int(feedback == NudgeFeedback.helpful)


def week_starts(first: date, end: date) -> Iterable[date]:
    """The Mondays of the weeks from the one holding `first` up to (not including) `end`."""
    week = monday(first)
    while week < end:
        yield week
        week += timedelta(weeks=1)
