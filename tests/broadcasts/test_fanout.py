"""Fan-out that survives crashes: cut off between chunks, rolled back inside one, run twice
at once, cancelled half-way, and the delivery worker killed mid-send."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import aiohttp
import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.blocks import broadcast as broadcast_blocks
from bot.render import default_renderers
from bot.sandbox import Fault, SlackSandbox
from services.auth.models import Role
from services.auth.service import actor_for
from services.broadcasts import fanout, service
from services.broadcasts.jobs import broadcast_tick, fan_out_broadcast
from services.broadcasts.models import Audience, Broadcast, BroadcastCreate, BroadcastStatus
from services.db import transaction, utcnow
from services.delivery.models import DeliveryState
from tests.broadcasts.world import Program, build_program, outbox, recipients
from tests.delivery.world import make_messenger, posted_keys, run_until_quiet, worker
from tests.slack.conftest import eventually


class Crash(Exception):
    """Stands for the process dying inside a transaction."""


async def schedule(sessions: async_sessionmaker[AsyncSession], program: Program, *,
                   send_at: datetime, text: str = "Week 3: what will you delegate?",
                   question: str | None = None) -> int:
    async with transaction(sessions) as session:
        actor = await actor_for(session=session, workspace_id=program.owner.workspace_id,
                                role=Role.owner, member_id=program.owner.id)
        created = await service.create_broadcast(
            session=session, actor=actor, now=utcnow(),
            data=BroadcastCreate(cohort_id=program.cohort.id or 0, audience=Audience.leaders,
                                 text=text, question=question, send_at=send_at))
    return created.id or 0


async def step(sessions: async_sessionmaker[AsyncSession], broadcast_id: int, *,
               after: int, limit: int) -> fanout.Step | None:
    async with transaction(sessions) as session:
        broadcast = await session.get(Broadcast, broadcast_id)
        assert broadcast is not None
        return await fanout.fan_out_step(session=session, broadcast=broadcast,
                                         after_member_id=after, limit=limit, now=utcnow())


async def status(sessions: async_sessionmaker[AsyncSession], broadcast_id: int) -> Broadcast:
    async with sessions() as session:
        broadcast = await session.get(Broadcast, broadcast_id)
        assert broadcast is not None
        return broadcast


async def test_a_fan_out_cut_off_between_chunks_resumes_with_only_what_is_missing(
    session: AsyncSession, sessions: async_sessionmaker[AsyncSession]
) -> None:
    program = await build_program(session, leaders=25)
    soon = utcnow() + timedelta(minutes=5)
    broadcast_id = await schedule(sessions, program, send_at=soon)
    first = await step(sessions, broadcast_id, after=0, limit=10)
    assert first is not None and first.inserted == 10 and not first.finished
    # The process dies inside the second chunk's transaction: none of it is kept.
    with pytest.raises(Crash):
        async with transaction(sessions) as crashing:
            broadcast = await crashing.get(Broadcast, broadcast_id)
            assert broadcast is not None
            await fanout.fan_out_step(session=crashing, broadcast=broadcast,
                                      after_member_id=first.last_member_id, limit=10,
                                      now=utcnow())
            raise Crash
    assert len(await outbox(sessions, broadcast_id)) == 10
    assert (await status(sessions, broadcast_id)).status == BroadcastStatus.sending
    # After the restart the tick starts again from the top; the keys keep the first ten.
    assert await broadcast_tick(sessions=sessions, now=soon) == 1
    rows = await outbox(sessions, broadcast_id)
    assert recipients(rows) == {m.id: 1 for m in program.leaders}
    finished = await status(sessions, broadcast_id)
    assert finished.recipients == 25 and finished.fanned_out_at == soon
    assert await broadcast_tick(sessions=sessions, now=soon) == 0


async def test_two_workers_fanning_out_at_once_enqueue_each_recipient_once(
    session: AsyncSession, sessions: async_sessionmaker[AsyncSession]
) -> None:
    program = await build_program(session, leaders=30)
    soon = utcnow() + timedelta(minutes=5)
    broadcast_id = await schedule(sessions, program, send_at=soon)
    await asyncio.gather(
        fan_out_broadcast(sessions=sessions, broadcast_id=broadcast_id, now=soon, chunk=7),
        fan_out_broadcast(sessions=sessions, broadcast_id=broadcast_id, now=soon, chunk=4),
    )
    assert recipients(await outbox(sessions, broadcast_id)) == {m.id: 1 for m in program.leaders}
    assert (await status(sessions, broadcast_id)).recipients == 30


async def test_a_cancel_during_the_fan_out_stops_it_and_cancels_what_was_queued(
    session: AsyncSession, sessions: async_sessionmaker[AsyncSession]
) -> None:
    program = await build_program(session, leaders=12)
    soon = utcnow() + timedelta(minutes=5)
    broadcast_id = await schedule(sessions, program, send_at=soon)
    assert await step(sessions, broadcast_id, after=0, limit=5) is not None
    async with transaction(sessions) as cancelling:
        actor = await actor_for(session=cancelling, workspace_id=program.owner.workspace_id,
                                role=Role.owner, member_id=program.owner.id)
        await service.cancel_broadcast(session=cancelling, actor=actor,
                                       broadcast_id=broadcast_id, now=utcnow())
    assert await step(sessions, broadcast_id, after=0, limit=5) is None
    assert await broadcast_tick(sessions=sessions, now=soon) == 0
    rows = await outbox(sessions, broadcast_id)
    assert len(rows) == 5
    assert {row.state for row in rows} == {DeliveryState.cancelled}


@pytest.fixture
async def sandbox() -> AsyncIterator[SlackSandbox]:
    async with SlackSandbox(auto_users=True) as sandbox:
        yield sandbox


async def test_killing_the_delivery_worker_mid_broadcast_loses_nothing_and_repeats_nothing(
    session: AsyncSession, sessions: async_sessionmaker[AsyncSession], sandbox: SlackSandbox
) -> None:
    program = await build_program(session, leaders=40)
    broadcast_id = await schedule(sessions, program, send_at=utcnow(),
                                  question="What will you delegate?")
    renderers = default_renderers()
    broadcast_blocks.register(renderers)
    # Some posts are slow: the worker dies while they are in flight, and they land anyway.
    sandbox.faults.randomly("chat.postMessage", probability=0.3, fault=Fault.latency(0.3))
    async with aiohttp.ClientSession() as http:
        first = worker(sessions, make_messenger(sandbox, http, sessions, rate=40, burst=5,
                                                renderers=renderers),
                       shutdown_grace=0.0, concurrency=10)
        await first.start()
        await eventually(lambda: first.stats.sent >= 15, within=10.0)
        await first.stop()  # no grace: sends under way are cut off, their rows left sending
        left = [row for row in await outbox(sessions, broadcast_id)
                if row.state != DeliveryState.sent]
        assert any(row.state == DeliveryState.sending for row in left), "nothing was cut off"
        sandbox.faults.clear()
        second = worker(sessions, make_messenger(sandbox, http, sessions, rate=200, burst=50,
                                                 renderers=renderers),
                        stale_after=timedelta(seconds=2))
        await run_until_quiet(sessions, second, within=60.0)
    rows = await outbox(sessions, broadcast_id)
    assert {row.state for row in rows} == {DeliveryState.sent}
    posted = posted_keys(sandbox)
    assert {key: posted[key] for key in posted if key.startswith("broadcast:")} == {
        fanout.delivery_key(broadcast_id, m.id or 0): 1 for m in program.leaders}
    # Each leader's DM holds the question with its Answer button.
    message = sandbox.messages(program.leaders[3].slack_user_id)[-1]
    assert "What will you delegate?" in str(message["blocks"])
    assert broadcast_blocks.ANSWER in str(message["blocks"])
    assert await broadcast_tick(sessions=sessions, now=utcnow()) == 1
    assert (await status(sessions, broadcast_id)).status == BroadcastStatus.sent
