"""Fan-out: one outbox intent per recipient, resumable, never doubled.

Each recipient's intent carries the delivery key `broadcast:{id}:{member_id}`, and the
outbox inserts with ON CONFLICT DO NOTHING, so a fan-out cut off half-way (a crash, a
restart, two workers at once) is simply run again: it inserts only the missing rows.
Every step first touches the broadcast row with a guarded UPDATE, which serialises it
with a cancel: a step never adds intents to a broadcast already cancelled, and a cancel
that comes second sees (and cancels) every intent the step added.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.broadcasts.models import Audience, Broadcast, BroadcastStatus
from services.delivery import service as outbox
from services.delivery.models import Delivery, DeliveryState
from services.delivery.service import NewDelivery
from services.people.models import Enrollment, EnrollmentRole, EnrollmentStatus, Member

BROADCAST_KIND: Final = "broadcast_message"
FANOUT_CHUNK: Final = 1000
QUEUED_STATES: Final = (DeliveryState.pending, DeliveryState.sending, DeliveryState.failed)

AUDIENCE_ROLES: Final = {
    Audience.leaders: (EnrollmentRole.leader,),
    Audience.coaches: (EnrollmentRole.coach,),
    Audience.everyone: (EnrollmentRole.leader, EnrollmentRole.coach, EnrollmentRole.owner),
}


def delivery_key(broadcast_id: int, member_id: int) -> str:
    """The outbox key of one recipient's copy: unique, so it is sent at most once."""
    return f"broadcast:{broadcast_id}:{member_id}"


def key_prefix(broadcast_id: int) -> str:
    return f"broadcast:{broadcast_id}:"


def recipients_query(
    *, cohort_id: int, audience: Audience, author_id: int | None
) -> Any:
    """Members the broadcast reaches: active in the cohort in an audience role, not erased,
    not its author. Paused members asked for quiet, so they are left out."""
    statement = (
        select(Enrollment.member_id)
        .join(Member, col(Member.id) == col(Enrollment.member_id))
        .where(
            col(Enrollment.cohort_id) == cohort_id,
            col(Enrollment.role).in_(AUDIENCE_ROLES[audience]),
            col(Enrollment.status) == EnrollmentStatus.active,
            col(Member.erased_at).is_(None),
        )
        .distinct()
    )
    if author_id is not None:
        statement = statement.where(col(Enrollment.member_id) != author_id)
    return statement


async def count_recipients(
    *, session: AsyncSession, cohort_id: int, audience: Audience, author_id: int | None
) -> int:
    """How many members the audience holds right now."""
    inner = recipients_query(cohort_id=cohort_id, audience=audience, author_id=author_id)
    return int((await session.exec(select(func.count()).select_from(inner.subquery()))).one())


@dataclass(frozen=True)
class Step:
    """One fan-out step: how far it got, what it added, and whether it was the last."""

    last_member_id: int
    inserted: int
    finished: bool


async def _claim_step(session: AsyncSession, broadcast_id: int) -> bool:
    """Mark the broadcast as sending; False when it was cancelled (or finished) meanwhile."""
    statement = (
        update(Broadcast)
        .where(
            col(Broadcast.id) == broadcast_id,
            col(Broadcast.status).in_((BroadcastStatus.scheduled, BroadcastStatus.sending)),
        )
        .values(status=BroadcastStatus.sending)
        .execution_options(synchronize_session=False)
    )
    return bool((await session.exec(statement)).rowcount)


async def fan_out_step(
    *,
    session: AsyncSession,
    broadcast: Broadcast,
    after_member_id: int,
    limit: int,
    now: datetime,
) -> Step | None:
    """Enqueue intents for the next `limit` recipients after `after_member_id`; None if the
    broadcast is no longer sendable (cancelled)."""
    broadcast_id = broadcast.id or 0
    if not await _claim_step(session, broadcast_id):
        return None
    query = recipients_query(cohort_id=broadcast.cohort_id, audience=broadcast.audience,
                             author_id=broadcast.author_id)
    member_ids = list((await session.exec(
        query.where(col(Enrollment.member_id) > after_member_id)
        .order_by(col(Enrollment.member_id)).limit(limit)
    )).all())
    intent = {"kind": BROADCAST_KIND, "broadcast_id": broadcast_id}
    inserted = await outbox.enqueue_many(session=session, deliveries=[
        NewDelivery(workspace_id=broadcast.workspace_id,
                    delivery_key=delivery_key(broadcast_id, member_id), kind=BROADCAST_KIND,
                    intent=intent, member_id=member_id, not_before=broadcast.send_at)
        for member_id in member_ids
    ])
    finished = len(member_ids) < limit
    if finished:
        await _finish(session, broadcast_id, now)
    last = member_ids[-1] if member_ids else after_member_id
    return Step(last_member_id=last, inserted=inserted, finished=finished)


