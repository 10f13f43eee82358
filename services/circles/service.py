"""Circle series (admins and owners), and each leader's own participation and block list.

A leader's block list is theirs alone: no other role, route or message ever shows it, and
nothing about it is told to the person blocked. Leaders enrolled in a series' cohort take
part by default; they can opt out, pause (until a date, or until they opt in again) and
opt back in.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from services.auth.models import Role
from services.auth.service import Actor
from services.circles.models import (
    CircleBlock,
    CircleBlockCreate,
    CircleBlockPublic,
    CircleParticipant,
    CircleRound,
    CircleSeries,
    CircleSeriesCreate,
    CircleSeriesPublic,
    CircleSeriesUpdate,
    ParticipantStatus,
    ParticipationPublic,
    ParticipationUpdate,
)
from services.circles.schedule import continued_start, next_round_at
from services.db import utcnow
from services.errors import Invalid, NotFound, NotPermitted
from services.pagination import Page, paginate
from services.people.access import cohort_filter, require_manager
from services.people.models import (
    Cohort,
    Enrollment,
    EnrollmentRole,
    EnrollmentStatus,
    Member,
)

NULLABLE_SERIES_FIELDS = frozenset({"history_window_rounds"})


def require_leader(actor: Actor) -> int:
    """The acting leader's member id; circles, their answers and block lists are leaders' own."""
    if actor.role is not Role.leader or actor.member_id is None:
        raise NotPermitted("peer circles are for leaders: use your own leader key")
    return actor.member_id


# --- series ------------------------------------------------------------------------------


def series_public(series: CircleSeries, cohort: Cohort, *, now: datetime) -> CircleSeriesPublic:
    """The series as the API shows it, with when its next round starts."""
    upcoming = next_round_at(
        series=series, zone=ZoneInfo(cohort.timezone), now=now, end_date=cohort.end_date
    )
    return CircleSeriesPublic.model_validate(series, update={"next_round_at": upcoming})


async def get_series(
    *, session: AsyncSession, actor: Actor, series_id: int
) -> tuple[CircleSeries, Cohort]:
    """A series in a cohort the actor can see, with that cohort."""
    statement = (
        select(CircleSeries, Cohort)
        .join(Cohort, col(Cohort.id) == CircleSeries.cohort_id)
        .where(CircleSeries.id == series_id, cohort_filter(actor))
    )
    found = (await session.exec(statement)).first()
    if found is None:
        raise NotFound(f"circle series {series_id} not found")
    return found


async def list_series(
    *,
    session: AsyncSession,
    actor: Actor,
    cohort_id: int | None,
    cursor: str | None,
    limit: int,
    now: datetime,
) -> Page[CircleSeriesPublic]:
    """Series in the cohorts the actor can see, optionally of one cohort."""
    visible = select(Cohort.id).where(cohort_filter(actor))
    statement = select(CircleSeries).where(col(CircleSeries.cohort_id).in_(visible))
    if cohort_id is not None:
        statement = statement.where(CircleSeries.cohort_id == cohort_id)
    page = await paginate(
        session, statement, id_column=CircleSeries.id, cursor=cursor, limit=limit,
        to_public=lambda series: series,
    )
    cohorts = await _cohorts(session, {series.cohort_id for series in page.items})
    return Page[CircleSeriesPublic](
        items=[series_public(s, cohorts[s.cohort_id], now=now) for s in page.items],
        next_cursor=page.next_cursor,
    )


async def _cohorts(session: AsyncSession, ids: set[int]) -> dict[int, Cohort]:
    if not ids:
        return {}
    found = await session.exec(select(Cohort).where(col(Cohort.id).in_(ids)))
    return {cohort.id or 0: cohort for cohort in found.all()}


async def create_series(
    *, session: AsyncSession, actor: Actor, data: CircleSeriesCreate
) -> tuple[CircleSeries, Cohort]:
    """Start a series of circle rounds in a cohort (its owners, or admins)."""
    cohort = (
        await session.exec(
            select(Cohort).where(Cohort.id == data.cohort_id, cohort_filter(actor))
        )
    ).first()
    if cohort is None:
        raise NotFound(f"cohort {data.cohort_id} not found", field="cohort_id")
    require_manager(actor, cohort.id)
    series = CircleSeries.model_validate(data, update={"workspace_id": cohort.workspace_id})
    session.add(series)
    await session.flush()
    return series, cohort


async def update_series(
    *,
    session: AsyncSession,
    actor: Actor,
    series_id: int,
    data: CircleSeriesUpdate,
    now: datetime | None = None,
) -> tuple[CircleSeries, Cohort]:
    """Change a series' rules or timing; rounds already formed stay as they were."""
    series, cohort = await get_series(session=session, actor=actor, series_id=series_id)
    require_manager(actor, cohort.id)
    changes = data.model_dump(exclude_unset=True)
    for name, value in changes.items():
        if value is None and name not in NULLABLE_SERIES_FIELDS:
            raise Invalid(f"{name} cannot be null", field=name)
    timing = (series.start_date, series.weekday, series.cadence_weeks)
    series.sqlmodel_update(changes)
    if (series.start_date, series.weekday, series.cadence_weeks) != timing:
        moved_start = series.start_date != timing[0]
        await _go_on_after_last_round(session, series, cohort, moved_start=moved_start,
                                      now=now or utcnow())
    if series.followup_after_days > 7 * series.cadence_weeks:
        raise Invalid("followup_after_days must fall before the next round",
                      field="followup_after_days")
    session.add(series)
    await session.flush()
    return series, cohort


