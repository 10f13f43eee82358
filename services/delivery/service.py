"""The delivery outbox: enqueue intents idempotently, claim due rows, record what happened.

Every state change after a claim is guarded by the claim itself (`claimed_by` and
`claimed_at`), so a worker that lost its claim to a stale-row reclaim can never overwrite
what the new owner recorded. Writes are single UPDATE statements: on SQLite a read
followed by a write in one transaction can fail at once with SQLITE_BUSY_SNAPSHOT when
another connection wrote in between, which busy_timeout does not cover.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal, or_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.db import utcnow
from services.delivery.models import Delivery, DeliveryState
from services.errors import Invalid
from services.people.models import Member

# Rows per INSERT: well under PostgreSQL's 32,767 and SQLite's 32,766 bind parameters.
_INSERT_CHUNK = 500
_KEY_MAX = 200
_KIND_MAX = 50
_CHANNEL_MAX = 50
_ERROR_MAX = 2000
_RETRYABLE = (DeliveryState.pending, DeliveryState.failed)
# A reply waits while the message it replies to may still be sent.
_SETTLED = (DeliveryState.sent, DeliveryState.dead, DeliveryState.cancelled)


@dataclass(frozen=True)
class NewDelivery:
    """One intent to enqueue: to a member's DM, or to an explicit channel; with a
    `thread_key`, as a reply in the thread of that delivery's message."""

    workspace_id: int
    delivery_key: str
    kind: str
    intent: Mapping[str, Any]
    member_id: int | None = None
    channel: str | None = None
    not_before: datetime | None = None
    thread_key: str | None = None


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter for sends that failed without a definite answer."""

    max_attempts: int = 6
    first_delay: float = 1.0
    max_delay: float = 900.0

    def next_attempt_at(
        self, *, attempts: int, now: datetime, rng: random.Random | None = None
    ) -> datetime | None:
        """When to try again after `attempts` failed tries; None once they are used up."""
        if attempts >= self.max_attempts:
            return None
        ceiling = min(self.max_delay, self.first_delay * 2 ** (attempts - 1))
        # Half fixed, half random: retries after one Slack outage do not arrive together.
        delay = ceiling * (0.5 + 0.5 * (rng or random).random())
        return now + timedelta(seconds=delay)


def _row_values(new: NewDelivery, now: datetime) -> dict[str, Any]:
    if not new.delivery_key or len(new.delivery_key) > _KEY_MAX:
        raise Invalid(f"delivery_key must be 1-{_KEY_MAX} characters", field="delivery_key")
    if not new.kind or len(new.kind) > _KIND_MAX:
        raise Invalid(f"kind must be 1-{_KIND_MAX} characters", field="kind")
    if new.intent.get("kind", new.kind) != new.kind:
        raise Invalid("the intent's kind differs from the delivery's kind", field="intent")
    if (new.member_id is None) == (new.channel is None):
        raise Invalid("a delivery goes to exactly one of a member or a channel", field="channel")
    if new.channel is not None and not 0 < len(new.channel) <= _CHANNEL_MAX:
        raise Invalid(f"channel must be 1-{_CHANNEL_MAX} characters", field="channel")
    if new.thread_key is not None and not (
            0 < len(new.thread_key) <= _KEY_MAX and new.thread_key != new.delivery_key):
        raise Invalid("thread_key must name another delivery", field="thread_key")
    return {
        "workspace_id": new.workspace_id,
        "delivery_key": new.delivery_key,
        "kind": new.kind,
        "intent": dict(new.intent),
        "member_id": new.member_id,
        "channel": new.channel,
        "thread_key": new.thread_key,
        "state": DeliveryState.pending.value,
        "attempts": 0,
        "next_attempt_at": new.not_before or now,
        "created_at": now,
    }


async def _insert_new(session: AsyncSession, rows: list[dict[str, Any]]) -> int:
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    inserted = 0
    for start in range(0, len(rows), _INSERT_CHUNK):
        statement = (
            insert(Delivery)
            .values(rows[start : start + _INSERT_CHUNK])
            .on_conflict_do_nothing(index_elements=["delivery_key"])
        )
        inserted += (await session.exec(statement)).rowcount
    return inserted


async def enqueue(
    *,
    session: AsyncSession,
    workspace_id: int,
    delivery_key: str,
    kind: str,
    intent: Mapping[str, Any],
    member_id: int | None = None,
    channel: str | None = None,
    not_before: datetime | None = None,
    thread_key: str | None = None,
) -> Delivery:
    """Add an intent to the outbox; a key already there returns the existing row unchanged."""
    new = NewDelivery(workspace_id=workspace_id, delivery_key=delivery_key, kind=kind,
                      intent=intent, member_id=member_id, channel=channel,
                      not_before=not_before, thread_key=thread_key)
    await _insert_new(session, [_row_values(new, utcnow())])
    return (
        await session.exec(select(Delivery).where(Delivery.delivery_key == delivery_key))
    ).one()


async def enqueue_many(*, session: AsyncSession, deliveries: Sequence[NewDelivery]) -> int:
    """Add many intents at once (a broadcast's fan-out); returns how many were new."""
    now = utcnow()
    return await _insert_new(session, [_row_values(new, now) for new in deliveries])


async def claim_due(
    *,
    session: AsyncSession,
    now: datetime,
    limit: int,
    worker_id: str,
    stale_after: timedelta,
) -> list[Delivery]:
    """Take up to `limit` due rows for `worker_id`, oldest first, and mark them sending;
    a reply only once the message it replies to is settled (sent, dead or cancelled)."""
    # A row left in `sending` for longer than `stale_after` belonged to a worker that
    # stopped mid-send: it is taken again with one more attempt counted, which makes the
    # messenger look for the message in Slack before it posts again.
    stale = and_(col(Delivery.state) == DeliveryState.sending,
                 col(Delivery.claimed_at) < now - stale_after)
    # A scalar lookup by the unique key, not NOT EXISTS: PostgreSQL turns an anti-join into
    # a hash of every unsettled row, while this probes the index for replies only. A parent
    # that is not there counts as one that will never be sent.
    parent = aliased(Delivery)
    parent_state = (select(parent.state).where(col(parent.delivery_key) == Delivery.thread_key)
                    .scalar_subquery())
    due = and_(
        or_(and_(col(Delivery.state).in_(_RETRYABLE), col(Delivery.next_attempt_at) <= now),
            stale),
        or_(col(Delivery.thread_key).is_(None),
            func.coalesce(parent_state, DeliveryState.dead.value).in_(
                [state.value for state in _SETTLED])),
    )
    candidates = (
        select(Delivery.id)
        .where(due)
        .order_by(col(Delivery.next_attempt_at), col(Delivery.id))
        .limit(limit)
    )
    chosen: ColumnElement[bool]
    if session.get_bind().dialect.name == "postgresql":
        # Lock first, then update: workers running this at once skip each other's rows.
        ids = (await session.exec(candidates.with_for_update(skip_locked=True))).all()
        if not ids:
            return []
        chosen = col(Delivery.id).in_(ids)
    else:
        # One statement, so SQLite takes the write lock before reading anything.
        chosen = col(Delivery.id).in_(candidates)
    was_sending = col(Delivery.state) == DeliveryState.sending
    statement = (
        update(Delivery)
        .where(chosen)
        .values(
            state=DeliveryState.sending,
            claimed_at=now,
            claimed_by=worker_id,
            attempts=case((was_sending, col(Delivery.attempts) + 1),
                          else_=col(Delivery.attempts)),
            last_error=case(
                (was_sending, func.coalesce(col(Delivery.claimed_by), literal("?"))
                 + literal(" stopped mid-send; reclaimed")),
                else_=col(Delivery.last_error),
            ),
        )
        .returning(Delivery)
        .execution_options(synchronize_session=False)
    )
    claimed = list((await session.exec(statement)).scalars().all())
    return sorted(claimed, key=lambda row: (row.next_attempt_at, row.id or 0))


def _held_by(delivery: Delivery) -> ColumnElement[bool]:
    """The row is still under the claim this worker made."""
    return and_(
        col(Delivery.id) == delivery.id,
        col(Delivery.state) == DeliveryState.sending,
        col(Delivery.claimed_by) == delivery.claimed_by,
        col(Delivery.claimed_at) == delivery.claimed_at,
    )


async def _update_claimed(session: AsyncSession, delivery: Delivery, **values: Any) -> bool:
    statement = (
        update(Delivery)
        .where(_held_by(delivery))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool((await session.exec(statement)).rowcount)


async def mark_sent(
    *, session: AsyncSession, delivery: Delivery, channel: str, ts: str, now: datetime
) -> bool:
    """Record the Slack channel and ts; False if the claim was lost (nothing changed)."""
    return await _update_claimed(
        session, delivery, state=DeliveryState.sent, slack_channel=channel, slack_ts=ts,
        sent_at=now, claimed_at=None, claimed_by=None,
    )


async def mark_retry(
    *,
    session: AsyncSession,
    delivery: Delivery,
    error: str,
    retry_at: datetime,
    count_attempt: bool = True,
    channel: str | None = None,
) -> bool:
    """Send again at `retry_at`; a try Slack refused outright (429) is not counted.

    `channel` records where the message may have landed, for the next try's reconciliation.
    """
    values: dict[str, Any] = {
        "state": DeliveryState.failed if count_attempt else DeliveryState.pending,
        "attempts": delivery.attempts + 1 if count_attempt else delivery.attempts,
        "last_error": error[:_ERROR_MAX],
        "next_attempt_at": retry_at,
        "claimed_at": None,
        "claimed_by": None,
    }
    if channel is not None:
        values["slack_channel"] = channel
    return await _update_claimed(session, delivery, **values)


async def mark_dead(*, session: AsyncSession, delivery: Delivery, error: str) -> bool:
    """Give up on the row and keep the reason; False if the claim was lost."""
    return await _update_claimed(
        session, delivery, state=DeliveryState.dead, last_error=error[:_ERROR_MAX],
        attempts=delivery.attempts + 1, claimed_at=None, claimed_by=None,
    )


async def cancel(*, session: AsyncSession, delivery_keys: Iterable[str]) -> int:
    """Cancel rows not yet being sent; returns how many were cancelled."""
    keys = list(delivery_keys)
    if not keys:
        return 0
    statement = (
        update(Delivery)
        .where(col(Delivery.delivery_key).in_(keys), col(Delivery.state).in_(_RETRYABLE))
        .values(state=DeliveryState.cancelled)
        .execution_options(synchronize_session=False)
    )
    return int((await session.exec(statement)).rowcount)


@dataclass(frozen=True)
class ThreadParent:
    """Where a reply goes: the channel and ts of the message it replies to."""

    channel: str
    ts: str


async def thread_parent(*, session: AsyncSession, delivery: Delivery) -> ThreadParent | None:
    """The sent message `delivery` replies to; None when it was never sent, or was sent to
    someone else (a reply never lands in another person's conversation)."""
    if delivery.thread_key is None:
        return None
    parent = (await session.exec(
        select(Delivery).where(Delivery.delivery_key == delivery.thread_key))).first()
    if (parent is None or parent.state != DeliveryState.sent
            or parent.slack_channel is None or parent.slack_ts is None
            or (parent.workspace_id, parent.member_id, parent.channel)
            != (delivery.workspace_id, delivery.member_id, delivery.channel)):
        return None
    return ThreadParent(channel=parent.slack_channel, ts=parent.slack_ts)


async def slack_user_ids(*, session: AsyncSession, member_ids: Iterable[int]) -> dict[int, str]:
    """Slack user ids of these members; erased members are left out, so nothing reaches them."""
    wanted = set(member_ids)
    if not wanted:
        return {}
    rows = await session.exec(
        select(Member.id, Member.slack_user_id).where(
            col(Member.id).in_(wanted), col(Member.erased_at).is_(None)
        )
    )
    return {member_id: user_id for member_id, user_id in rows.all() if member_id is not None}


async def count_by_state(
    *, session: AsyncSession, workspace_id: int | None = None
) -> dict[DeliveryState, int]:
    """How many rows are in each state (every state present, zeros included)."""
    statement = select(Delivery.state, func.count()).group_by(col(Delivery.state))
    if workspace_id is not None:
        statement = statement.where(Delivery.workspace_id == workspace_id)
    counts = dict.fromkeys(DeliveryState, 0)
    for state, count in (await session.exec(statement)).all():
        counts[DeliveryState(state)] = int(count)
    return counts
