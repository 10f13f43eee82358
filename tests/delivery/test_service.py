"""The outbox service on a real database: idempotent enqueue, claims, guarded state changes."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.db import transaction, utcnow
from services.delivery import service
from services.delivery.models import Delivery, DeliveryState
from services.delivery.service import NewDelivery, RetryPolicy
from services.errors import Invalid
from tests.database import BACKEND
from tests.delivery.world import World, enqueue_texts, rows

STALE = timedelta(minutes=5)


async def claim(
    sessions: async_sessionmaker[AsyncSession], *, limit: int = 10, worker_id: str = "w1",
    now: datetime | None = None,
) -> list[Delivery]:
    async with transaction(sessions) as session:
        return await service.claim_due(session=session, now=now or utcnow(), limit=limit,
                                       worker_id=worker_id, stale_after=STALE)


async def test_enqueueing_a_key_twice_keeps_the_first_row(
    sessions: async_sessionmaker[AsyncSession], world: World
) -> None:
    member_id = world.members[0].id
    async with transaction(sessions) as session:
        first = await service.enqueue(session=session, workspace_id=world.workspace_id,
                                      delivery_key="checkin:1:2026-01-05", kind="text",
                                      intent={"kind": "text", "text": "first"},
                                      member_id=member_id)
    async with transaction(sessions) as session:
        again = await service.enqueue(session=session, workspace_id=world.workspace_id,
                                      delivery_key="checkin:1:2026-01-05", kind="text",
                                      intent={"kind": "text", "text": "second"},
                                      member_id=member_id)
        count = (await session.exec(select(func.count()).select_from(Delivery))).one()
    assert again.id == first.id
    assert again.intent == {"kind": "text", "text": "first"}
    assert count == 1


async def test_enqueue_many_counts_only_new_keys(
    sessions: async_sessionmaker[AsyncSession], world: World
) -> None:
    await enqueue_texts(sessions, world, count=3)
    again = [NewDelivery(workspace_id=world.workspace_id, delivery_key=f"t:{index}",
                         kind="text", intent={"kind": "text", "text": "x"},
                         member_id=world.members[0].id) for index in range(5)]
    async with transaction(sessions) as session:
        assert await service.enqueue_many(session=session, deliveries=again) == 2
    assert sorted(await rows(sessions)) == [f"t:{index}" for index in range(5)]


@pytest.mark.parametrize(("fields", "field"), [
    ({"delivery_key": ""}, "delivery_key"),
    ({"delivery_key": "k" * 201}, "delivery_key"),
    ({"intent": {"kind": "broadcast", "text": "x"}}, "intent"),
    ({"member_id": None}, "channel"),
    ({"channel": "C0COACHES"}, "channel"),
])
async def test_enqueue_refuses_malformed_intents(
    session: AsyncSession, world: World, fields: dict[str, object], field: str
) -> None:
    arguments: dict[str, object] = {
        "workspace_id": world.workspace_id, "delivery_key": "k", "kind": "text",
        "intent": {"kind": "text", "text": "x"}, "member_id": world.members[0].id,
        **fields,
    }
    with pytest.raises(Invalid) as raised:
        await service.enqueue(session=session, **arguments)  # type: ignore[arg-type]
    assert raised.value.field == field


async def test_claims_take_due_rows_oldest_first_and_skip_future_ones(
    sessions: async_sessionmaker[AsyncSession], world: World
) -> None:
    now = utcnow()
    async with transaction(sessions) as session:
        for index, offset in enumerate((-3, -1, -2, 60)):
            await service.enqueue(session=session, workspace_id=world.workspace_id,
                                  delivery_key=f"k{index}", kind="text",
                                  intent={"kind": "text", "text": "x"}, channel="C0COACHES",
                                  not_before=now + timedelta(seconds=offset))
    claimed = await claim(sessions, now=now, limit=2)
    assert [row.delivery_key for row in claimed] == ["k0", "k2"]
    assert {row.state for row in claimed} == {DeliveryState.sending}
    assert {row.claimed_by for row in claimed} == {"w1"}
    assert [row.delivery_key for row in await claim(sessions, now=now)] == ["k1"]
    assert await claim(sessions, now=now) == []


async def test_a_stale_sending_row_is_reclaimed_with_an_attempt_counted(
    sessions: async_sessionmaker[AsyncSession], world: World
) -> None:
    await enqueue_texts(sessions, world, count=1)
    start = utcnow()
    (first,) = await claim(sessions, now=start, worker_id="crashed")
    assert await claim(sessions, now=start + STALE / 2, worker_id="w2") == []
    (again,) = await claim(sessions, now=start + STALE * 2, worker_id="w2")
    assert again.id == first.id
    assert again.attempts == 1
    assert again.claimed_by == "w2"
    assert again.last_error == "crashed stopped mid-send; reclaimed"
    # The worker that lost its claim can no longer record anything on the row.
    async with transaction(sessions) as session:
        assert not await service.mark_sent(session=session, delivery=first, channel="D1",
                                           ts="1.000001", now=utcnow())
        assert await service.mark_sent(session=session, delivery=again, channel="D1",
                                       ts="1.000002", now=utcnow())
    row = (await rows(sessions))["t:0"]
    assert (row.state, row.slack_ts, row.claimed_by) == (DeliveryState.sent, "1.000002", None)


async def test_retries_count_attempts_but_deferrals_do_not(
    sessions: async_sessionmaker[AsyncSession], world: World
) -> None:
    await enqueue_texts(sessions, world, count=2)
    now = utcnow()
    deferred, failed = await claim(sessions, now=now)
    async with transaction(sessions) as session:
        assert await service.mark_retry(session=session, delivery=deferred, error="ratelimited",
                                        retry_at=now, count_attempt=False)
        assert await service.mark_retry(session=session, delivery=failed, error="http 500",
                                        retry_at=now + timedelta(seconds=1), channel="D1")
    found = await rows(sessions)
    assert (found["t:0"].state, found["t:0"].attempts) == (DeliveryState.pending, 0)
    assert (found["t:1"].state, found["t:1"].attempts) == (DeliveryState.failed, 1)
    assert found["t:1"].slack_channel == "D1"
    assert [row.delivery_key for row in await claim(sessions, now=now)] == ["t:0"]
    later = await claim(sessions, now=now + timedelta(seconds=2))
    assert [(row.delivery_key, row.attempts) for row in later] == [("t:1", 1)]


async def test_dead_and_cancelled_rows_are_never_claimed(
    sessions: async_sessionmaker[AsyncSession], world: World
) -> None:
    await enqueue_texts(sessions, world, count=3)
    async with transaction(sessions) as session:
        assert await service.cancel(session=session, delivery_keys=["t:0", "nope"]) == 1
    first, _ = await claim(sessions, limit=2)
    async with transaction(sessions) as session:
        assert await service.mark_dead(session=session, delivery=first, error="channel_not_found")
        # A row being sent cannot be called back.
        assert await service.cancel(session=session, delivery_keys=["t:2"]) == 0
        counts = await service.count_by_state(session=session,
                                              workspace_id=world.workspace_id)
    assert await claim(sessions, now=utcnow() + timedelta(minutes=1)) == []
    assert counts == {DeliveryState.pending: 0, DeliveryState.sending: 1,
                      DeliveryState.sent: 0, DeliveryState.failed: 0,
                      DeliveryState.dead: 1, DeliveryState.cancelled: 1}
    assert (await rows(sessions))["t:1"].last_error == "channel_not_found"


async def test_erased_members_have_no_slack_id(
    session: AsyncSession, world: World
) -> None:
    erased, kept = world.members[:2]
    erased = await session.merge(erased)
    erased.erased_at = utcnow()
    await session.flush()
    found = await service.slack_user_ids(session=session, member_ids=[erased.id or 0,
                                                                       kept.id or 0])
    assert found == {kept.id: kept.slack_user_id}


def test_backoff_doubles_with_jitter_and_gives_up() -> None:
    policy = RetryPolicy(max_attempts=4, first_delay=2.0, max_delay=5.0)
    now = datetime(2026, 1, 5, tzinfo=UTC)
    rng = random.Random(1)
    delays = [(policy.next_attempt_at(attempts=n, now=now, rng=rng) or now) - now
              for n in (1, 2, 3)]
    assert timedelta(seconds=1) <= delays[0] <= timedelta(seconds=2)
    assert timedelta(seconds=2) <= delays[1] <= timedelta(seconds=4)
    assert timedelta(seconds=2.5) <= delays[2] <= timedelta(seconds=5)
    assert policy.next_attempt_at(attempts=4, now=now) is None


async def test_concurrent_claims_never_share_a_row(
    sessions: async_sessionmaker[AsyncSession], world: World
) -> None:
    await enqueue_texts(sessions, world, count=30)
    if BACKEND == "postgres":
        # Two transactions open at once: the second skips the rows the first has locked.
        async with sessions() as one, sessions() as two:
            now = utcnow()
            first = await service.claim_due(session=one, now=now, limit=20, worker_id="a",
                                            stale_after=STALE)
            second = await service.claim_due(session=two, now=now, limit=20, worker_id="b",
                                             stale_after=STALE)
            await two.commit()
            await one.commit()
        assert (len(first), len(second)) == (20, 10)
    else:
        # SQLite runs one process; its claims are serialised by the write lock.
        first = await claim(sessions, limit=20, worker_id="a")
        second = await claim(sessions, limit=20, worker_id="b")
        assert (len(first), len(second)) == (20, 10)
    assert not {row.id for row in first} & {row.id for row in second}
    owners = sorted(str(row.claimed_by) for row in (await rows(sessions)).values())
    assert owners == ["a"] * 20 + ["b"] * 10
