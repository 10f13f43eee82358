"""Plain factory functions for workspaces, members, cohorts, enrolments and keys."""

from __future__ import annotations

import itertools

from sqlmodel.ext.asyncio.session import AsyncSession

from services.auth.models import Role
from services.auth.service import create_key
from services.people.models import (
    CoachAssignment,
    Cohort,
    Enrollment,
    EnrollmentRole,
    Member,
    Workspace,
)

_ids = itertools.count(1)


async def make_workspace(session: AsyncSession, *, team_id: str | None = None) -> Workspace:
    workspace = Workspace(slack_team_id=team_id or f"T{next(_ids):08d}", name="Acme")
    session.add(workspace)
    await session.flush()
    return workspace


async def make_member(
    session: AsyncSession,
    workspace: Workspace,
    *,
    name: str | None = None,
    timezone: str = "Europe/London",
    **fields: object,
) -> Member:
    n = next(_ids)
    member = Member(
        workspace_id=workspace.id or 0,
        slack_user_id=f"U{n:08d}",
        name=name or f"Person {n}",
        timezone=timezone,
        **fields,
    )
    session.add(member)
    await session.flush()
    return member


async def make_cohort(session: AsyncSession, workspace: Workspace, **fields: object) -> Cohort:
    cohort = Cohort(workspace_id=workspace.id or 0, name=f"Cohort {next(_ids)}", **fields)
    session.add(cohort)
    await session.flush()
    return cohort


async def enrol(
    session: AsyncSession, cohort: Cohort, member: Member, role: EnrollmentRole
) -> Enrollment:
    enrollment = Enrollment(
        workspace_id=cohort.workspace_id,
        cohort_id=cohort.id or 0,
        member_id=member.id or 0,
        role=role,
    )
    session.add(enrollment)
    await session.flush()
    return enrollment


async def assign(
    session: AsyncSession, cohort: Cohort, coach: Member, leader: Member
) -> CoachAssignment:
    assignment = CoachAssignment(
        workspace_id=cohort.workspace_id,
        cohort_id=cohort.id or 0,
        coach_id=coach.id or 0,
        leader_id=leader.id or 0,
    )
    session.add(assignment)
    await session.flush()
    return assignment


async def make_key(
    session: AsyncSession,
    workspace: Workspace,
    role: Role,
    *,
    member: Member | None = None,
    cohort: Cohort | None = None,
) -> dict[str, str]:
    """Create an API key and return the Authorization header that carries it."""
    _, raw = await create_key(
        session=session,
        workspace_id=workspace.id or 0,
        role=role,
        member_id=member.id if member else None,
        cohort_id=cohort.id if cohort else None,
    )
    return {"Authorization": f"Bearer {raw}"}
