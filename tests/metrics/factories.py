"""Plain factories for engagement rows (check-ins, milestones, circles, nudges), written
straight into the tables the metrics read, and KPI CSV text."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from services.checkins.models import Checkin, CheckinSchedule, CheckinStatus
from services.circles.models import Circle, CircleMember, CircleRound, CircleSeries, MetAnswer
from services.nudges.models import Nudge, NudgeFeedback, NudgeStatus
from services.people.models import Cohort, Member
from services.plans.models import Goal, GoalStatus, Milestone, MilestoneStatus, Visibility

_ids = itertools.count(1)


def noon(day: date) -> datetime:
    return datetime.combine(day, time(12, 0), tzinfo=UTC)


async def make_schedule(session: AsyncSession, cohort: Cohort) -> CheckinSchedule:
    schedule = CheckinSchedule(workspace_id=cohort.workspace_id, cohort_id=cohort.id or 0,
                               name="Weekly check-in", weekdays=[0], local_time=time(9, 0),
                               start_date=date(2025, 1, 1))
    session.add(schedule)
    await session.flush()
    return schedule


async def checkin(session: AsyncSession, schedule: CheckinSchedule, member: Member, day: date,
                  *, answered: bool) -> Checkin:
    row = Checkin(workspace_id=member.workspace_id, member_id=member.id or 0,
                  schedule_id=schedule.id or 0, local_date=day, due_at=noon(day),
                  expires_at=noon(day) + timedelta(days=1),
                  status=CheckinStatus.answered if answered else CheckinStatus.expired)
    session.add(row)
    await session.flush()
    return row


async def goal_with_milestones(
    session: AsyncSession, member: Member, cohort: Cohort, *, done_on: list[date],
    open_count: int = 0, status: GoalStatus = GoalStatus.on_track,
    visibility: Visibility = Visibility.coach,
) -> Goal:
    goal = Goal(workspace_id=member.workspace_id, member_id=member.id or 0,
                cohort_id=cohort.id, title="Delegate more", status=status,
                visibility=visibility)
    session.add(goal)
    await session.flush()
    for day in done_on:
        session.add(Milestone(workspace_id=goal.workspace_id, goal_id=goal.id or 0,
                              title="Step", status=MilestoneStatus.done, done_at=noon(day)))
    for _ in range(open_count):
        session.add(Milestone(workspace_id=goal.workspace_id, goal_id=goal.id or 0,
                              title="Next"))
    await session.flush()
    return goal


async def circle(session: AsyncSession, cohort: Cohort, day: date,
                 attendance: list[tuple[Member, MetAnswer | None]]) -> Circle:
    series = CircleSeries(workspace_id=cohort.workspace_id, cohort_id=cohort.id or 0,
                          name="Circles", start_date=day)
    session.add(series)
    await session.flush()
    round_ = CircleRound(series_id=series.id or 0, number=1, scheduled_for=noon(day))
    session.add(round_)
    await session.flush()
    group = Circle(workspace_id=cohort.workspace_id, round_id=round_.id or 0)
    session.add(group)
    await session.flush()
    for member, met in attendance:
        session.add(CircleMember(circle_id=group.id or 0, member_id=member.id or 0, met=met))
    await session.flush()
    return group


async def nudge(session: AsyncSession, cohort: Cohort, member: Member, day: date,
                feedback: NudgeFeedback | None) -> Nudge:
    row = Nudge(workspace_id=member.workspace_id, member_id=member.id or 0,
                cohort_id=cohort.id, dedupe_key=f"metrics-test:{next(_ids)}", text="Nudge",
                source="offline", status=NudgeStatus.sent, feedback=feedback, local_date=day,
                sent_at=noon(day))
    session.add(row)
    await session.flush()
    return row
