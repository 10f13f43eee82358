"""Plain helpers for the outbox tests: seed rows, run a worker until the outbox is quiet,
and read back what the sandbox received."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

import aiohttp
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.messenger import EVENT_TYPE, SlackMessenger, slack_client
from bot.pacing import WorkspacePacer
from bot.render import Renderers, default_renderers
from bot.sandbox import SlackSandbox
from bot.worker import DeliveryWorker, Messenger
from services.db import transaction, utcnow
from services.delivery import service
from services.delivery.models import Delivery, DeliveryState
from services.delivery.service import NewDelivery, RetryPolicy
from services.people.models import Member
from tests.factories.people import make_member, make_workspace

QUICK_RETRIES = RetryPolicy(max_attempts=10, first_delay=0.05, max_delay=0.2)
UNFINISHED = (DeliveryState.pending, DeliveryState.failed, DeliveryState.sending)


@dataclass(frozen=True)
class World:
    workspace_id: int
    members: list[Member]


async def make_world(sessions: async_sessionmaker[AsyncSession], *, members: int) -> World:
    async with transaction(sessions) as session:
        workspace = await make_workspace(session)
        people = [await make_member(session, workspace) for _ in range(members)]
    return World(workspace_id=workspace.id or 0, members=people)


def make_messenger(
    sandbox: SlackSandbox,
    http: aiohttp.ClientSession,
    sessions: async_sessionmaker[AsyncSession],
    *,
    rate: float = 50.0,
    burst: int = 50,
    renderers: Renderers | None = None,
    call_timeout: float = 2.0,
) -> SlackMessenger:
    """A messenger on the sandbox; a fresh one has an empty DM cache, like a new process."""
    client = slack_client(token=sandbox.token, base_url=sandbox.base_url, session=http)
    return SlackMessenger(client=client, renderers=renderers or default_renderers(),
                          sessions=sessions, call_timeout=call_timeout,
                          pacer=WorkspacePacer(rate=rate, burst=burst, channel_interval=0.0))


async def enqueue_texts(
    sessions: async_sessionmaker[AsyncSession], world: World, *, count: int, prefix: str = "t",
    ago: timedelta = timedelta(),
) -> list[str]:
    """One text DM per member (cycling through them), due `ago`; returns the delivery keys."""
    keys = [f"{prefix}:{index}" for index in range(count)]
    due = utcnow() - ago
    async with transaction(sessions) as session:
        await service.enqueue_many(session=session, deliveries=[
            NewDelivery(workspace_id=world.workspace_id, delivery_key=key, kind="text",
                        intent={"kind": "text", "text": f"Message {key}"},
                        member_id=world.members[index % len(world.members)].id,
                        not_before=due)
            for index, key in enumerate(keys)])
    return keys


async def rows(sessions: async_sessionmaker[AsyncSession]) -> dict[str, Delivery]:
    async with sessions() as session:
        found = (await session.exec(select(Delivery).order_by(col(Delivery.id)))).all()
    return {row.delivery_key: row for row in found}


async def unfinished(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        counts = await service.count_by_state(session=session)
    return sum(counts[state] for state in UNFINISHED)


def worker(
    sessions: async_sessionmaker[AsyncSession], messenger: Messenger, **options: object
) -> DeliveryWorker:
    defaults: dict[str, object] = {"idle_interval": 0.02, "policy": QUICK_RETRIES,
                                   "stale_after": timedelta(seconds=30)}
    return DeliveryWorker(sessions=sessions, messenger=messenger,
                          **{**defaults, **options})  # type: ignore[arg-type]


async def run_until_quiet(
    sessions: async_sessionmaker[AsyncSession], *workers: DeliveryWorker, within: float = 20.0
) -> None:
    """Run the workers until no row is pending, failed or being sent."""
    for each in workers:
        await each.start()
    deadline = time.monotonic() + within
    try:
        while await unfinished(sessions):
            if time.monotonic() > deadline:
                raise AssertionError("the outbox did not drain in time")
            await asyncio.sleep(0.02)
    finally:
        for each in workers:
            await each.stop()


def posted_keys(sandbox: SlackSandbox) -> Counter[str]:
    """How many messages in the whole sandbox carry each delivery key."""
    keys: Counter[str] = Counter()
    for conversation in sandbox.workspace.conversations.values():
        for message in conversation.messages:
            metadata = message.get("metadata") or {}
            if metadata.get("event_type") == EVENT_TYPE:
                keys[metadata["event_payload"]["delivery_key"]] += 1
    return keys
