"""Publishing members' Home tabs: after the change commits, one render at a time each.

A member who clicks faster than their Home tab renders (or Slack takes it) gets one more
render after the one under way, which shows every change made meanwhile, instead of one
render per click: the last publish always starts after the last change committed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.blocks.home import home_view
from bot.blocks.validate import check_view
from bot.context import InFlight, after_commit, member_of
from services.db import transaction
from services.home import home_for
from services.people.models import Member

Tell = Callable[[Exception, str, AsyncWebClient], Awaitable[None]]


@dataclass
class _Ask:
    client: AsyncWebClient
    member: Member


class HomeTabs:
    """Renders and publishes Home tabs, folding a member's requests while one is under way."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        in_flight: InFlight,
        tell: Tell,
    ) -> None:
        self._sessions = sessions
        self._in_flight = in_flight
        self._tell = tell
        # Members whose render is under way, and the ask that follows it (if any).
        self._next: dict[tuple[int, int], _Ask | None] = {}
        # The tasks under way, held so none is collected before it finishes.
        self._tasks: set[asyncio.Task[None]] = set()

    def refresh(self, *, client: AsyncWebClient, member: Member) -> None:
        """Publish the member's Home tab as it is once their committed changes are read."""
        key = (member.workspace_id, member.id or 0)
        ask = _Ask(client=client, member=member)
        if key in self._next:
            self._next[key] = ask  # folded into one render after the current one
            return
        self._next[key] = None
        # Counted from now, so stopping waits for it even before the task starts.
        self._in_flight.begin(of_a_request=False)
        task = asyncio.create_task(self._publish(key, ask))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _publish(self, key: tuple[int, int], ask: _Ask | None) -> None:
        try:
            while ask is not None:
                try:
                    await self._publish_once(ask)
                except Exception as error:  # the change is made; say the tab is stale
                    await self._tell(error, ask.member.slack_user_id, ask.client)
                ask = self._next.pop(key)
                if ask is not None:
                    self._next[key] = None
        finally:
            if ask is not None:  # stopped mid-render (cancelled, or telling failed too)
                self._next.pop(key, None)  # so the member's next change renders again
            self._in_flight.end(of_a_request=False)

    async def _publish_once(self, ask: _Ask) -> None:
        async with self._in_flight.gate(), transaction(self._sessions) as session:
            view = home_view(await home_for(session=session, member=ask.member))
        # The limits this member's content decides; the Home builders' structure is held
        # to the full validate_view in their tests, which costs milliseconds a view.
        check_view(view)
        await ask.client.views_publish(user_id=ask.member.slack_user_id, view=view)


async def publish_home(
    *, context: AsyncBoltContext, client: AsyncWebClient, session: AsyncSession
) -> None:
    """Refresh the requester's Home tab once this unit of work commits (never a rolled-back
    change); the tab is rendered after the commit, so it shows what the work wrote."""
    tabs: HomeTabs = context["home_tabs"]
    member = member_of(context)

    async def refresh() -> None:
        tabs.refresh(client=client, member=member)

    await after_commit(session, refresh)
