"""A demo workspace so a fresh install has something to show: seeded idempotently."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.db import utcnow
from services.people.models import (
    CoachAssignment,
    Cohort,
    Enrollment,
    EnrollmentRole,
    Member,
    NudgeMode,
)
from services.people.service import ensure_workspace
from services.plans.models import Goal, GoalStatus, Milestone, MilestoneStatus, Visibility

DEMO_TEAM_ID = "T0COACHBOT"
DEMO_COHORT = "Leadership Lab 2027 (demo)"
TIMEZONES = ("America/New_York", "Europe/London", "Asia/Kolkata", "Australia/Sydney")
TEAMS = ("Sales", "Operations", "Engineering", "Finance")
FIRST_NAMES = (
    "Ada",
    "Bilal",
    "Chen",
    "Dara",
    "Elif",
    "Femi",
    "Grace",
    "Hiro",
    "Ines",
    "Jonas",
    "Kavya",
    "Luis",
)
GOALS = (
    (
        "Communicate clearly in a crisis",
        "communicating in a crisis",
        (
            "Run a tabletop incident drill",
            "Write a crisis update template",
            "Debrief with the team",
        ),
    ),
    (
        "Delegate to grow my team",
        "delegation",
        (
            "List tasks only I can do",
            "Hand off the weekly report",
            "Review outcomes with delegates",
        ),
    ),
    (
        "Build trust with key stakeholders",
        "stakeholder management",
        ("Map my stakeholders", "Hold three 1:1s with peers", "Share a quarterly update"),
    ),
)


@dataclass(frozen=True)
class DemoSummary:
    workspace_id: int
    cohort_id: int
    leaders: int
    coaches: int
    owners: int
    created: bool


async def seed_demo(*, session: AsyncSession) -> DemoSummary:
    """Create the demo workspace, cohort, people and plans unless they exist already."""
    workspace = await ensure_workspace(
        session=session, slack_team_id=DEMO_TEAM_ID, name="Coachbot demo"
    )
    workspace_id = workspace.id or 0
    cohort = (
        await session.exec(
            select(Cohort).where(Cohort.workspace_id == workspace_id, Cohort.name == DEMO_COHORT)
        )
    ).first()
    created = cohort is None
    if cohort is None:
        today = utcnow().date()
        cohort = Cohort(
            workspace_id=workspace_id,
            name=DEMO_COHORT,
            program="Leadership Lab",
            start_date=today - timedelta(days=14),
            end_date=today + timedelta(days=150),
            timezone="Europe/London",
            nudge_mode=NudgeMode.coach_review,
        )
        session.add(cohort)
        await session.flush()
        await _seed_people(
            session, workspace_id=workspace_id, cohort_id=cohort.id or 0, today=today
        )
    return DemoSummary(
        workspace_id=workspace_id,
        cohort_id=cohort.id or 0,
        leaders=12,
        coaches=2,
        owners=1,
        created=created,
    )


async def _member(
    session: AsyncSession,
    *,
    workspace_id: int,
    slack_user_id: str,
    name: str,
    timezone: str,
    team: str | None = None,
    level: str | None = None,
    title: str | None = None,
) -> Member:
    member = (
        await session.exec(
            select(Member).where(
                Member.workspace_id == workspace_id, Member.slack_user_id == slack_user_id
            )
        )
    ).first()
    if member is None:
        member = Member(
            workspace_id=workspace_id,
            slack_user_id=slack_user_id,
            name=name,
            title=title,
            timezone=timezone,
            team=team,
            level=level,
            region=timezone.split("/")[0],
            email=f"{name.split()[0].lower()}@example.com",
        )
        session.add(member)
        await session.flush()
    return member


async def _seed_people(
    session: AsyncSession, *, workspace_id: int, cohort_id: int, today: date
) -> None:
    def enrol(member: Member, role: EnrollmentRole) -> None:
        session.add(
            Enrollment(
                workspace_id=workspace_id, cohort_id=cohort_id, member_id=member.id or 0, role=role
            )
        )

    owner = await _member(
        session,
        workspace_id=workspace_id,
        slack_user_id="UDEMOOWNER",
        name="Olivia Owner",
        timezone="Europe/London",
        title="Program lead",
    )
    enrol(owner, EnrollmentRole.owner)
    coaches = [
        await _member(
            session,
            workspace_id=workspace_id,
            slack_user_id=f"UDEMOCOACH{n}",
            name=name,
            timezone=tz,
            title="Executive coach",
        )
        for n, (name, tz) in enumerate(
            (("Carmen Coach", "America/New_York"), ("Kwame Coach", "Europe/London")), start=1
        )
    ]
    for coach in coaches:
        enrol(coach, EnrollmentRole.coach)
    for index, first in enumerate(FIRST_NAMES):
        leader = await _member(
            session,
            workspace_id=workspace_id,
            slack_user_id=f"UDEMOLEAD{index + 1:02d}",
            name=f"{first} Leader",
            timezone=TIMEZONES[index % 4],
            team=TEAMS[index % 4],
            level=("L4", "L5", "L6")[index % 3],
            title="Team lead",
        )
        enrol(leader, EnrollmentRole.leader)
        session.add(
            CoachAssignment(
                workspace_id=workspace_id,
                cohort_id=cohort_id,
                coach_id=coaches[index % 2].id or 0,
                leader_id=leader.id or 0,
            )
        )
        await _seed_plan(
            session,
            workspace_id=workspace_id,
            cohort_id=cohort_id,
            leader=leader,
            index=index,
            today=today,
        )
    await session.flush()


async def _seed_plan(
    session: AsyncSession,
    *,
    workspace_id: int,
    cohort_id: int,
    leader: Member,
    index: int,
    today: date,
) -> None:
    for offset in range(2):
        title, competency, steps = GOALS[(index + offset) % len(GOALS)]
        goal = Goal(
            workspace_id=workspace_id,
            member_id=leader.id or 0,
            cohort_id=cohort_id,
            title=title,
            competency=competency,
            why="Named in my 360 feedback as the next step for my role.",
            status=(GoalStatus.on_track, GoalStatus.at_risk)[(index + offset) % 2],
            visibility=(Visibility.coach, Visibility.private)[offset],
        )
        session.add(goal)
        await session.flush()
        for position, step in enumerate(steps):
            done = position == 0 and index % 3 == 0
            session.add(
                Milestone(
                    workspace_id=workspace_id,
                    goal_id=goal.id or 0,
                    title=step,
                    position=position,
                    due_date=today + timedelta(days=14 * position - 7),
                    status=MilestoneStatus.done if done else MilestoneStatus.open,
                    done_at=utcnow() if done else None,
                )
            )
