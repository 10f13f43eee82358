"""What listeners share: the unit of work, the Slack member, and the actor they act as."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.deliveries import Delivery, HandledDeliveries, RepeatedDelivery
from bot.members import MemberCache
from services.auth.models import Role
from services.auth.service import Actor, actor_for
from services.db import transaction
from services.errors import Invalid
from services.people.models import Member
from services.platform.service import first_sighting


class InFlight:
    """Counts listener work under way, so shutdown can let it finish before closing the pool,
    and gates how much of it computes at once.

    Bolt runs a listener on after it acks, outside the request; without the count, stopping
    the app could cut a transaction in half.
    """

    def __init__(self, *, limit: int = 2) -> None:
        self._count = 0
        self._idle = asyncio.Event()
        self._idle.set()
        # Room for more requests' work: fewer of them under way than twice the gate's
        # width, so one more waits at the gate for each that computes.
        self._requests = 0
        self._room_below = 2 * limit
        self._room = asyncio.Event()
        self._room.set()
        # At most `limit` units of work run at once: the rest wait here, holding no pooled
        # connection and taking no turns on the event loop, so the acks of new requests
        # never queue behind them.
        self._gate = asyncio.Semaphore(limit)

    @asynccontextmanager
    async def track(self) -> AsyncIterator[None]:
        """Count a request's work inside, so `drain` waits for it and `room` sees it."""
        self.begin()
        try:
            yield
        finally:
            self.end()

    def begin(self, *, of_a_request: bool = True) -> None:
        """Count one more piece of work under way (`end` it alike when it is done).

        Work that is not a request's own (a Home tab render, at most one per member
        waiting) counts for `drain` but takes no room from new requests.
        """
        self._count += 1
        self._idle.clear()
        if of_a_request:
            self._requests += 1
            if self._requests >= self._room_below:
                self._room.clear()

    def end(self, *, of_a_request: bool = True) -> None:
        """One piece of work `begin` counted is done."""
        self._count -= 1
        if of_a_request:
            self._requests -= 1
            if self._requests < self._room_below:
                self._room.set()
        if self._count == 0:
            self._idle.set()

    @asynccontextmanager
    async def gate(self) -> AsyncIterator[None]:
        """Wait for a turn to run a unit of work."""
        async with self._gate:
            yield

    async def room(self) -> None:
        """Wait until the work under way leaves room to start more."""
        await self._room.wait()

    async def drain(self, *, within: float) -> bool:
        """Wait up to `within` seconds for the work under way; True if it all finished."""
        try:
            await asyncio.wait_for(self._idle.wait(), within)
        except TimeoutError:
            return False
        return True


Send = Callable[[], Awaitable[object]]
_AFTER_COMMIT = "coachbot.after_commit"


@asynccontextmanager
async def unit_of_work(context: AsyncBoltContext) -> AsyncIterator[AsyncSession]:
    """A session whose transaction commits when the listener's work succeeds.

    The first unit of work of a request also records the request's delivery key, in the
    same transaction: a delivery whose work already committed raises RepeatedDelivery
    before any work, and work that failed leaves no key, so Slack's retry does it. It also
    confirms the member the middleware took from its cache (see MemberCache.confirm).

    Slack calls handed to `after_commit` are made once the transaction has committed and
    the gate and the connection are released, so a slow Slack holds neither.
    """
    sessions: async_sessionmaker[AsyncSession] = context["sessions"]
    in_flight: InFlight = context["in_flight"]
    delivery: Delivery | None = context.get("delivery")
    recording = delivery is not None and not delivery.recorded
    sends: list[Send] = []
    async with in_flight.track():
        async with in_flight.gate(), transaction(sessions) as session:
            session.info[_AFTER_COMMIT] = sends
            if delivery is not None and recording:
                await _record(session, delivery)
                if "member" in context:
                    members: MemberCache = context["members"]
                    await members.confirm(session, context["member"])
            yield session
        if delivery is not None and recording:
            delivery.recorded = True
            handled: HandledDeliveries = context["handled_deliveries"]
            handled.add(delivery.key)
        for send in sends:
            await send()


async def after_commit(session: AsyncSession, send: Send) -> None:
    """Make a Slack call once the session's unit of work commits (now, outside of one)."""
    sends: list[Send] | None = session.info.get(_AFTER_COMMIT)
    if sends is None:
        await send()
    else:
        sends.append(send)


async def _record(session: AsyncSession, delivery: Delivery) -> None:
    # On PostgreSQL a second attempt running at the same time waits here for the first
    # one's transaction, then finds its key (or, if that rolled back, records its own).
    if not await first_sighting(session=session, event_id=delivery.key, team_id=delivery.team_id):
        raise RepeatedDelivery(delivery.key)


def button_id(value: object) -> int:
    """The row id a button or a modal carries; anything else means the view is out of date."""
    try:
        return int(str(value))
    except ValueError as exc:
        raise Invalid("this button is out of date; open it again from where you found it") from exc


def member_of(context: AsyncBoltContext) -> Member:
    """The member behind this request (resolved by the admission middleware)."""
    member: Member = context["member"]
    return member


async def tell_requester(context: AsyncBoltContext, client: AsyncWebClient, text: str) -> None:
    """A message to the requesting member in their DM with Coachbot."""
    member = member_of(context)
    channel = (await client.conversations_open(users=member.slack_user_id))["channel"]["id"]
    await client.chat_postMessage(channel=channel, text=text)


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
