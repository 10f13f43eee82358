"""Circle intros go to a group DM that does not exist until Slack opens it.

The outbox names such a target `circle:<id>` (a channel id is unknown when the round is
formed, and six user ids do not fit the outbox's channel column). `CircleGroupDMs` wraps
the messenger: for those rows it opens the group DM with `conversations.open` (all the
circle's members at once), remembers it on the circle, and hands the row on with the real
channel. Every other row passes straight through. Opening is idempotent at Slack's end,
so a retry after a crash finds the same conversation, and the messenger's own
reconciliation by delivery key keeps the intro from being posted twice.
"""

from __future__ import annotations

import asyncio
import logging

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.messenger import Deferred, Failed, Outcome, describe, is_permanent
from bot.worker import Messenger
from services.circles.mine import circle_group_dm, set_circle_channel
from services.circles.rounds import circle_id_of_channel
from services.db import transaction
from services.delivery.models import Delivery
from services.errors import NotFound

log = logging.getLogger(__name__)


class CircleGroupDMs:
    """A messenger that opens each circle's group DM before its intro is sent."""

    def __init__(
        self,
        *,
        inner: Messenger,
        client: AsyncWebClient,
        sessions: async_sessionmaker[AsyncSession],
        call_timeout: float = 10.0,
    ) -> None:
        self._inner = inner
        self._client = client
        self._sessions = sessions
        self._call_timeout = call_timeout

    async def deliver(
        self, delivery: Delivery, *, user_id: str | None = None, budget: float | None = None
    ) -> Outcome:
        """Send one claimed row, opening its circle's group DM first when it names one."""
        circle_id = circle_id_of_channel(delivery.channel)
        if circle_id is None or delivery.member_id is not None:
            return await self._inner.deliver(delivery, user_id=user_id, budget=budget)
        try:
            channel = await self.group_dm(circle_id)
        except NotFound as error:
            return Failed(error.detail, permanent=True)
        except SlackApiError as error:
            if error.response.status_code == 429:
                retry = float(error.response.headers.get("Retry-After", 1) or 1)
                return Deferred("ratelimited", max(1.0, retry))
            return Failed(describe(error), permanent=is_permanent(error))
        except (aiohttp.ClientError, TimeoutError) as error:
            return Failed(describe(error), permanent=False)
        resolved = delivery.model_copy(update={"channel": channel})
        return await self._inner.deliver(resolved, user_id=user_id, budget=budget)

    async def group_dm(self, circle_id: int) -> str:
        """The circle's group DM channel id, opened (and remembered) on first use."""
        async with self._sessions() as session:
            known, users = await circle_group_dm(session=session, circle_id=circle_id)
        if known:
            return known
        if not users:
            raise NotFound(f"circle {circle_id} has nobody left to write to")
        async with asyncio.timeout(self._call_timeout):
            opened = await self._client.conversations_open(users=",".join(users))
        channel = str(opened["channel"]["id"])
        async with transaction(self._sessions) as session:
            await set_circle_channel(session=session, circle_id=circle_id, channel=channel)
        log.info("opened the group DM for circle %s", circle_id)
        return channel