async def _go_on_after_last_round(
    session: AsyncSession, series: CircleSeries, cohort: Cohort, *, moved_start: bool,
    now: datetime,
) -> None:
    """Rounds are numbered by date from the start, so new timing on a series that has met
    could put its next round on a number already formed, and skip rounds for weeks. Its start
    moves instead: the next round falls on the first weekday of the new timing after both
    today and the last round. A series that has met keeps the start it has (stop it for a
    break: rounds missed while stopped are not formed late)."""
    last = (
        await session.exec(
            select(CircleRound)
            .where(CircleRound.series_id == series.id)
            .order_by(col(CircleRound.number).desc())
        )
    ).first()
    if last is None:
        return
    if moved_start:
        raise Invalid(
            "this series has met already, so its start date stays; a new weekday or cadence "
            "takes effect after its last round",
            field="start_date",
        )
    zone = ZoneInfo(cohort.timezone)
    after = max(last.scheduled_for.astimezone(zone).date(), now.astimezone(zone).date())
    series.start_date = continued_start(
        weekday=series.weekday,
        cadence_weeks=series.cadence_weeks,
        earliest=after + timedelta(days=1),
        formed=last.number,
    )


async def delete_series(*, session: AsyncSession, actor: Actor, series_id: int) -> None:
    """Delete a series with its rounds, circles and answers."""
    series, cohort = await get_series(session=session, actor=actor, series_id=series_id)
    require_manager(actor, cohort.id)
    await session.delete(series)
    await session.flush()


# --- participation -----------------------------------------------------------------------


def _leader_cohorts(member_id: int) -> SelectOfScalar[int]:
    return select(Enrollment.cohort_id).where(
        Enrollment.member_id == member_id,
        Enrollment.role == EnrollmentRole.leader,
        Enrollment.status != EnrollmentStatus.left,
    )


async def my_participation(*, session: AsyncSession, actor: Actor) -> list[ParticipationPublic]:
    """Every active series the leader's cohorts run, with their status in each."""
    member_id = require_leader(actor)
    statement = (
        select(CircleSeries, CircleParticipant)
        .outerjoin(
            CircleParticipant,
            (col(CircleParticipant.series_id) == CircleSeries.id)
            & (col(CircleParticipant.member_id) == member_id),
        )
        .where(
            col(CircleSeries.cohort_id).in_(_leader_cohorts(member_id)),
            col(CircleSeries.active).is_(True),
        )
        .order_by(col(CircleSeries.id))
    )
    rows = (await session.exec(statement)).all()
    return [_participation(series, participant) for series, participant in rows]


def _participation(
    series: CircleSeries, participant: CircleParticipant | None
) -> ParticipationPublic:
    return ParticipationPublic(
        series_id=series.id or 0,
        series_name=series.name,
        cohort_id=series.cohort_id,
        status=participant.status if participant else ParticipantStatus.active,
        paused_until=participant.paused_until if participant else None,
        consecutive_misses=participant.consecutive_misses if participant else 0,
    )


async def set_participation(
    *,
    session: AsyncSession,
    actor: Actor,
    series_id: int,
    data: ParticipationUpdate,
    today: date,
) -> ParticipationPublic:
    """Opt in, opt out or pause in one series of the leader's own cohorts."""
    member_id = require_leader(actor)
    series, _ = await get_series(session=session, actor=actor, series_id=series_id)
    enrolled = (
        await session.exec(
            _leader_cohorts(member_id).where(Enrollment.cohort_id == series.cohort_id)
        )
    ).first()
    if enrolled is None:
        raise NotFound(f"circle series {series_id} not found")
    if data.status is ParticipantStatus.paused:
        if data.paused_until is not None and data.paused_until <= today:
            raise Invalid("pause until a date after today", field="paused_until")
    elif data.paused_until is not None:
        raise Invalid("paused_until goes with status 'paused'", field="paused_until")
    participant = await participant_for(session=session, series=series, member_id=member_id)
    participant.status = data.status
    participant.paused_until = data.paused_until
    if data.status is ParticipantStatus.active:
        # Coming back starts a fresh count of missed rounds.
        participant.consecutive_misses = 0
    session.add(participant)
    await session.flush()
    return _participation(series, participant)


