"""Workspaces, cohorts and members."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.auth.models import Role
from services.auth.service import Actor
from services.db import utcnow
from services.errors import Conflict, Invalid, NotFound, NotPermitted
from services.pagination import Page, paginate
from services.people.access import cohort_filter, member_filter, require_manager
from services.people.models import (
    Cohort,
    CohortCreate,
    CohortPublic,
    CohortUpdate,
    Enrollment,
    Member,
    MemberCreate,
    MemberPublic,
    MemberUpdate,
    Workspace,
    check_timezone,
)
from services.ports import SlackProfile


async def ensure_workspace(*, session: AsyncSession, slack_team_id: str, name: str) -> Workspace:
    """The workspace for a Slack team, created on first sight."""
    found = (
        await session.exec(select(Workspace).where(Workspace.slack_team_id == slack_team_id))
    ).first()
    if found is not None:
        return found
    workspace = Workspace(slack_team_id=slack_team_id, name=name)
    session.add(workspace)
    await session.flush()
    return workspace


def member_public(member: Member) -> MemberPublic:
    return MemberPublic.model_validate(member, update={"erased": member.erased_at is not None})


# --- cohorts ---------------------------------------------------------------------------


async def list_cohorts(
    *, session: AsyncSession, actor: Actor, cursor: str | None, limit: int
) -> Page[CohortPublic]:
    """Cohorts the actor can see."""
    statement = select(Cohort).where(cohort_filter(actor))
    return await paginate(
        session,
        statement,
        id_column=Cohort.id,
        cursor=cursor,
        limit=limit,
        to_public=CohortPublic.model_validate,
    )


async def get_cohort(*, session: AsyncSession, actor: Actor, cohort_id: int) -> Cohort:
    """One cohort the actor can see."""
    statement = select(Cohort).where(Cohort.id == cohort_id, cohort_filter(actor))
    cohort = (await session.exec(statement)).first()
    if cohort is None:
        raise NotFound(f"cohort {cohort_id} not found")
    return cohort


async def create_cohort(*, session: AsyncSession, actor: Actor, data: CohortCreate) -> Cohort:
    """Create a cohort (admins only)."""
    if actor.role is not Role.admin:
        raise NotPermitted("only admins create cohorts")
    cohort = Cohort.model_validate(data, update={"workspace_id": actor.workspace_id})
    session.add(cohort)
    await session.flush()
    return cohort


async def update_cohort(
    *, session: AsyncSession, actor: Actor, cohort_id: int, data: CohortUpdate
) -> Cohort:
    """Change a cohort's settings (admins, or the cohort's owners)."""
    cohort = await get_cohort(session=session, actor=actor, cohort_id=cohort_id)
    require_manager(actor, cohort.id)
    changes = data.model_dump(exclude_unset=True)
    _refuse_nulls(changes, nullable={"program", "start_date", "end_date"})
    cohort.sqlmodel_update(changes)
    if cohort.start_date and cohort.end_date and cohort.end_date < cohort.start_date:
        raise Invalid("end_date is before start_date", field="end_date")
    session.add(cohort)
    await session.flush()
    return cohort


async def delete_cohort(*, session: AsyncSession, actor: Actor, cohort_id: int) -> None:
    """Delete a cohort with its enrolments (admins only)."""
    cohort = await get_cohort(session=session, actor=actor, cohort_id=cohort_id)
    if actor.role is not Role.admin:
        raise NotPermitted("only admins delete cohorts")
    await session.delete(cohort)
    await session.flush()


# --- members ---------------------------------------------------------------------------


async def list_members(
    *, session: AsyncSession, actor: Actor, cohort_id: int | None, cursor: str | None, limit: int
) -> Page[MemberPublic]:
    """Members the actor can see, optionally those enrolled in one cohort."""
    statement = select(Member).where(member_filter(actor))
    if cohort_id is not None:
        statement = statement.where(
            col(Member.id).in_(
                select(Enrollment.member_id).where(Enrollment.cohort_id == cohort_id)
            )
        )
    return await paginate(
        session,
        statement,
        id_column=Member.id,
        cursor=cursor,
        limit=limit,
        to_public=member_public,
    )


async def get_member(*, session: AsyncSession, actor: Actor, member_id: int) -> Member:
    """One member the actor can see."""
    statement = select(Member).where(Member.id == member_id, member_filter(actor))
    member = (await session.exec(statement)).first()
    if member is None:
        raise NotFound(f"member {member_id} not found")
    return member


async def create_member(*, session: AsyncSession, actor: Actor, data: MemberCreate) -> Member:
    """Add a person to the workspace (admins and owners)."""
    require_manager(actor)
    member = Member.model_validate(data, update={"workspace_id": actor.workspace_id})
    session.add(member)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        raise Conflict(f"a member with slack_user_id {data.slack_user_id} exists") from exc
    return member


async def update_member(
    *, session: AsyncSession, actor: Actor, member_id: int, data: MemberUpdate
) -> Member:
    """Change a member's profile (admins, owners of their cohorts, or the member)."""
    member = await get_member(session=session, actor=actor, member_id=member_id)
    if not actor.is_self(member_id) and actor.role not in (Role.admin, Role.owner):
        raise NotPermitted("you can only change your own profile")
    changes = data.model_dump(exclude_unset=True)
    _refuse_nulls(changes, nullable={"email", "title", "team", "level", "region"})
    member.sqlmodel_update(changes)
    member.updated_at = utcnow()
    session.add(member)
    await session.flush()
    return member


