"""Broadcasts: program owners compose for a cohort; Coachbot fans out through the outbox.

A broadcast due now is fanned out in the caller's transaction, so the API answers with
every intent already in the outbox (or nothing at all). One due later waits for
`broadcast_tick`. Owners and admins manage broadcasts; nobody else may (403), and rows
outside the caller's reach answer 404.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import ColumnElement, func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.auth.models import Role
from services.auth.service import Actor
from services.broadcasts import fanout
from services.broadcasts.models import (
    Audience,
    Broadcast,
    BroadcastAnswer,
    BroadcastCreate,
    BroadcastPublic,
    BroadcastStatus,
    DeliveryCounts,
)
from services.delivery.models import DeliveryState
from services.errors import Conflict, Invalid, NotFound, NotPermitted
from services.pagination import Page, paginate
from services.people.access import cohort_filter
from services.people.models import Cohort

# A time picked in a modal a few seconds ago is "now", not "in the past".
PAST_GRACE: Final = timedelta(minutes=2)
MAX_AHEAD: Final = timedelta(days=366)
AUDIENCE_NAMES: Final = {
    Audience.leaders: "leaders",
    Audience.coaches: "coaches",
    Audience.everyone: "members",
}


def _require_manager_role(actor: Actor) -> None:
    if actor.role not in (Role.admin, Role.owner):
        raise NotPermitted("broadcasts are for program owners and admins")


async def managed_cohort(*, session: AsyncSession, actor: Actor, cohort_id: int) -> Cohort:
    """A cohort the actor may broadcast to: 404 outside their reach, 403 if not theirs to run."""
    cohort = (await session.exec(
        select(Cohort).where(col(Cohort.id) == cohort_id, cohort_filter(actor))
    )).first()
    if cohort is None:
        raise NotFound(f"cohort {cohort_id} not found", field="cohort_id")
    _require_manager_role(actor)
    if actor.role is Role.owner and cohort_id not in actor.cohort_ids:
        raise NotPermitted("you own other cohorts, not this one")
    return cohort


def _check_send_at(send_at: datetime | None, now: datetime) -> datetime:
    if send_at is None:
        return now
    if send_at < now - PAST_GRACE:
        raise Invalid("the send time is in the past", field="send_at")
    if send_at > now + MAX_AHEAD:
        raise Invalid("the send time is more than a year away", field="send_at")
    return max(send_at, now)


async def create_broadcast(
    *, session: AsyncSession, actor: Actor, data: BroadcastCreate, now: datetime,
    fan_out: bool = True,
) -> Broadcast:
    """Schedule a broadcast, or fan it out at once when it is due now (unless `fan_out` is
    False: then the caller fans it out, or the tick does within a minute)."""
    cohort = await managed_cohort(session=session, actor=actor, cohort_id=data.cohort_id)
    send_at = _check_send_at(data.send_at, now)
    reach = await fanout.count_recipients(session=session, cohort_id=cohort.id or 0,
                                          audience=data.audience, author_id=actor.member_id)
    if reach == 0:
        raise Invalid(f"{cohort.name} has no active {AUDIENCE_NAMES[data.audience]} to reach",
                      field="audience")
    broadcast = Broadcast(workspace_id=actor.workspace_id, cohort_id=cohort.id or 0,
                          author_id=actor.member_id, audience=data.audience, text=data.text,
                          question=data.question, send_at=send_at, created_at=now)
    session.add(broadcast)
    await session.flush()
    if fan_out and send_at <= now:
        await fanout.fan_out_all(session=session, broadcast=broadcast, now=now)
    return broadcast


async def fan_out_if_due(*, session: AsyncSession, broadcast_id: int, now: datetime) -> Broadcast:
    """Fan out a broadcast created with `fan_out=False` once it is due; returns it."""
    broadcast = await session.get(Broadcast, broadcast_id)
    if broadcast is None:
        raise NotFound(f"broadcast {broadcast_id} not found")
    if broadcast.send_at <= now and broadcast.fanned_out_at is None:
        await fanout.fan_out_all(session=session, broadcast=broadcast, now=now)
    return broadcast


def _broadcast_filter(actor: Actor) -> ColumnElement[bool]:
    in_workspace = col(Broadcast.workspace_id) == actor.workspace_id
    if actor.role is Role.admin:
        return in_workspace
    return in_workspace & col(Broadcast.cohort_id).in_(actor.cohort_ids)


async def _managed_broadcast(session: AsyncSession, actor: Actor, broadcast_id: int) -> Broadcast:
    broadcast = await session.get(Broadcast, broadcast_id)
    if broadcast is None or broadcast.workspace_id != actor.workspace_id:
        raise NotFound(f"broadcast {broadcast_id} not found")
    await managed_cohort(session=session, actor=actor, cohort_id=broadcast.cohort_id)
    return broadcast


async def public(*, session: AsyncSession, broadcast: Broadcast) -> BroadcastPublic:
    """The broadcast with its live counts: queued, sent, failed, cancelled and answered."""
    broadcast_id = broadcast.id or 0
    counts = await fanout.delivery_counts(session=session, broadcast_id=broadcast_id)
    answered = (await session.exec(
        select(func.count()).where(col(BroadcastAnswer.broadcast_id) == broadcast_id)
    )).one()
    queued = sum(counts[state] for state in fanout.QUEUED_STATES)
    status = BroadcastStatus(broadcast.status)
    if status is BroadcastStatus.sending and broadcast.fanned_out_at and not queued:
        status = BroadcastStatus.sent  # the tick records it within a minute; say so now
    return BroadcastPublic(
        id=broadcast_id, cohort_id=broadcast.cohort_id, author_id=broadcast.author_id,
        audience=broadcast.audience, text=broadcast.text, question=broadcast.question,
        send_at=broadcast.send_at, status=status, recipients=broadcast.recipients,
        deliveries=DeliveryCounts(queued=queued, sent=counts[DeliveryState.sent],
                                  failed=counts[DeliveryState.dead],
                                  cancelled=counts[DeliveryState.cancelled]),
        answered=int(answered), created_at=broadcast.created_at,
        fanned_out_at=broadcast.fanned_out_at, cancelled_at=broadcast.cancelled_at,
    )


async def get_broadcast(*, session: AsyncSession, actor: Actor, broadcast_id: int) -> Broadcast:
    """One broadcast the actor manages."""
    return await _managed_broadcast(session, actor, broadcast_id)


async def list_broadcasts(
    *,
    session: AsyncSession,
    actor: Actor,
    cohort_id: int | None,
    status: BroadcastStatus | None,
    cursor: str | None,
    limit: int,
) -> Page[BroadcastPublic]:
    """Broadcasts in the cohorts the actor manages, oldest first, with live counts."""
    _require_manager_role(actor)
    statement = select(Broadcast).where(_broadcast_filter(actor))
    if cohort_id is not None:
        statement = statement.where(col(Broadcast.cohort_id) == cohort_id)
    if status is not None:
        statement = statement.where(col(Broadcast.status) == status)
    page = await paginate(session, statement, id_column=col(Broadcast.id), cursor=cursor,
                          limit=limit, to_public=lambda row: row)
    return Page[BroadcastPublic](
        items=[await public(session=session, broadcast=row) for row in page.items],
        next_cursor=page.next_cursor,
    )


async def latest_broadcasts(
    *, session: AsyncSession, cohort_ids: list[int], limit: int
) -> list[BroadcastPublic]:
    """The newest broadcasts to these cohorts, newest first (for an owner's Home tab)."""
    if not cohort_ids:
        return []
    rows = (await session.exec(
        select(Broadcast).where(col(Broadcast.cohort_id).in_(cohort_ids))
        .order_by(col(Broadcast.id).desc()).limit(limit)
    )).all()
    return [await public(session=session, broadcast=row) for row in rows]


async def cancel_broadcast(
    *, session: AsyncSession, actor: Actor, broadcast_id: int, now: datetime
) -> Broadcast:
    """Cancel a broadcast: all of it while scheduled, the unsent rest while sending."""
    broadcast = await _managed_broadcast(session, actor, broadcast_id)
    if broadcast.status == BroadcastStatus.cancelled:
        return broadcast
    if broadcast.status == BroadcastStatus.sending and broadcast.fanned_out_at is not None:
        counts = await fanout.delivery_counts(session=session, broadcast_id=broadcast_id)
        if not any(counts[state] for state in fanout.QUEUED_STATES):
            raise Conflict("this broadcast has already been sent")
    # One guarded UPDATE: it waits for (or wins against) a fan-out step touching the row.
    changed = (await session.exec(
        update(Broadcast)
        .where(col(Broadcast.id) == broadcast_id,
               col(Broadcast.status).in_((BroadcastStatus.scheduled, BroadcastStatus.sending)))
        .values(status=BroadcastStatus.cancelled, cancelled_at=now)
        .execution_options(synchronize_session=False)
    )).rowcount
    if not changed:
        await session.refresh(broadcast)
        if broadcast.status == BroadcastStatus.cancelled:
            return broadcast
        raise Conflict("this broadcast has already been sent")
    await fanout.cancel_queued(session=session, broadcast_id=broadcast_id)
    await session.refresh(broadcast)
    return broadcast