async def participant_for(
    *, session: AsyncSession, series: CircleSeries, member_id: int
) -> CircleParticipant:
    """The member's participation row in a series, added (active) on first use."""
    found = (
        await session.exec(
            select(CircleParticipant).where(
                CircleParticipant.series_id == series.id, CircleParticipant.member_id == member_id
            )
        )
    ).first()
    if found is not None:
        return found
    participant = CircleParticipant(series_id=series.id or 0, member_id=member_id)
    session.add(participant)
    await session.flush()
    return participant


# --- the private block list ----------------------------------------------------------------


async def list_blocks(*, session: AsyncSession, actor: Actor) -> list[CircleBlockPublic]:
    """The leader's own "don't match me with" list; nobody else can ever read it."""
    member_id = require_leader(actor)
    statement = (
        select(CircleBlock, Member)
        .join(Member, col(Member.id) == CircleBlock.blocked_id)
        .where(CircleBlock.blocker_id == member_id)
        .order_by(col(CircleBlock.id))
    )
    return [_block_public(block, member) for block, member in (await session.exec(statement))]


def _block_public(block: CircleBlock, member: Member) -> CircleBlockPublic:
    return CircleBlockPublic(
        id=block.id or 0, member_id=member.id or 0, name=member.name, created_at=block.created_at
    )


async def add_block(
    *, session: AsyncSession, actor: Actor, data: CircleBlockCreate
) -> CircleBlockPublic:
    """Never be placed in a circle with this person; adding the same person again is a no-op."""
    member_id = require_leader(actor)
    statement = select(Member).where(
        Member.workspace_id == actor.workspace_id, col(Member.erased_at).is_(None)
    )
    if data.member_id is not None:
        statement = statement.where(Member.id == data.member_id)
    else:
        statement = statement.where(Member.slack_user_id == data.slack_user_id)
    other = (await session.exec(statement)).first()
    field = "member_id" if data.member_id is not None else "slack_user_id"
    if other is None:
        raise NotFound("no such person in this workspace", field=field)
    if other.id == member_id:
        raise Invalid("you are never matched with yourself", field=field)
    existing = (
        await session.exec(
            select(CircleBlock).where(
                CircleBlock.blocker_id == member_id, CircleBlock.blocked_id == other.id
            )
        )
    ).first()
    if existing is not None:
        return _block_public(existing, other)
    block = CircleBlock(
        workspace_id=actor.workspace_id, blocker_id=member_id, blocked_id=other.id or 0
    )
    session.add(block)
    await session.flush()
    return _block_public(block, other)


async def remove_block(*, session: AsyncSession, actor: Actor, block_id: int) -> None:
    """Take someone off the leader's own block list."""
    member_id = require_leader(actor)
    block = await session.get(CircleBlock, block_id)
    if block is None or block.blocker_id != member_id:
        raise NotFound(f"block {block_id} not found")
    await session.delete(block)
    await session.flush()


async def replace_blocks(
    *, session: AsyncSession, actor: Actor, slack_user_ids: list[str]
) -> list[CircleBlockPublic]:
    """Make the leader's block list exactly these Slack users (those Coachbot knows)."""
    member_id = require_leader(actor)
    wanted = set(slack_user_ids)
    found = await session.exec(
        select(Member).where(
            Member.workspace_id == actor.workspace_id,
            col(Member.slack_user_id).in_(wanted),
            col(Member.erased_at).is_(None),
            Member.id != member_id,
        )
    )
    targets = {member.id or 0 for member in found.all()}
    current = (
        await session.exec(select(CircleBlock).where(CircleBlock.blocker_id == member_id))
    ).all()
    for block in current:
        if block.blocked_id not in targets:
            await session.delete(block)
    known = {block.blocked_id for block in current}
    session.add_all(
        CircleBlock(workspace_id=actor.workspace_id, blocker_id=member_id, blocked_id=target)
        for target in sorted(targets - known)
    )
    await session.flush()
    return await list_blocks(session=session, actor=actor)


async def blocked_slack_ids(*, session: AsyncSession, actor: Actor) -> list[str]:
    """The Slack user ids on the leader's own block list."""
    member_id = require_leader(actor)
    rows = await session.exec(
        select(Member.slack_user_id)
        .join(CircleBlock, col(CircleBlock.blocked_id) == Member.id)
        .where(CircleBlock.blocker_id == member_id)
        .order_by(col(CircleBlock.id))
    )
    return list(rows.all())
