"""Cohorts of a chosen size with a week-by-week engagement history and keys for every role."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from services.auth.models import Role
from services.nudges.models import NudgeFeedback
from services.people.models import Cohort, EnrollmentRole, Member, Workspace
from tests.factories.people import enrol, make_cohort, make_key, make_member, make_workspace
from tests.metrics.factories import checkin, goal_with_milestones, make_schedule, nudge

# A Wednesday: the complete weeks end on Sunday 2025-03-09.
NOW = datetime(2025, 3, 12, 12, 0, tzinfo=UTC)
START = date(2025, 2, 3)
WEEKS = [START + timedelta(weeks=n) for n in range(5)]  # 02-03 ... 03-03
CURRENT_WEEK = date(2025, 3, 10)
JOINED = datetime(2025, 1, 20, tzinfo=UTC)


@dataclass
class Cohorts:
    workspace: Workspace
    cohort: Cohort
    owner: Member
    leaders: list[Member]
    keys: dict[str, dict[str, str]] = field(default_factory=dict)


async def enrol_leader(session: AsyncSession, cohort: Cohort, workspace: Workspace,
                       **fields: object) -> Member:
    member = await make_member(session, workspace, **fields)
    enrollment = await enrol(session, cohort, member, EnrollmentRole.leader)
    enrollment.created_at = JOINED
    return member


async def build_cohort(session: AsyncSession, *, leaders: int,
                       teams: list[str | None] | None = None) -> Cohorts:
    """A cohort (k = 5, starting 2025-02-03, London) with `leaders` leaders, each of whom
    answers the Monday check-in every complete week, and leader 0 the only one to skip."""
    workspace = await make_workspace(session)
    cohort = await make_cohort(session, workspace, timezone="Europe/London", start_date=START)
    owner = await make_member(session, workspace, name="Olivia Owner")
    await enrol(session, cohort, owner, EnrollmentRole.owner)
    schedule = await make_schedule(session, cohort)
    people = []
    for n in range(leaders):
        team = teams[n] if teams else None
        member = await enrol_leader(session, cohort, workspace, team=team)
        people.append(member)
        for week in [*WEEKS, CURRENT_WEEK]:
            await checkin(session, schedule, member, week, answered=n != 0)
        await goal_with_milestones(session, member, cohort, done_on=[WEEKS[1] + timedelta(days=2)],
                                   open_count=1)
        await nudge(session, cohort, member, WEEKS[2] + timedelta(days=1),
                    NudgeFeedback.helpful if n % 2 else NudgeFeedback.not_helpful)
    world = Cohorts(workspace=workspace, cohort=cohort, owner=owner, leaders=people)
    world.keys = {"admin": await make_key(session, workspace, Role.admin),
                  "owner": await make_key(session, workspace, Role.owner, member=owner)}
    await session.commit()
    return world
