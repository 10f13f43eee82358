"""Global Bolt middleware: handle each Slack delivery once, and know who is asking."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

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


async def deduplicate(
    body: dict[str, Any],
    context: AsyncBoltContext,
    next: Any,
) -> BoltResponse | None:
    """Answer a retried or replayed delivery with 200 and do nothing else."""
    key = delivery_id(body)
    if key is not None:
        async with unit_of_work(context) as session:
            fresh = await first_sighting(session=session, event_id=key, team_id=context.team_id)
        if not fresh:
            log.info("ignoring repeated Slack delivery %s", key)
            return BoltResponse(status=200, body="")
    await next()
    return None


async def resolve_member(
    body: dict[str, Any],
    context: AsyncBoltContext,
    client: AsyncWebClient,
    next: Any,
) -> None:
    """Find (or create, from users.info) the member behind this request."""
    user_id = user_id_of(body)
    team_id = context.team_id or context.enterprise_id
    if user_id and team_id:
        async with unit_of_work(context) as session:
            workspace = await ensure_workspace(session=session, slack_team_id=team_id, name=team_id)
            member = await find_member(
                session=session, workspace_id=workspace.id or 0, slack_user_id=user_id
            )
            if member is None or profile_is_stale(member, now=utcnow()):
                profile = await _lookup(client, user_id)
                if profile is not None:
                    member = await sync_member(
                        session=session, workspace_id=workspace.id or 0, profile=profile
                    )
                elif member is None:
                    member = await sync_member(
                        session=session,
                        workspace_id=workspace.id or 0,
                        profile=SlackProfile(
                            slack_user_id=user_id,
                            name=user_id,
                            title=None,
                            timezone=None,
                            email=None,
                        ),
                    )
            context["member"] = member
    await next()


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


def member_or_none(context: AsyncBoltContext) -> Member | None:
    """The resolved member, if the request came from a person."""
    member: Member | None = context.get("member")
    return member
