"""Plain factories for the nudge tests: a cohort with a leader, a coach and a plan."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from services.checkins.models import Checkin, CheckinAnswer, CheckinSchedule, CheckinStatus
from services.nudges.models import NudgePolicy
from services.people.models import Cohort, EnrollmentRole, Member, NudgeMode, Workspace
from services.plans.models import Goal, GoalStatus, Milestone, Visibility
from tests.factories.people import assign, enrol, make_cohort, make_member, make_workspace
from tests.factories.plans import make_goal, make_milestone

# Tuesday 11 March 2025, 09:45 UTC: 09:45 in London (the default slot is Tuesday 09:30).
NOW = datetime(2025, 3, 11, 9, 45, tzinfo=UTC)
TODAY = date(2025, 3, 11)


@dataclass
class Program:
    workspace: Workspace
    cohort: Cohort
    leader: Member
    coach: Member
    other: Member
    goal: Goal
    milestone: Milestone
    private_goal: Goal
    other_goal: Goal
    other_milestone: Milestone


async def make_program(
    session: AsyncSession,
    *,
    mode: NudgeMode = NudgeMode.auto,
    with_coach: bool = True,
    team_id: str | None = None,
    leader_slack_id: str | None = None,
    coach_slack_id: str | None = None,
    leader_timezone: str = "Europe/London",
    other_timezone: str = "Europe/London",
) -> Program:
    """One cohort: Maya (leader), Carmen (her coach), Omar (another leader) with plans."""
    workspace = await make_workspace(session, team_id=team_id)
    cohort = await make_cohort(session, workspace, nudge_mode=mode)
    leader = await make_member(session, workspace, name="Maya Patel", timezone=leader_timezone)
    coach = await make_member(session, workspace, name="Carmen Diaz")
    for member, slack_id in ((leader, leader_slack_id), (coach, coach_slack_id)):
        if slack_id:
            member.slack_user_id = slack_id
            session.add(member)
    await session.flush()
    other = await make_member(session, workspace, name="Omar Haddad", timezone=other_timezone)
    await enrol(session, cohort, leader, EnrollmentRole.leader)
    await enrol(session, cohort, other, EnrollmentRole.leader)
    await enrol(session, cohort, coach, EnrollmentRole.coach)
    if with_coach:
        await assign(session, cohort, coach, leader)
    goal = await make_goal(
        session, leader, title="Delegate the weekly report", status=GoalStatus.at_risk,
        why="I spend Fridays on it.", cohort_id=cohort.id,
    )
    milestone = await make_milestone(
        session, goal, title="Write hand-over notes", due_date=TODAY - timedelta(days=2)
    )
    private_goal = await make_goal(
        session, leader, title="Speak up earlier in reviews", visibility=Visibility.private,
        cohort_id=cohort.id,
    )
    other_goal = await make_goal(
        session, other, title="Quietly restructure the Lisbon team", cohort_id=cohort.id
    )
    other_milestone = await make_milestone(
        session, other_goal, title="Draft the new org chart", due_date=TODAY
    )
    return Program(workspace, cohort, leader, coach, other, goal, milestone, private_goal,
                   other_goal, other_milestone)


async def set_policy(session: AsyncSession, cohort: Cohort, **fields: Any) -> NudgePolicy:
    policy = NudgePolicy(cohort_id=cohort.id or 0, **fields)
    session.add(policy)
    await session.flush()
    return policy


async def make_checkin(
    session: AsyncSession,
    member: Member,
    cohort: Cohort,
    *,
    local_date: date = TODAY,
    answered_at: datetime | None = None,
    answers: dict[str, str] | None = None,
    visibility: str = "coach",
) -> Checkin:
    """An answered (or not) check-in with text answers to questions q1, q2, ..."""
    schedule = CheckinSchedule(
        workspace_id=member.workspace_id, cohort_id=cohort.id or 0, name="Weekly",
        weekdays=[0], local_time=time(9), start_date=local_date - timedelta(days=30),
    )
    session.add(schedule)
    await session.flush()
    answers = answers or {}
    checkin = Checkin(
        workspace_id=member.workspace_id, member_id=member.id or 0,
        schedule_id=schedule.id or 0, local_date=local_date,
        due_at=answered_at or NOW, expires_at=(answered_at or NOW) + timedelta(days=1),
        status=CheckinStatus.answered if answered_at else CheckinStatus.sent,
        questions=[{"id": qid, "kind": "text", "text": f"Question {qid}?"} for qid in answers],
        answered_at=answered_at,
    )
    session.add(checkin)
    await session.flush()
    for qid, text in answers.items():
        session.add(CheckinAnswer(
            workspace_id=member.workspace_id, checkin_id=checkin.id or 0, question_id=qid,
            kind="text", text=text, visibility=visibility,
            created_at=answered_at or NOW - timedelta(days=1),
        ))
    await session.flush()
    return checkin


async def leader_in(
    session: AsyncSession, cohort: Cohort, *, name: str, timezone: str = "Europe/London",
    goal_title: str = "Grow the team",
) -> tuple[Member, Goal]:
    """Another leader of the cohort with one open goal."""
    workspace = await session.get(Workspace, cohort.workspace_id)
    assert workspace is not None
    member = await make_member(session, workspace, name=name, timezone=timezone)
    await enrol(session, cohort, member, EnrollmentRole.leader)
    goal = await make_goal(session, member, title=goal_title, cohort_id=cohort.id)
    return member, goal


__all__ = ["NOW", "TODAY", "Program", "leader_in", "make_checkin", "make_program", "set_policy"]
