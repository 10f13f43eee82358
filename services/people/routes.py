"""REST routes for cohorts, members, enrolments and coach assignments."""

from __future__ import annotations

from fastapi import APIRouter, Response

from services.api.deps import (
    DEFAULT_PAGE,
    ActorDep,
    Cursor,
    Limit,
    PathId,
    QueryId,
    SessionDep,
)
from services.pagination import Page
from services.people import enrollments, service
from services.people.models import (
    CoachAssignmentCreate,
    CoachAssignmentPublic,
    CohortCreate,
    CohortPublic,
    CohortUpdate,
    EnrollmentCreate,
    EnrollmentPublic,
    EnrollmentRole,
    EnrollmentUpdate,
    MemberCreate,
    MemberPublic,
    MemberUpdate,
)

router = APIRouter()


@router.get("/cohorts", tags=["cohorts"])
async def list_cohorts(
    session: SessionDep, actor: ActorDep, cursor: Cursor = None, limit: Limit = DEFAULT_PAGE
) -> Page[CohortPublic]:
    return await service.list_cohorts(session=session, actor=actor, cursor=cursor, limit=limit)


@router.post("/cohorts", status_code=201, tags=["cohorts"])
async def create_cohort(session: SessionDep, actor: ActorDep, data: CohortCreate) -> CohortPublic:
    cohort = await service.create_cohort(session=session, actor=actor, data=data)
    return CohortPublic.model_validate(cohort)


@router.get("/cohorts/{cohort_id}", tags=["cohorts"])
async def get_cohort(session: SessionDep, actor: ActorDep, cohort_id: PathId) -> CohortPublic:
    cohort = await service.get_cohort(session=session, actor=actor, cohort_id=cohort_id)
    return CohortPublic.model_validate(cohort)


@router.patch("/cohorts/{cohort_id}", tags=["cohorts"])
async def update_cohort(
    session: SessionDep, actor: ActorDep, cohort_id: PathId, data: CohortUpdate
) -> CohortPublic:
    cohort = await service.update_cohort(
        session=session, actor=actor, cohort_id=cohort_id, data=data
    )
    return CohortPublic.model_validate(cohort)


@router.delete("/cohorts/{cohort_id}", status_code=204, tags=["cohorts"])
async def delete_cohort(session: SessionDep, actor: ActorDep, cohort_id: PathId) -> Response:
    await service.delete_cohort(session=session, actor=actor, cohort_id=cohort_id)
    return Response(status_code=204)


@router.get("/members", tags=["members"])
async def list_members(
    session: SessionDep,
    actor: ActorDep,
    cohort_id: QueryId = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_PAGE,
) -> Page[MemberPublic]:
    return await service.list_members(
        session=session, actor=actor, cohort_id=cohort_id, cursor=cursor, limit=limit
    )


@router.post("/members", status_code=201, tags=["members"])
async def create_member(session: SessionDep, actor: ActorDep, data: MemberCreate) -> MemberPublic:
    member = await service.create_member(session=session, actor=actor, data=data)
    return service.member_public(member)


@router.get("/members/{member_id}", tags=["members"])
async def get_member(session: SessionDep, actor: ActorDep, member_id: PathId) -> MemberPublic:
    member = await service.get_member(session=session, actor=actor, member_id=member_id)
    return service.member_public(member)


@router.patch("/members/{member_id}", tags=["members"])
async def update_member(
    session: SessionDep, actor: ActorDep, member_id: PathId, data: MemberUpdate
) -> MemberPublic:
    member = await service.update_member(
        session=session, actor=actor, member_id=member_id, data=data
    )
    return service.member_public(member)


@router.delete("/members/{member_id}", status_code=204, tags=["members"])
async def delete_member(session: SessionDep, actor: ActorDep, member_id: PathId) -> Response:
    await service.delete_member(session=session, actor=actor, member_id=member_id)
    return Response(status_code=204)


@router.get("/enrollments", tags=["enrollments"])
async def list_enrollments(
    session: SessionDep,
    actor: ActorDep,
    cohort_id: QueryId = None,
    member_id: QueryId = None,
    role: EnrollmentRole | None = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_PAGE,
) -> Page[EnrollmentPublic]:
    return await enrollments.list_enrollments(
        session=session,
        actor=actor,
        cohort_id=cohort_id,
        member_id=member_id,
        role=role,
        cursor=cursor,
        limit=limit,
    )


@router.post("/enrollments", status_code=201, tags=["enrollments"])
async def enroll(session: SessionDep, actor: ActorDep, data: EnrollmentCreate) -> EnrollmentPublic:
    enrollment = await enrollments.enroll(session=session, actor=actor, data=data)
    return EnrollmentPublic.model_validate(enrollment)


@router.get("/enrollments/{enrollment_id}", tags=["enrollments"])
async def get_enrollment(
    session: SessionDep, actor: ActorDep, enrollment_id: PathId
) -> EnrollmentPublic:
    enrollment = await enrollments.get_enrollment(
        session=session, actor=actor, enrollment_id=enrollment_id
    )
    return EnrollmentPublic.model_validate(enrollment)


@router.patch("/enrollments/{enrollment_id}", tags=["enrollments"])
async def update_enrollment(
    session: SessionDep, actor: ActorDep, enrollment_id: PathId, data: EnrollmentUpdate
) -> EnrollmentPublic:
    enrollment = await enrollments.update_enrollment(
        session=session, actor=actor, enrollment_id=enrollment_id, data=data
    )
    return EnrollmentPublic.model_validate(enrollment)


@router.delete("/enrollments/{enrollment_id}", status_code=204, tags=["enrollments"])
async def delete_enrollment(
    session: SessionDep, actor: ActorDep, enrollment_id: PathId
) -> Response:
    await enrollments.delete_enrollment(session=session, actor=actor, enrollment_id=enrollment_id)
    return Response(status_code=204)


@router.get("/coach-assignments", tags=["coach assignments"])
async def list_assignments(
    session: SessionDep,
    actor: ActorDep,
    cohort_id: QueryId = None,
    coach_id: QueryId = None,
    leader_id: QueryId = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_PAGE,
) -> Page[CoachAssignmentPublic]:
    return await enrollments.list_assignments(
        session=session,
        actor=actor,
        cohort_id=cohort_id,
        coach_id=coach_id,
        leader_id=leader_id,
        cursor=cursor,
        limit=limit,
    )


@router.post("/coach-assignments", status_code=201, tags=["coach assignments"])
async def assign_coach(
    session: SessionDep, actor: ActorDep, data: CoachAssignmentCreate
) -> CoachAssignmentPublic:
    assignment = await enrollments.assign_coach(session=session, actor=actor, data=data)
    return CoachAssignmentPublic.model_validate(assignment)


@router.get("/coach-assignments/{assignment_id}", tags=["coach assignments"])
async def get_assignment(
    session: SessionDep, actor: ActorDep, assignment_id: PathId
) -> CoachAssignmentPublic:
    assignment = await enrollments.get_assignment(
        session=session, actor=actor, assignment_id=assignment_id
    )
    return CoachAssignmentPublic.model_validate(assignment)


@router.delete("/coach-assignments/{assignment_id}", status_code=204, tags=["coach assignments"])
async def unassign_coach(session: SessionDep, actor: ActorDep, assignment_id: PathId) -> Response:
    await enrollments.unassign_coach(session=session, actor=actor, assignment_id=assignment_id)
    return Response(status_code=204)
