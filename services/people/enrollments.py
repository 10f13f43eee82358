"""Enrolments (a member in a cohort with a role) and coach assignments."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.auth.models import Role
from services.auth.service import Actor
from services.errors import Conflict, Invalid, NotFound
from services.pagination import Page, paginate
from services.people.access import require_manager
from services.people.models import (
    CoachAssignment,
    CoachAssignmentCreate,
    CoachAssignmentPublic,
    Cohort,
    Enrollment,
    EnrollmentCreate,
    EnrollmentPublic,
    EnrollmentRole,
    EnrollmentStatus,
    EnrollmentUpdate,
    Member,
)


def _enrollment_filter(actor: Actor) -> Any:
    in_workspace = col(Enrollment.workspace_id) == actor.workspace_id
    if actor.role is Role.admin:
        return in_workspace
    own = col(Enrollment.member_id) == actor.member_id
    if actor.role is Role.owner:
        return in_workspace & or_(own, col(Enrollment.cohort_id).in_(actor.cohort_ids))
    return in_workspace & own


def _assignment_filter(actor: Actor) -> Any:
    in_workspace = col(CoachAssignment.workspace_id) == actor.workspace_id
    if actor.role is Role.admin:
        return in_workspace
    if actor.role is Role.owner:
        return in_workspace & col(CoachAssignment.cohort_id).in_(actor.cohort_ids)
    if actor.role is Role.coach:
        return in_workspace & (CoachAssignment.coach_id == actor.member_id)
    return in_workspace & (CoachAssignment.leader_id == actor.member_id)


async def _require_in_workspace(
    session: AsyncSession, actor: Actor, *, cohort_id: int, member_ids: list[int]
) -> None:
    cohort = await session.get(Cohort, cohort_id)
    if cohort is None or cohort.workspace_id != actor.workspace_id:
        raise NotFound(f"cohort {cohort_id} not found", field="cohort_id")
    require_manager(actor, cohort_id)
    for member_id in member_ids:
        member = await session.get(Member, member_id)
        if member is None or member.workspace_id != actor.workspace_id:
            raise NotFound(f"member {member_id} not found", field="member_id")


async def _flush_unique(session: AsyncSession, what: str) -> None:
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        raise Conflict(f"{what} already exists") from exc


# --- enrolments ------------------------------------------------------------------------


async def list_enrollments(
    *,
    session: AsyncSession,
    actor: Actor,
    cohort_id: int | None,
    member_id: int | None,
    role: EnrollmentRole | None,
    cursor: str | None,
    limit: int,
) -> Page[EnrollmentPublic]:
    """Enrolments the actor can see, filtered by cohort, member or role."""
    statement = select(Enrollment).where(_enrollment_filter(actor))
    if cohort_id is not None:
        statement = statement.where(Enrollment.cohort_id == cohort_id)
    if member_id is not None:
        statement = statement.where(Enrollment.member_id == member_id)
    if role is not None:
        statement = statement.where(Enrollment.role == role)
    return await paginate(
        session,
        statement,
        id_column=Enrollment.id,
        cursor=cursor,
        limit=limit,
        to_public=EnrollmentPublic.model_validate,
    )


async def get_enrollment(*, session: AsyncSession, actor: Actor, enrollment_id: int) -> Enrollment:
    """One enrolment the actor can see."""
    statement = select(Enrollment).where(Enrollment.id == enrollment_id, _enrollment_filter(actor))
    found = (await session.exec(statement)).first()
    if found is None:
        raise NotFound(f"enrollment {enrollment_id} not found")
    return found


async def enroll(*, session: AsyncSession, actor: Actor, data: EnrollmentCreate) -> Enrollment:
    """Enrol a member in a cohort (admins, or the cohort's owners)."""
    await _require_in_workspace(
        session, actor, cohort_id=data.cohort_id, member_ids=[data.member_id]
    )
    enrollment = Enrollment.model_validate(data, update={"workspace_id": actor.workspace_id})
    session.add(enrollment)
    await _flush_unique(session, "this enrollment")
    return enrollment


async def update_enrollment(
    *, session: AsyncSession, actor: Actor, enrollment_id: int, data: EnrollmentUpdate
) -> Enrollment:
    """Pause, resume or end an enrolment."""
    enrollment = await get_enrollment(session=session, actor=actor, enrollment_id=enrollment_id)
    require_manager(actor, enrollment.cohort_id)
    changes = data.model_dump(exclude_unset=True)
    if "status" in changes and changes["status"] is None:
        raise Invalid("status cannot be null", field="status")
    enrollment.sqlmodel_update(changes)
    if enrollment.status != EnrollmentStatus.paused:
        enrollment.paused_until = None
    session.add(enrollment)
    await session.flush()
    return enrollment


async def delete_enrollment(*, session: AsyncSession, actor: Actor, enrollment_id: int) -> None:
    """Remove an enrolment (admins, or the cohort's owners)."""
    enrollment = await get_enrollment(session=session, actor=actor, enrollment_id=enrollment_id)
    require_manager(actor, enrollment.cohort_id)
    await session.delete(enrollment)
    await session.flush()


# --- coach assignments -----------------------------------------------------------------


async def list_assignments(
    *,
    session: AsyncSession,
    actor: Actor,
    cohort_id: int | None,
    coach_id: int | None,
    leader_id: int | None,
    cursor: str | None,
    limit: int,
) -> Page[CoachAssignmentPublic]:
    """Coach assignments the actor can see."""
    statement = select(CoachAssignment).where(_assignment_filter(actor))
    if cohort_id is not None:
        statement = statement.where(CoachAssignment.cohort_id == cohort_id)
    if coach_id is not None:
        statement = statement.where(CoachAssignment.coach_id == coach_id)
    if leader_id is not None:
        statement = statement.where(CoachAssignment.leader_id == leader_id)
    return await paginate(
        session,
        statement,
        id_column=CoachAssignment.id,
        cursor=cursor,
        limit=limit,
        to_public=CoachAssignmentPublic.model_validate,
    )


async def get_assignment(
    *, session: AsyncSession, actor: Actor, assignment_id: int
) -> CoachAssignment:
    """One coach assignment the actor can see."""
    statement = select(CoachAssignment).where(
        col(CoachAssignment.id) == assignment_id, _assignment_filter(actor)
    )
    found = (await session.exec(statement)).first()
    if found is None:
        raise NotFound(f"coach assignment {assignment_id} not found")
    return found


async def assign_coach(
    *, session: AsyncSession, actor: Actor, data: CoachAssignmentCreate
) -> CoachAssignment:
    """Assign a coach to a leader; both must be enrolled in the cohort in those roles."""
    await _require_in_workspace(
        session, actor, cohort_id=data.cohort_id, member_ids=[data.coach_id, data.leader_id]
    )
    if data.coach_id == data.leader_id:
        raise Invalid("a leader cannot coach themselves", field="coach_id")
    for member_id, role in (
        (data.coach_id, EnrollmentRole.coach),
        (data.leader_id, EnrollmentRole.leader),
    ):
        enrolled = await session.exec(
            select(Enrollment.id).where(
                Enrollment.cohort_id == data.cohort_id,
                col(Enrollment.member_id) == member_id,
                Enrollment.role == role,
            )
        )
        if enrolled.first() is None:
            raise Invalid(
                f"member {member_id} is not enrolled as {role.value} in cohort {data.cohort_id}",
                field=f"{role.value}_id",
            )
    assignment = CoachAssignment.model_validate(data, update={"workspace_id": actor.workspace_id})
    session.add(assignment)
    await _flush_unique(session, "this coach assignment")
    return assignment


async def unassign_coach(*, session: AsyncSession, actor: Actor, assignment_id: int) -> None:
    """End a coach assignment."""
    assignment = await get_assignment(session=session, actor=actor, assignment_id=assignment_id)
    require_manager(actor, assignment.cohort_id)
    await session.delete(assignment)
    await session.flush()


# --- a member pausing themselves -------------------------------------------------------


async def pause_self(
    *, session: AsyncSession, member_id: int, until: date | None, today: date
) -> int:
    """Pause all of a member's active enrolments (until a date, or until they resume)."""
    if until is not None and until <= today:
        raise Invalid("the pause must end after today", field="until")
    enrollments = (
        await session.exec(
            select(Enrollment).where(
                Enrollment.member_id == member_id, Enrollment.status != EnrollmentStatus.left
            )
        )
    ).all()
    if not enrollments:
        raise NotFound("you are not enrolled in any cohort")
    for enrollment in enrollments:
        enrollment.status = EnrollmentStatus.paused
        enrollment.paused_until = until
        session.add(enrollment)
    await session.flush()
    return len(enrollments)


async def resume_self(*, session: AsyncSession, member_id: int) -> int:
    """Resume every paused enrolment of a member."""
    enrollments = (
        await session.exec(
            select(Enrollment).where(
                Enrollment.member_id == member_id, Enrollment.status == EnrollmentStatus.paused
            )
        )
    ).all()
    for enrollment in enrollments:
        enrollment.status = EnrollmentStatus.active
        enrollment.paused_until = None
        session.add(enrollment)
    await session.flush()
    return len(enrollments)