async def delete_member(*, session: AsyncSession, actor: Actor, member_id: int) -> None:
    """Remove a member and everything they own (admins only)."""
    member = await get_member(session=session, actor=actor, member_id=member_id)
    if actor.role is not Role.admin:
        raise NotPermitted("only admins delete members")
    await session.delete(member)
    await session.flush()


def _refuse_nulls(changes: dict[str, object], *, nullable: set[str]) -> None:
    for name, value in changes.items():
        if value is None and name not in nullable:
            raise Invalid(f"{name} cannot be null", field=name)


# --- members from Slack ----------------------------------------------------------------

PROFILE_MAX_AGE = timedelta(hours=24)


async def find_member(
    *, session: AsyncSession, workspace_id: int, slack_user_id: str
) -> Member | None:
    """The member for a Slack user in a workspace, if known."""
    statement = select(Member).where(
        Member.workspace_id == workspace_id, Member.slack_user_id == slack_user_id
    )
    return (await session.exec(statement)).first()


def profile_is_stale(member: Member, *, now: datetime) -> bool:
    """True when the member's copy of their Slack profile should be refreshed."""
    return now - member.updated_at > PROFILE_MAX_AGE


async def sync_member(*, session: AsyncSession, workspace_id: int, profile: SlackProfile) -> Member:
    """Create or refresh a member from their Slack profile (name, title, timezone)."""
    member = await find_member(
        session=session, workspace_id=workspace_id, slack_user_id=profile.slack_user_id
    )
    timezone = _known_timezone(profile.timezone)
    if member is None:
        member = Member(
            workspace_id=workspace_id,
            slack_user_id=profile.slack_user_id,
            name=profile.name[:200] or profile.slack_user_id,
            title=(profile.title or None) and profile.title[:200],
            timezone=timezone or "UTC",
            email=profile.email,
        )
    elif member.erased_at is None:
        member.name = profile.name[:200] or member.name
        member.title = (profile.title or None) and profile.title[:200]
        member.timezone = timezone or member.timezone
        member.email = profile.email or member.email
        member.updated_at = utcnow()
    session.add(member)
    await session.flush()
    return member


def _known_timezone(name: str | None) -> str | None:
    # Slack sometimes reports zones our tz database lacks; keep the last good one then.
    if not name:
        return None
    try:
        return check_timezone(name)
    except ValueError:
        return None
