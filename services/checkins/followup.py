"""After the invitation: note its delivery, remind (capped), bring back snoozed check-ins,
and close expired ones. Set-based, like the sweep: reminders come due in bulk too.

Reminders are enqueued only for check-ins whose invitation Slack has accepted (`sent`),
and the renderer looks at the check-in again at send time, so a reminder racing an
answer is never shown.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, String, and_, case, cast, exists, func, literal, update
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.checkins.models import Checkin, CheckinSchedule, CheckinStatus
from services.checkins.sweep import INVITE_KIND, REMINDER_KIND
from services.db import UTCDateTime
from services.delivery.models import Delivery, DeliveryState
from services.delivery.service import NewDelivery, enqueue_many

OPEN = (CheckinStatus.pending, CheckinStatus.sent)


def _invite_key_sql() -> Any:
    return literal("checkin:", String) + cast(col(Checkin.id), String)


async def note_delivered(*, session: AsyncSession, now: datetime) -> int:
    """Pending check-ins whose invitation Slack accepted become `sent`, with its channel/ts."""
    key = _invite_key_sql()
    delivered = and_(col(Delivery.delivery_key) == key,
                     col(Delivery.state) == DeliveryState.sent)
    channel = sa_select(col(Delivery.slack_channel)).where(delivered).scalar_subquery()
    ts = sa_select(col(Delivery.slack_ts)).where(delivered).scalar_subquery()
    statement = (
        update(Checkin)
        .where(col(Checkin.status) == CheckinStatus.pending, col(Checkin.due_at) <= now,
               exists(sa_select(literal(1)).where(delivered)))
        .values(status=CheckinStatus.sent,
                slack_channel=func.coalesce(col(Checkin.slack_channel), channel),
                slack_ts=func.coalesce(col(Checkin.slack_ts), ts))
        .execution_options(synchronize_session=False)
    )
    return int((await session.exec(statement)).rowcount)


async def expire(*, session: AsyncSession, now: datetime) -> int:
    """Close open check-ins past their expiry (they can still be answered, marked late)."""
    statement = (
        update(Checkin)
        .where(col(Checkin.status).in_(OPEN), col(Checkin.expires_at) <= now)
        .values(status=CheckinStatus.expired, next_reminder_at=None, snoozed_until=None)
        .execution_options(synchronize_session=False)
    )
    return int((await session.exec(statement)).rowcount)


async def wake_snoozed(*, session: AsyncSession, now: datetime) -> int:
    """Send snoozed check-ins again once their snooze is over."""
    statement = (
        update(Checkin)
        .where(col(Checkin.status).in_(OPEN), col(Checkin.snoozed_until).is_not(None),
               col(Checkin.snoozed_until) <= now, col(Checkin.expires_at) > now)
        .values(snoozed_until=None, next_reminder_at=None)
        .returning(col(Checkin.id), col(Checkin.workspace_id), col(Checkin.member_id))
        .execution_options(synchronize_session=False)
    )
    woken = (await session.exec(statement)).all()
    stamp = int(now.timestamp())
    await enqueue_many(session=session, deliveries=[
        NewDelivery(workspace_id=workspace_id, delivery_key=f"checkin:{checkin_id}:woke:{stamp}",
                    kind=INVITE_KIND, intent={"kind": INVITE_KIND, "checkin_id": checkin_id},
                    member_id=member_id)
        for checkin_id, workspace_id, member_id in woken
    ])
    return len(woken)


def _reminder_due(schedule_id: int, max_reminders: int, now: datetime) -> Any:
    return and_(
        col(Checkin.schedule_id) == schedule_id,
        col(Checkin.status) == CheckinStatus.sent,
        col(Checkin.snoozed_until).is_(None),
        col(Checkin.next_reminder_at) <= now,
        col(Checkin.expires_at) > now,
        col(Checkin.reminders_sent) < max_reminders,
    )


async def remind(*, session: AsyncSession, now: datetime) -> int:
    """Enqueue due reminders, at most the schedule's cap per check-in."""
    schedules = (
        await session.exec(
            select(CheckinSchedule).where(col(CheckinSchedule.id).in_(
                sa_select(col(Checkin.schedule_id)).distinct().where(
                    col(Checkin.status) == CheckinStatus.sent,
                    col(Checkin.next_reminder_at) <= now)))
        )
    ).all()
    reminded = 0
    for schedule in schedules:
        reminded += await _remind_schedule(session, schedule, now)
    return reminded


async def _remind_schedule(session: AsyncSession, schedule: CheckinSchedule, now: datetime) -> int:
    cap = schedule.max_reminders
    due = _reminder_due(schedule.id or 0, cap, now)
    number = col(Checkin.reminders_sent) + 1
    dialect = session.get_bind().dialect.name
    json_object = func.json_build_object if dialect == "postgresql" else func.json_object
    source = sa_select(
        col(Checkin.workspace_id),
        _invite_key_sql() + literal(":r", String) + cast(number, String),
        literal(REMINDER_KIND, String),
        json_object(literal("kind", String), literal(REMINDER_KIND, String),
                    literal("checkin_id", String), col(Checkin.id),
                    literal("number", String), number),
        col(Checkin.member_id),
        literal(DeliveryState.pending.value, String),
        literal(0, Integer),
        literal(now, UTCDateTime),
        literal(now, UTCDateTime),
    ).where(due)
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    await session.exec(
        insert(Delivery)
        .from_select(["workspace_id", "delivery_key", "kind", "intent", "member_id", "state",
                      "attempts", "next_attempt_at", "created_at"], source)
        .on_conflict_do_nothing(index_elements=["delivery_key"])
    )
    interval = timedelta(minutes=schedule.reminder_after_minutes or 0)
    again = now + interval if interval else None
    statement = (
        update(Checkin)
        .where(due)
        .values(reminders_sent=number,
                next_reminder_at=case((number < cap, literal(again, UTCDateTime)), else_=None))
        .execution_options(synchronize_session=False)
    )
    return int((await session.exec(statement)).rowcount)
