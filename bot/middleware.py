"""Global Bolt middleware: handle each Slack delivery once, and know who is asking."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.context import unit_of_work, user_id_of
from services.db import utcnow
from services.people.models import Member
from services.people.service import ensure_workspace, find_member, profile_is_stale, sync_member
from services.platform.service import first_sighting
from services.ports import SlackProfile

log = logging.getLogger("coachbot.slack")


def delivery_id(body: dict[str, Any]) -> str | None:
    """A stable id for one Slack delivery: the event id, or the interaction's trigger id."""
    if body.get("event_id"):
        return f"event:{body['event_id']}"
    if body.get("trigger_id"):
        return f"trigger:{body['trigger_id']}"
    if body.get("type") == "block_actions" and body.get("actions"):
        action = body["actions"][0]
        return f"action:{body.get('user', {}).get('id')}:{action.get('action_ts')}"
    return None


async def admit(
    body: dict[str, Any],
    context: AsyncBoltContext,
    client: AsyncWebClient,
    next: Any,
) -> BoltResponse | None:
    """Before the listener acks: drop repeated deliveries, and know who is asking.

    One short transaction does both, so the ack path takes one pooled connection, once.
    """
    key = delivery_id(body)
    user_id = user_id_of(body)
    team_id = context.team_id or context.enterprise_id
    async with unit_of_work(context, gated=False) as session:
        if key is not None and not await first_sighting(
            session=session, event_id=key, team_id=context.team_id
        ):
            log.info("ignoring repeated Slack delivery %s", key)
            return BoltResponse(status=200, body="")
        if user_id and team_id:
            context["member"] = await _member(session, client, team_id, user_id)
    await next()
    return None


async def _member(
    session: AsyncSession, client: AsyncWebClient, team_id: str, user_id: str
) -> Member:
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
