"""Global Bolt middleware: drop deliveries already handled, and know who is asking.

Nothing here touches the database for a member seen in the last few minutes, so the ack
of a click never waits for a pooled connection, nor for the work other clicks started.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.context import InFlight, user_id_of
from bot.deliveries import Delivery, HandledDeliveries, delivery_id
from bot.members import MemberCache, member_from_slack
from services.db import transaction, utcnow
from services.people.models import Member

log = logging.getLogger("coachbot.slack")

Middleware = Callable[..., Awaitable[BoltResponse | None]]


def admission(*, members: MemberCache, handled: HandledDeliveries) -> Middleware:
    """The middleware that admits each Slack request before its listener runs."""

    async def admit(
        body: dict[str, Any],
        context: AsyncBoltContext,
        client: AsyncWebClient,
        next: Callable[[], Awaitable[None]],
    ) -> BoltResponse | None:
        """Drop a delivery whose work is done, resolve the member, then run the listener."""
        key = delivery_id(body)
        if key is not None:
            if key in handled:
                log.info("ignoring repeated Slack delivery %s", key)
                return BoltResponse(status=200, body="")
            # Recorded by the listener's first unit of work, together with the work.
            context["delivery"] = Delivery(key=key, team_id=context.team_id)
        context["handled_deliveries"] = handled
        context["members"] = members
        user_id = user_id_of(body)
        team_id = context.team_id or context.enterprise_id
        if user_id and team_id:
            context["member"] = members.get(team_id, user_id) or await _read_member(
                members, context, client, team_id, user_id
            )
        if body.get("type") == "block_actions":
            # A click's ack carries nothing, so it is sent now: Bolt otherwise polls every
            # 10 ms for the listener's own ack() (which stays, and does nothing more).
            await context.ack()
        await next()
        return None

    return admit


async def _read_member(
    members: MemberCache,
    context: AsyncBoltContext,
    client: AsyncWebClient,
    team_id: str,
    user_id: str,
) -> Member:
    """First sight, or a cached row that expired: read (and maybe refresh) the member."""
    sessions: async_sessionmaker[AsyncSession] = context["sessions"]
    in_flight: InFlight = context["in_flight"]
    # Not gated: this runs before the ack, which must not wait behind work after acks.
    try:
        async with in_flight.track(), transaction(sessions) as session:
            member = await member_from_slack(session, client, team_id, user_id)
    except IntegrityError:
        # A request of the same person or new workspace created the row meanwhile.
        async with in_flight.track(), transaction(sessions) as session:
            member = await member_from_slack(session, client, team_id, user_id)
    return members.put(team_id, user_id, member, now=utcnow())
