"""Who is asking: the member behind a Slack user, kept in memory so an ack needs no database.

A member is read from the database (and created, or refreshed from `users.info`) the first
time a Slack user is seen, when the cached row is older than `ttl`, and when their copy of
the Slack profile is older than a day. Everything else before the ack is answered from
memory; the listener's first unit of work then confirms the row is unchanged.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from typing import Any, Final

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.orm import class_mapper, make_transient_to_detached
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.db import utcnow
from services.errors import Conflict
from services.people.models import Member
from services.people.service import (
    PROFILE_MAX_AGE,
    ensure_workspace,
    find_member,
    profile_is_stale,
    sync_member,
)
from services.ports import SlackProfile

log = logging.getLogger("coachbot.slack")

MEMBER_COLUMNS: Final = tuple(column.key for column in Member.__table__.columns)  # type: ignore[attr-defined]
_MEMBERS: Final = class_mapper(Member).class_manager


class MemberCache:
    """Members by (Slack team, Slack user), the least recently used dropped first.

    A cached row serves for `ttl` seconds after it was read, so a change made elsewhere
    (another replica, the REST API) reaches listeners within that time, and never past
    the day its Slack profile goes stale. Each request gets its own detached copy:
    listeners never share an ORM object across sessions.
    """

    def __init__(
        self,
        *,
        capacity: int = 10_000,
        ttl: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._capacity = capacity
        self._ttl = ttl
        self._clock = clock
        self._rows: OrderedDict[tuple[str, str], tuple[float, dict[str, Any]]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._rows)

    def get(self, team_id: str, user_id: str) -> Member | None:
        """A copy of the cached member, or None when it must be read (or refreshed) again."""
        key = (team_id, user_id)
        cached = self._rows.get(key)
        if cached is None:
            return None
        expires_at, values = cached
        if self._clock() >= expires_at:
            del self._rows[key]
            return None
        self._rows.move_to_end(key)
        return _detached(values)

    def put(self, team_id: str, user_id: str, member: Member, *, now: datetime) -> Member:
        """Remember a member as just read from the database; return a copy to use."""
        values = {name: getattr(member, name) for name in MEMBER_COLUMNS}
        fresh_for = (member.updated_at + PROFILE_MAX_AGE - now).total_seconds()
        # A profile that is stale already could not be refreshed: try again after `ttl`.
        lifetime = self._ttl if fresh_for <= 0 else min(self._ttl, fresh_for)
        self._rows[(team_id, user_id)] = (self._clock() + lifetime, values)
        self._rows.move_to_end((team_id, user_id))
        while len(self._rows) > self._capacity:
            self._rows.popitem(last=False)
        return _detached(values)

    async def confirm(self, session: AsyncSession, member: Member) -> None:
        """Check a cached member against its row, after the ack, in the listener's work.

        A row changed since it was cached is read afresh by the next request; a member
        erased or deleted meanwhile stops this request's work, so nothing new is stored
        against them.
        """
        statement = select(Member.updated_at, Member.erased_at).where(Member.id == member.id)
        row = (await session.exec(statement)).first()
        if row is not None and row[0] == member.updated_at:
            return
        for key in [k for k, (_, values) in self._rows.items() if values["id"] == member.id]:
            del self._rows[key]
        if row is None or row[1] is not None:
            raise Conflict("your Coachbot profile changed just now; please try again")


def _detached(values: dict[str, Any]) -> Member:
    # Built the way the ORM builds a row it loads (no __init__, whose per-field validation
    # and attribute events cost seven times as much), then detached: as if loaded by a
    # session that has closed, so adding it to a session updates the row, never inserts.
    member: Member = _MEMBERS.new_instance()
    member.__dict__.update(values)
    make_transient_to_detached(member)
    return member


async def member_from_slack(
    session: AsyncSession, client: AsyncWebClient, team_id: str, user_id: str
) -> Member:
    """The member for a Slack user, created or refreshed from `users.info` when needed."""
    workspace = await ensure_workspace(session=session, slack_team_id=team_id, name=team_id)
    workspace_id = workspace.id or 0
    member = await find_member(session=session, workspace_id=workspace_id, slack_user_id=user_id)
    if member is not None and not profile_is_stale(member, now=utcnow()):
        return member
    profile = await _lookup(client, user_id)
    if profile is None and member is not None:
        return member
    profile = profile or SlackProfile(
        slack_user_id=user_id, name=user_id, title=None, timezone=None, email=None
    )
    return await sync_member(session=session, workspace_id=workspace_id, profile=profile)


async def _lookup(client: AsyncWebClient, user_id: str) -> SlackProfile | None:
    try:
        response = await client.users_info(user=user_id)
    except SlackApiError as exc:
        log.warning("users.info failed for %s: %s", user_id, exc.response.get("error"))
        return None
    user = response.get("user") or {}
    profile = user.get("profile") or {}
    return SlackProfile(
        slack_user_id=user_id,
        name=profile.get("real_name") or user.get("real_name") or user.get("name") or user_id,
        title=profile.get("title") or None,
        timezone=user.get("tz") or None,
        email=profile.get("email") or None,
    )
