"""The delivery worker end to end: faults lose and duplicate nothing, workers share the
outbox, and the loop starts and stops cleanly."""

from __future__ import annotations

import asyncio
import time

import aiohttp
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.messenger import SlackMessenger
from bot.sandbox import Fault, SlackSandbox
from bot.worker import DeliveryWorker, run_delivery
from services.db import transaction, utcnow
from services.delivery.models import DeliveryState
from services.people.models import Member
from tests.database import BACKEND
from tests.delivery.world import (
    World,
    enqueue_texts,
    make_messenger,
    posted_keys,
    rows,
    run_until_quiet,
    worker,
)


async def test_500s_timeouts_and_429s_lose_nothing_and_duplicate_nothing(
    sessions: async_sessionmaker[AsyncSession], world: World, sandbox: SlackSandbox,
    http: aiohttp.ClientSession,
) -> None:
    messenger = make_messenger(sandbox, http, sessions, call_timeout=0.25)
    keys = await enqueue_texts(sessions, world, count=60)
    for method in ("chat.postMessage", "conversations.history", "conversations.open"):
        sandbox.faults.randomly(method, probability=0.2, fault=Fault.http_error(500))
    # Slow answers the client gives up on: those posts land anyway, unseen.
    sandbox.faults.randomly("chat.postMessage", probability=0.05, fault=Fault.latency(0.4))
    sandbox.faults.script("chat.postMessage", *[Fault.ratelimited(retry_after=1)] * 3)
    delivery = worker(sessions, messenger)
    await run_until_quiet(sessions, delivery)

    assert posted_keys(sandbox) == dict.fromkeys(keys, 1)
    found = await rows(sessions)
    assert {row.state for row in found.values()} == {DeliveryState.sent}
    posts = sandbox.calls("chat.postMessage")
    assert sum(call.status == 500 for call in posts) > 0
    assert sum(call.status == 429 for call in posts) == 3
    # Every row that failed once was looked for before it was sent again.
    retried = [row for row in found.values() if row.attempts > 0]
    assert retried and delivery.stats.retried >= len(retried)
    assert len(sandbox.calls("conversations.history")) >= len(retried)
    for row in found.values():
        message = next(m for m in sandbox.messages(row.slack_channel or "")
                       if m["ts"] == row.slack_ts)
        assert message["metadata"]["event_payload"]["delivery_key"] == row.delivery_key


async def test_workers_share_the_outbox_without_sending_anything_twice(
    sessions: async_sessionmaker[AsyncSession], world: World, sandbox: SlackSandbox,
    http: aiohttp.ClientSession,
) -> None:
    keys = await enqueue_texts(sessions, world, count=80)
    # PostgreSQL: two workers, as two `coachbot worker` processes would run. SQLite runs
    # a single process, so a single worker.
    count = 2 if BACKEND == "postgres" else 1
    workers = [worker(sessions, make_messenger(sandbox, http, sessions), concurrency=8,
                      batch_size=8, worker_id=f"w{index}") for index in range(count)]
    await run_until_quiet(sessions, *workers)

    assert posted_keys(sandbox) == dict.fromkeys(keys, 1)
    assert [w.stats.claimed > 0 for w in workers] == [True] * count
    assert sum(w.stats.claimed for w in workers) == len(keys)
    assert sum(w.stats.sent for w in workers) == len(keys)


async def test_an_erased_member_is_never_messaged(
    sessions: async_sessionmaker[AsyncSession], world: World, sandbox: SlackSandbox,
    messenger: SlackMessenger,
) -> None:
    (key,) = await enqueue_texts(sessions, world, count=1)
    async with transaction(sessions) as session:
        member = await session.get(Member, world.members[0].id)
        assert member is not None
        member.erased_at = utcnow()
    await run_until_quiet(sessions, worker(sessions, messenger))
    row = (await rows(sessions))[key]
    assert row.state == DeliveryState.dead
    assert row.last_error == "no recipient: the member was erased or has no Slack user"
    assert sandbox.calls("chat.postMessage") == []


async def test_an_idle_worker_stops_at_once_and_a_busy_one_finishes_its_sends(
    sessions: async_sessionmaker[AsyncSession], world: World, sandbox: SlackSandbox,
    messenger: SlackMessenger,
) -> None:
    idle = DeliveryWorker(sessions=sessions, messenger=messenger, idle_interval=30)
    await idle.start()
    await asyncio.sleep(0.05)
    started = time.monotonic()
    await idle.stop()
    assert time.monotonic() - started < 0.5

    keys = await enqueue_texts(sessions, world, count=5)
    sandbox.faults.randomly("chat.postMessage", probability=1.0, fault=Fault.latency(0.2))
    stop = asyncio.Event()
    running = asyncio.create_task(run_delivery(sessions=sessions, messenger=messenger,
                                               stop=stop, idle_interval=0.01))
    for _ in range(500):
        if sandbox.calls("chat.postMessage") or running.done():
            break
        await asyncio.sleep(0.01)
    stop.set()
    stats = await running
    # Stopped mid-send, yet every send under way was finished and recorded.
    assert stats.sent == len(keys)
    assert {row.state for row in (await rows(sessions)).values()} == {DeliveryState.sent}