async def _finish(session: AsyncSession, broadcast_id: int, now: datetime) -> None:
    total = (await session.exec(
        select(func.count()).where(col(Delivery.delivery_key).like(f"{key_prefix(broadcast_id)}%"))
    )).one()
    await session.exec(
        update(Broadcast)
        .where(col(Broadcast.id) == broadcast_id, col(Broadcast.fanned_out_at).is_(None))
        .values(fanned_out_at=now, recipients=int(total))
        .execution_options(synchronize_session=False)
    )


async def fan_out_all(*, session: AsyncSession, broadcast: Broadcast, now: datetime) -> int:
    """The whole fan-out in the caller's transaction (a broadcast sent now); returns rows added."""
    after, inserted = 0, 0
    while True:
        step = await fan_out_step(session=session, broadcast=broadcast, after_member_id=after,
                                  limit=FANOUT_CHUNK, now=now)
        if step is None:
            return inserted
        inserted += step.inserted
        if step.finished:
            await session.refresh(broadcast)
            return inserted
        after = step.last_member_id


async def delivery_counts(*, session: AsyncSession, broadcast_id: int) -> dict[DeliveryState, int]:
    """The broadcast's outbox rows by state (every state present, zeros included)."""
    rows = await session.exec(
        select(Delivery.state, func.count())
        .where(col(Delivery.delivery_key).like(f"{key_prefix(broadcast_id)}%"))
        .group_by(col(Delivery.state))
    )
    counts = dict.fromkeys(DeliveryState, 0)
    for state, count in rows.all():
        counts[DeliveryState(state)] = int(count)
    return counts


async def settle(*, session: AsyncSession, broadcast_id: int) -> bool:
    """Mark a fanned-out broadcast sent once none of its messages is still queued."""
    counts = await delivery_counts(session=session, broadcast_id=broadcast_id)
    if any(counts[state] for state in QUEUED_STATES):
        return False
    statement = (
        update(Broadcast)
        .where(col(Broadcast.id) == broadcast_id,
               col(Broadcast.status) == BroadcastStatus.sending,
               col(Broadcast.fanned_out_at).is_not(None))
        .values(status=BroadcastStatus.sent)
        .execution_options(synchronize_session=False)
    )
    return bool((await session.exec(statement)).rowcount)


async def cancel_queued(*, session: AsyncSession, broadcast_id: int) -> int:
    """Cancel the broadcast's messages not yet handed to Slack; returns how many."""
    keys = (await session.exec(
        select(Delivery.delivery_key).where(
            col(Delivery.delivery_key).like(f"{key_prefix(broadcast_id)}%"),
            col(Delivery.state).in_((DeliveryState.pending, DeliveryState.failed)),
        )
    )).all()
    cancelled = 0
    for start in range(0, len(keys), FANOUT_CHUNK):
        chunk = keys[start:start + FANOUT_CHUNK]
        cancelled += await outbox.cancel(session=session, delivery_keys=chunk)
    return cancelled


async def due_broadcasts(*, session: AsyncSession, now: datetime) -> tuple[list[int], list[int]]:
    """Broadcasts whose fan-out is due or unfinished, and those waiting to be settled."""
    pending = (await session.exec(
        select(Broadcast.id).where(
            col(Broadcast.send_at) <= now,
            col(Broadcast.fanned_out_at).is_(None),
            col(Broadcast.status).in_((BroadcastStatus.scheduled, BroadcastStatus.sending)),
        ).order_by(col(Broadcast.send_at), col(Broadcast.id))
    )).all()
    unsettled = (await session.exec(
        select(Broadcast.id).where(
            col(Broadcast.status) == BroadcastStatus.sending,
            col(Broadcast.fanned_out_at).is_not(None),
        ).order_by(col(Broadcast.id))
    )).all()
    return [i for i in pending if i is not None], [i for i in unsettled if i is not None]
