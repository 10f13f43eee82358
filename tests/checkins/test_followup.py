"""After the invitation: delivery noted, reminders capped, snoozes woken, expiry, and
reminders that stop once the check-in is answered."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.blocks.checkin import render_reminder
from bot.render import RenderError, RenderRequest
from services.auth.models import Role
from services.auth.service import actor_for
from services.checkins.answers import submit_answers
from services.checkins.jobs import checkin_followup_tick, checkin_sweep_tick
from services.checkins.models import AnswerIn, AnswersSubmit, Checkin, CheckinStatus
from services.checkins.service import next_checkin, snooze_checkin
from services.db import transaction
from services.delivery.models import Delivery, DeliveryState
from services.people.models import Member
from tests.checkins.factories import make_leader, make_program, make_schedule

Sessions = async_sessionmaker[AsyncSession]
DUE = datetime(2024, 6, 12, 9, 0, tzinfo=UTC)


@pytest.fixture
async def leader(session: AsyncSession) -> Member:
    program = await make_program(session)
    member = await make_leader(session, program.workspace, program.cohort, timezone="UTC",
                               enrolled_at=DUE - timedelta(hours=1))
    await make_schedule(session, program.cohort, at=time(9), reminder_after_minutes=30,
                        max_reminders=2, expire_after_minutes=180)
    await session.commit()
    return member


async def deliver_all(sessions: Sessions) -> None:
    """What the delivery worker would record: every pending row sent."""
    async with transaction(sessions) as session:
        await session.exec(update(Delivery).where(
            col(Delivery.state) == DeliveryState.pending).values(
            state=DeliveryState.sent, slack_channel="D0LEADER", slack_ts="1.000100"))


async def keys(session: AsyncSession) -> list[str]:
    rows = (await session.exec(select(Delivery).order_by(col(Delivery.id)))).all()
    return [row.delivery_key for row in rows if row.state != DeliveryState.cancelled]


async def the_checkin(session: AsyncSession) -> Checkin:
    statement = select(Checkin).execution_options(populate_existing=True)
    return (await session.exec(statement)).one()


async def tick(sessions: Sessions, now: datetime) -> None:
    await checkin_sweep_tick(sessions=sessions, now=now)
    await checkin_followup_tick(sessions=sessions, now=now)
    await deliver_all(sessions)


async def test_reminders_are_capped_and_the_checkin_expires(
    leader: Member, session: AsyncSession, sessions: Sessions
) -> None:
    now = DUE
    while now <= DUE + timedelta(hours=4):
        await tick(sessions, now)
        now += timedelta(minutes=10)
    checkin = await the_checkin(session)
    assert checkin.status == CheckinStatus.expired
    assert checkin.slack_channel == "D0LEADER" and checkin.slack_ts == "1.000100"
    assert checkin.reminders_sent == 2
    assert await keys(session) == [f"checkin:{checkin.id}", f"checkin:{checkin.id}:r1",
                                   f"checkin:{checkin.id}:r2"]
    reminders = (await session.exec(select(Delivery).where(
        Delivery.kind == "checkin_reminder").order_by(col(Delivery.id)))).all()
    assert [r.created_at for r in reminders] == [DUE + timedelta(minutes=30),
                                                 DUE + timedelta(minutes=60)]


async def test_reminders_stop_once_answered(
    leader: Member, session: AsyncSession, sessions: Sessions
) -> None:
    for minutes in (0, 5, 35):
        await tick(sessions, DUE + timedelta(minutes=minutes))
    checkin = await the_checkin(session)
    assert checkin.reminders_sent == 1
    async with transaction(sessions) as work:
        actor = await actor_for(session=work, workspace_id=leader.workspace_id,
                                role=Role.leader, member_id=leader.id)
        await submit_answers(session=work, actor=actor, checkin_id=checkin.id or 0,
                             now=DUE + timedelta(minutes=40), data=AnswersSubmit(answers=[
                                 AnswerIn(question_id="week", number=3),
                                 AnswerIn(question_id="learned", text="Plenty")]))
    for minutes in range(45, 240, 15):
        await tick(sessions, DUE + timedelta(minutes=minutes))
    checkin = await the_checkin(session)
    assert checkin.status == CheckinStatus.answered and not checkin.late
    assert checkin.reminders_sent == 1
    assert await keys(session) == [f"checkin:{checkin.id}", f"checkin:{checkin.id}:r1"]
    # A reminder still queued when the answer came in is never shown.
    request = RenderRequest(kind="checkin_reminder", intent={
        "kind": "checkin_reminder", "checkin_id": checkin.id, "number": 2},
        workspace_id=leader.workspace_id, member_id=leader.id, delivery_key="k",
        session=session)
    with pytest.raises(RenderError, match="answered"):
        await render_reminder(request)


async def test_a_snoozed_checkin_comes_back_once(
    leader: Member, session: AsyncSession, sessions: Sessions
) -> None:
    await tick(sessions, DUE)
    await tick(sessions, DUE + timedelta(minutes=5))
    checkin = await the_checkin(session)
    async with transaction(sessions) as work:
        actor = await actor_for(session=work, workspace_id=leader.workspace_id,
                                role=Role.leader, member_id=leader.id)
        await snooze_checkin(session=work, actor=actor, checkin_id=checkin.id or 0,
                             until="hour", now=DUE + timedelta(minutes=10))
    for minutes in range(20, 175, 10):
        await tick(sessions, DUE + timedelta(minutes=minutes))
    stamp = int((DUE + timedelta(minutes=70)).timestamp())
    assert await keys(session) == [f"checkin:{checkin.id}", f"checkin:{checkin.id}:woke:{stamp}"]
    checkin = await the_checkin(session)
    assert checkin.snoozed_until is None and checkin.reminders_sent == 0


async def test_a_snooze_past_the_window_stretches_it(
    leader: Member, session: AsyncSession, sessions: Sessions
) -> None:
    await tick(sessions, DUE)
    await tick(sessions, DUE + timedelta(minutes=5))
    checkin = await the_checkin(session)
    async with transaction(sessions) as work:
        actor = await actor_for(session=work, workspace_id=leader.workspace_id,
                                role=Role.leader, member_id=leader.id)
        snoozed = await snooze_checkin(session=work, actor=actor, checkin_id=checkin.id or 0,
                                       until="tomorrow", now=DUE + timedelta(minutes=10))
    assert snoozed.snoozed_until == DUE + timedelta(days=1)
    assert snoozed.expires_at == DUE + timedelta(days=1, minutes=180)


async def test_next_checkin_for_the_home_tab(
    leader: Member, session: AsyncSession, sessions: Sessions
) -> None:
    async with sessions() as work:
        upcoming = await next_checkin(session=work, member_id=leader.id or 0,
                                      now=DUE - timedelta(hours=1))
    assert upcoming is not None and not upcoming.open_now and upcoming.at == DUE
    await tick(sessions, DUE)
    async with sessions() as work:
        current = await next_checkin(session=work, member_id=leader.id or 0,
                                     now=DUE + timedelta(minutes=1))
    assert current is not None and current.open_now
    assert current.at == DUE + timedelta(minutes=180)
