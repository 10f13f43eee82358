"""What listeners share: the unit of work, the Slack member, and the actor they act as."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from slack_bolt.context.async_context import AsyncBoltContext
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from services.auth.models import Role
from services.auth.service import Actor, actor_for
from services.db import transaction
from services.people.models import Member


class InFlight:
    """Counts listener work under way, so shutdown can let it finish before closing the pool.

    Bolt runs a listener on after it acks, outside the request; without this, stopping
    the app could cut a transaction in half.
    """

    def __init__(self, *, limit: int = 8) -> None:
        self._count = 0
        self._idle = asyncio.Event()
        self._idle.set()
        # Work after the ack holds at most `limit` pooled connections, so the acks of new
        # requests never queue behind it for one.
        self._gate = asyncio.Semaphore(limit)

    @asynccontextmanager
    async def track(self, *, gated: bool = True) -> AsyncIterator[None]:
        self._count += 1
        self._idle.clear()
        try:
            if gated:
                async with self._gate:
                    yield
            else:
                yield
        finally:
            self._count -= 1
            if self._count == 0:
                self._idle.set()

    async def drain(self, *, within: float) -> bool:
        """Wait up to `within` seconds for the work under way; True if it all finished."""
        try:
            await asyncio.wait_for(self._idle.wait(), within)
        except TimeoutError:
            return False
        return True


@asynccontextmanager
async def unit_of_work(
    context: AsyncBoltContext, *, gated: bool = True
) -> AsyncIterator[AsyncSession]:
    """A session whose transaction commits when the listener's work succeeds.

    `gated=False` is for the short work before an ack, which must not wait behind the
    longer work listeners do after acking.
    """
    sessions: async_sessionmaker[AsyncSession] = context["sessions"]
    in_flight: InFlight = context["in_flight"]
    async with in_flight.track(gated=gated), transaction(sessions) as session:
        yield session


def member_of(context: AsyncBoltContext) -> Member:
    """The member behind this request (resolved by the members middleware)."""
    member: Member = context["member"]
    return member


async def leader_actor(session: AsyncSession, context: AsyncBoltContext) -> Actor:
    """The requesting member acting on their own plan."""
    member = member_of(context)
    return await actor_for(
        session=session, workspace_id=member.workspace_id, role=Role.leader, member_id=member.id
    )


def user_id_of(body: dict[str, Any]) -> str | None:
    """The Slack user a request comes from, whatever its kind."""
    if isinstance(body.get("user"), dict):
        return str(body["user"].get("id"))
    if body.get("user_id"):
        return str(body["user_id"])
    event = body.get("event")
    if isinstance(event, dict) and isinstance(event.get("user"), str):
        return str(event["user"])
    return None
