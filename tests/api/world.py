"""A small, fully-populated pair of workspaces used by the API tests."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel.ext.asyncio.session import AsyncSession

from services.auth.models import Role
from services.people.models import Cohort, EnrollmentRole, Member
from services.plans.models import Goal, Milestone, ProgressUpdate, Visibility
from tests.factories.people import (
    assign,
    enrol,
    make_cohort,
    make_key,
    make_member,
    make_workspace,
)
from tests.factories.plans import make_goal, make_milestone, make_progress


@dataclass
class World:
    cohort: Cohort
    other_cohort: Cohort
    owner: Member
    coach: Member
    leader: Member
    other_leader: Member
    foreign_leader: Member
    shared_goal: Goal
    private_goal: Goal
    shared_milestone: Milestone
    private_milestone: Milestone
    shared_progress: ProgressUpdate
    other_goal: Goal
    foreign_goal: Goal
    enrollment_id: int
    assignment_id: int
    keys: dict[str, dict[str, str]] = field(default_factory=dict)


async def build_world(session: AsyncSession) -> World:
    """Workspace A: one cohort with an owner, a coach of `leader`, and `other_leader`.
    Workspace B: a leader with a goal, which nobody in A may ever see."""
    home = await make_workspace(session)
    away = await make_workspace(session)
    cohort = await make_cohort(session, home)
    other_cohort = await make_cohort(session, home)
    owner = await make_member(session, home, name="Olivia Owner")
    coach = await make_member(session, home, name="Carmen Coach")
    leader = await make_member(session, home, name="Lee Leader", timezone="America/New_York")
    other_leader = await make_member(session, home, name="Omar Other")
    foreign_leader = await make_member(session, away, name="Fay Foreign")
    await enrol(session, cohort, owner, EnrollmentRole.owner)
    await enrol(session, cohort, coach, EnrollmentRole.coach)
    enrollment = await enrol(session, cohort, leader, EnrollmentRole.leader)
    await enrol(session, other_cohort, other_leader, EnrollmentRole.leader)
    assignment = await assign(session, cohort, coach, leader)
    shared_goal = await make_goal(
        session, leader, title="Coach may see", visibility=Visibility.coach
    )
    private_goal = await make_goal(session, leader, title="Only me", visibility=Visibility.private)
    shared_milestone = await make_milestone(session, shared_goal)
    private_milestone = await make_milestone(session, private_goal)
    shared_progress = await make_progress(session, shared_goal)
    await make_progress(session, private_goal, note="secret note")
    other_goal = await make_goal(session, other_leader, title="Not yours")
    foreign_goal = await make_goal(session, foreign_leader, title="Other workspace")
    world = World(
        cohort=cohort,
        other_cohort=other_cohort,
        owner=owner,
        coach=coach,
        leader=leader,
        other_leader=other_leader,
        foreign_leader=foreign_leader,
        shared_goal=shared_goal,
        private_goal=private_goal,
        shared_milestone=shared_milestone,
        private_milestone=private_milestone,
        shared_progress=shared_progress,
        other_goal=other_goal,
        foreign_goal=foreign_goal,
        enrollment_id=enrollment.id or 0,
        assignment_id=assignment.id or 0,
    )
    world.keys = {
        "admin": await make_key(session, home, Role.admin),
        "owner": await make_key(session, home, Role.owner, member=owner),
        "coach": await make_key(session, home, Role.coach, member=coach),
        "leader": await make_key(session, home, Role.leader, member=leader),
        "other_leader": await make_key(session, home, Role.leader, member=other_leader),
        "foreign_admin": await make_key(session, away, Role.admin),
    }
    await session.commit()
    return world
